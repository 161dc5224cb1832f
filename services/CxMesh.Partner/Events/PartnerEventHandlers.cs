using CxMesh.Events.V1;
using CxMesh.Partner.Data;
using CxMesh.Partner.UseCases;
using CxMesh.Platform.Messaging;

namespace CxMesh.Partner.Events;

/// <summary>Each feedback item a partner's agreement covers is copied for it (<see cref="CopyForPartners"/>).</summary>
public sealed class FeedbackReceivedHandler(CopyForPartners copy) : IEventHandler<FeedbackReceived>
{
    public Task HandleAsync(FeedbackReceived evt, EventContext context, CancellationToken ct) => copy.CopyAsync(context, evt, ct);
}

/// <summary>A customer's erasure reaches the partner copies and published reports: their words go and the deletion is recorded.</summary>
public sealed class FeedbackErasedHandler(TimeProvider clock) : IEventHandler<FeedbackErased>
{
    public async Task HandleAsync(FeedbackErased evt, EventContext context, CancellationToken ct)
    {
        if (evt.CustomerId.Length == 0) throw new InvalidEventException("customer_id is missing.");
        var (items, reports) = await ReportStore.EraseAsync(context, CopyForPartners.CustomerRef(evt.CustomerId), ct);
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

/// <summary>A taxonomy change re-tagged the item: the partner copies that share themes follow.</summary>
public sealed class FeedbackRetaggedHandler : IEventHandler<FeedbackRetagged>
{
    public Task HandleAsync(FeedbackRetagged evt, EventContext context, CancellationToken ct)
    {
        if (!Guid.TryParse(evt.FeedbackId, out var feedbackId) || evt.TaxonomyVersion < 1) throw new InvalidEventException("feedback_id (a UUID) and taxonomy_version are required.");
        if (evt.Themes.Any(t => t.ThemeKey.Length == 0 || !double.IsFinite(t.SentimentScore))) throw new InvalidEventException("every theme needs a key and a sentiment score.");
        var themes = System.Text.Json.JsonSerializer.Serialize(evt.Themes.Select(t => new { key = t.ThemeKey, sentiment = t.SentimentScore }));
        return ReportStore.ReplaceThemesAsync(context, feedbackId, evt.TaxonomyVersion, themes, ct);
    }
}
