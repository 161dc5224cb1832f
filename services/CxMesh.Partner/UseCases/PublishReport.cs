using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CxMesh.Events.V1;
using CxMesh.Partner.Api;
using CxMesh.Partner.Data;
using CxMesh.Partner.V1;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Partner.UseCases;

/// <summary>
/// Builds a partner's report, records it in the disclosure ledger, publishes partner.report.published and queues the
/// webhook notification, all in one write: on demand (PublishReport) and on the agreement's cadence (the report scheduler).
/// A preview (validate_only) runs the same write and rolls it back: the same checks and figures, nothing recorded or sent.
/// </summary>
public sealed class PublishReport(
    [FromKeyedServices(PartnerModule.Name)] ServiceDatabase database, PartnerStore partners, ReportRenderer renderer)
{
    public async Task<Report> PublishAsync(string partnerId, DateOnly start, DateOnly end, CancellationToken ct, DateTime? scheduledFor = null, bool validateOnly = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var report = await PublishOnceAsync(partnerId, start, end, scheduledFor, validateOnly, ct);
                if (validateOnly) return report;
                PartnerMetrics.ReportPublishDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
                PartnerMetrics.ReportsPublished.Add(1);
                return report;
            }
            catch (ReportOutdatedException) when (attempt < 3)
            {
                // Feedback for the period arrived while the report was built: build it again from the new state.
            }
        }
    }

    private async Task<Report> PublishOnceAsync(string partnerId, DateOnly start, DateOnly end, DateTime? scheduledFor, bool validateOnly, CancellationToken ct)
    {
        var partner = await partners.GetAsync(partnerId, ct) ?? throw new NotFoundException("partner", partnerId);
        if (partner.Status != "active") throw new PreconditionFailedException("PARTNER_SUSPENDED", $"partner {partner.Id} is suspended.", "partner_id");
        var agreement = await partners.ActiveAsync(partner.Id, ct)
            ?? throw new PreconditionFailedException("NO_ACTIVE_AGREEMENT", $"partner {partner.Id} has no active sharing agreement: nothing is shared without one.", "partner_id");
        var (report, periodItems) = await renderer.BuildAsync(partner, agreement, start, end, ct);
        await using var write = await database.BeginWriteAsync(ct);
        report.PublishedAt = Timestamp.FromDateTimeOffset(write.Now);
        report.ContentHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(report))));
        var published = new PartnerReportPublished
        {
            OccurredAt = report.PublishedAt,
            ReportId = report.ReportId,
            PartnerId = partner.Id,
            AgreementId = report.AgreementId,
            AgreementVersion = report.AgreementVersion,
            StartDate = report.StartDate,
            EndDate = report.EndDate,
            Items = report.Items,
            Fields = { agreement.Fields },
            ContentHash = report.ContentHash,
        };
        await ReportStore.RecordAsync(write, new LedgerEntry(Guid.Parse(report.ReportId), partner.Id, agreement.AgreementId, agreement.Version, start, end,
            periodItems, !report.Suppressed, agreement.Fields, JsonFormatter.Default.Format(report), report.ContentHash, report.PublishedAt.ToDateTime(), scheduledFor), ct);
        await write.PublishAsync(Topics.PartnerReportPublished, published, report.ReportId, ct);
        if (partner.WebhookUrl is { } url)
        {
            // A small notification: what, when and where to fetch it; never the report's content.
            var payload = JsonSerializer.Serialize(new
            {
                type = "report.published",
                report_id = report.ReportId,
                partner_id = partner.Id,
                period = new { start = report.StartDate, end = report.EndDate },
                links = new
                {
                    json = $"/v1/me/reports/{report.ReportId}",
                    grpc = "cxmesh.partner.v1.PartnerService/DownloadMyReport",
                },
            });
            await WebhookStore.EnqueueAsync(write, Guid.CreateVersion7(), partner.Id, Guid.Parse(report.ReportId), "report.published", url, payload, ct);
        }
        if (validateOnly)
        {
            // A preview ends here: the ledger entry, the event and the webhook are rolled back.
            await write.RollbackAsync(ct);
            return report;
        }
        await write.CommitAsync(ct);
        return report;
    }
}

