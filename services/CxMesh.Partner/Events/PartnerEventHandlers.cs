using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Partner.Data;
using CxMesh.Platform.Messaging;

namespace CxMesh.Partner.Events;

/// <summary>
/// Keeps a partner-scoped copy of each feedback item that a partner's mapping and active agreement cover, holding
/// only the agreed fields: never contact details or customer ids (a hash of the customer id is kept apart, only to
/// honour erasures).
/// </summary>
public sealed class FeedbackReceivedHandler : IEventHandler<FeedbackReceived>
{
    public async Task HandleAsync(FeedbackReceived evt, EventContext context, CancellationToken ct)
    {
        if (!Guid.TryParse(evt.FeedbackId, out var feedbackId)) throw new InvalidEventException("feedback_id is missing or not a UUID.");
        if (evt.GivenAt is null) throw new InvalidEventException("given_at is missing.");
        if (evt.DuplicateOf.Length > 0) return; // counted once: the first saying was shared already

        var links = new List<(string, string)>();
        if (evt.ProductId.Length > 0) links.Add(("product", evt.ProductId));
        if (evt.LotId.Length > 0) links.Add(("lot", evt.LotId));
        if (evt.JourneyId.Length > 0) links.Add(("journey", evt.JourneyId));
        if (evt.TouchpointKey.Length > 0) links.Add(("touchpoint", evt.TouchpointKey));
        foreach (var agreement in await ReportStore.CoveringAgreementsAsync(context, links, ct))
        {
            var fields = agreement.Fields.ToHashSet();
            var ratings = fields.Contains("ratings");
            var nps = evt.Ratings.FirstOrDefault(r => r.Metric is Metric.Nps);
            var csat = evt.Ratings.FirstOrDefault(r => r.Metric is Metric.Csat);
            var ces = evt.Ratings.FirstOrDefault(r => r.Metric is Metric.Ces);
            await ReportStore.CopyAsync(context, new PartnerItem(
                agreement.PartnerId, feedbackId, agreement.AgreementId, agreement.Version, evt.GivenAt.ToDateTime(),
                NullIfEmpty(evt.JourneyId), NullIfEmpty(evt.TouchpointKey), NullIfEmpty(evt.ProductId), NullIfEmpty(evt.LotId),
                ratings ? nps?.Value : null,
                ratings ? csat?.Value : null,
                ratings && csat is not null ? csat.TopBoxValues.Contains(csat.Value) : null,
                ratings ? ces?.Value : null,
                fields.Contains("sentiment") && evt.RedactedVerbatim.Length > 0 ? evt.SentimentScore : null,
                fields.Contains("themes") ? JsonSerializer.Serialize(evt.Themes.Select(t => new { key = t.ThemeKey, sentiment = t.SentimentScore })) : null,
                fields.Contains("redacted_verbatims") ? NullIfEmpty(evt.RedactedVerbatim) : null,
                evt.CustomerId.Length > 0 ? CustomerRef(evt.CustomerId) : null), ct);
        }
    }

    public static string CustomerRef(string customerId) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("cxmesh-partner:" + customerId)));

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}

/// <summary>A customer's erasure reaches the partner copies and published reports: their words go and the deletion is recorded.</summary>
public sealed class FeedbackErasedHandler(TimeProvider clock) : IEventHandler<FeedbackErased>
{
    public async Task HandleAsync(FeedbackErased evt, EventContext context, CancellationToken ct)
    {
        if (evt.CustomerId.Length == 0) throw new InvalidEventException("customer_id is missing.");
        var (items, reports) = await ReportStore.EraseAsync(context, FeedbackReceivedHandler.CustomerRef(evt.CustomerId), ct);
        var messages = await Erasures.ForgetMessagesAsync(context, evt.CustomerId, ct);
        await Erasures.ReportAsync(context, evt, PartnerModule.Name,
            new Dictionary<string, long> { ["partner_copies"] = items, ["published_reports"] = reports, ["messages"] = messages }, clock.GetUtcNow(), ct);
    }
}

/// <summary>Governance's decision on a pending agreement version (or the admin stand-in's, through the same path).</summary>
public sealed class SharingDecidedHandler : IEventHandler<SharingDecided>
{
    public Task HandleAsync(SharingDecided evt, EventContext context, CancellationToken ct)
    {
        if (!Guid.TryParse(evt.AgreementId, out var agreementId) || evt.Version < 1) throw new InvalidEventException("agreement_id and version are required.");
        return PartnerStore.ApplyDecisionAsync(context, agreementId, evt.Version, evt.Approved,
            evt.DecidedBy, evt.Reason, evt.OccurredAt?.ToDateTime() ?? DateTime.UtcNow, ct);
    }
}

/// <summary>Governance settled a dispute: the outcome is recorded on the response and the partner is told.</summary>
public sealed class PartnerResponseUpdatedHandler : IEventHandler<PartnerResponseUpdated>
{
    public async Task HandleAsync(PartnerResponseUpdated evt, EventContext context, CancellationToken ct)
    {
        if (!Guid.TryParse(evt.ResponseId, out var responseId) || evt.PartnerId.Length == 0 || evt.Status is not ("resolved" or "closed"))
        {
            throw new InvalidEventException("response_id, partner_id and a status (resolved or closed) are required.");
        }
        if (!await ReportStore.SettleDisputeAsync(context, responseId, evt.PartnerId, evt.Status, evt.Outcome, ct))
        {
            throw new InvalidEventException($"response {evt.ResponseId} is no dispute of partner {evt.PartnerId}.");
        }
    }
}

/// <summary>An item's redacted words changed (its customer's name became known): the partner copy and published reports follow.</summary>
public sealed class FeedbackRedactedHandler : IEventHandler<FeedbackRedacted>
{
    public Task HandleAsync(FeedbackRedacted evt, EventContext context, CancellationToken ct) =>
        Guid.TryParse(evt.FeedbackId, out var feedbackId)
            ? ReportStore.ReplaceRedactedAsync(context, feedbackId, evt.RedactedVerbatim, ct)
            : throw new InvalidEventException("feedback_id is missing or not a UUID.");
}
