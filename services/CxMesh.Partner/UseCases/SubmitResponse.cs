using System.Globalization;
using CxMesh.Events.V1;
using CxMesh.Partner.Data;
using CxMesh.Partner.V1;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Platform.Validation;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using static CxMesh.Platform.Validation.Identifiers;

namespace CxMesh.Partner.UseCases;

/// <summary>
/// A partner answers a report: acknowledges it, disputes one of its items (with a reason) or commits to an action (owner,
/// due date) and later updates the commitment's status. Stored with partner.response.received in one write.
/// </summary>
public sealed class SubmitResponse([FromKeyedServices(PartnerModule.Name)] ServiceDatabase database, ReportStore reports)
{
    /// <summary>Returns the response's id (the commitment's, for an update).</summary>
    public async Task<Guid> SubmitAsync(string partnerId, Guid reportId, SubmitResponseRequest request, CancellationToken ct)
    {
        var update = request.ResponseId.Length > 0;
        var check = new Violations();
        Guid? feedbackId = null;
        DateOnly? due = null;
        var kind = request.Kind switch
        {
            ResponseKind.Acknowledgement => "acknowledgement",
            ResponseKind.Dispute => "dispute",
            ResponseKind.Commitment => "commitment",
            _ => null,
        };
        if (kind is null) check.Add("kind", "kind must be an acknowledgement, a dispute or a commitment.");
        if (request.Text.Length > 2000) check.Add("text", "text is at most 2000 characters.");
        if (update)
        {
            if (kind != "commitment") check.Add("kind", "only commitments are updated.");
            if (!Guid.TryParse(request.ResponseId, out _)) check.Add("response_id", "response_id must be a response id (a UUID).");
            if (request.Status is not ("open" or "in-progress" or "done")) check.Add("status", "status must be open, in-progress or done.");
        }
        else if (kind == "dispute")
        {
            if (request.Text.Trim().Length == 0) check.Add("text", "a dispute needs a reason.");
            if (!Guid.TryParse(request.FeedbackId, out var f)) check.Add("feedback_id", "a dispute names the feedback item (its id).");
            else if (!await reports.ItemInReportAsync(reportId, f, ct)) throw new NotFoundException("feedback item", request.FeedbackId);
            else feedbackId = f;
        }
        else if (kind == "commitment")
        {
            if (request.Text.Trim().Length == 0) check.Add("text", "a commitment describes the action.");
            if (request.Owner.Trim().Length is 0 or > 200) check.Add("owner", "a commitment has an owner at the partner (at most 200 characters).");
            due = ParseDate(request.DueDate);
            if (due is null || due < DateOnly.FromDateTime(database.Clock.GetUtcNow().UtcDateTime)) check.Add("due_date", "due_date must be a date (yyyy-MM-dd), not in the past.");
        }
        check.ThrowIfAny();

        var responseId = update ? Guid.Parse(request.ResponseId) : Guid.CreateVersion7();
        var status = kind switch { "commitment" => update ? request.Status : "open", "dispute" => "open", _ => "received" };
        var disputed = feedbackId is { } disputedItem ? await reports.ItemVerbatimAsync(partnerId, disputedItem, ct) : null;
        var evt = new PartnerResponseReceived
        {
            ResponseId = responseId.ToString(),
            PartnerId = partnerId,
            ReportId = reportId.ToString(),
            Kind = kind!,
            FeedbackId = feedbackId?.ToString() ?? "",
            Text = request.Text,
            Owner = request.Owner,
            DueDate = due?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
            Status = status,
            DisputedVerbatim = disputed ?? "",
        };
        await using var write = await database.BeginWriteAsync(ct);
        evt.OccurredAt = Timestamp.FromDateTimeOffset(write.Now);
        if (!await ReportStore.RespondAsync(write, responseId, partnerId, reportId, kind!, feedbackId, NullIfEmpty(request.Text), NullIfEmpty(request.Owner), due,
                status, update, ct))
        {
            throw new NotFoundException("commitment", request.ResponseId);
        }
        await write.PublishAsync(Topics.PartnerResponseReceived, evt, ct);
        await write.CommitAsync(ct);
        return responseId;
    }


    private static DateOnly? ParseDate(string value) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;
}
