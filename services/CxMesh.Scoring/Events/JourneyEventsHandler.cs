using CxMesh.Events.V1;
using CxMesh.Platform.Messaging;
using CxMesh.Scoring.Data;
using CxMesh.Scoring.Domain;

namespace CxMesh.Scoring.Events;

/// <summary>
/// Keeps scoring's projection of where customers were (for attributing feedback without a journey link) and what
/// they did each month (for the value of experience); the in-process transport's batches at once.
/// </summary>
public sealed class TouchpointRecordedHandler : IBatchEventHandler<JourneyTouchpointRecorded>
{
    public async Task<IReadOnlyDictionary<int, string>> HandleManyAsync(IReadOnlyList<JourneyTouchpointRecorded> events, EventContext context, CancellationToken ct)
    {
        var errors = new Dictionary<int, string>();
        var usable = new List<JourneyTouchpointRecorded>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var evt = events[i];
            if (evt.CustomerId.Length == 0 || evt.JourneyKey.Length == 0 || evt.TouchpointKey.Length == 0 || evt.OccurredAt is null)
            {
                errors[i] = "customer_id, journey_key, touchpoint_key and occurred_at are required.";
            }
            else if (evt.Revenue is not (>= 0 and <= MaxAmount) || evt.CostToServe is not (>= 0 and <= MaxAmount))
            {
                errors[i] = "revenue and cost_to_serve must be numbers from 0 to 1,000,000,000.";
            }
            else
            {
                usable.Add(evt);
            }
        }
        // A referral is credited to the customer it names, never to the newcomer themself.
        var referrals = usable.Where(e => e.Attributes.TryGetValue(ReferredBy, out var by) && by.Length is > 0 and <= 128 && by != e.CustomerId)
            .Select(e => (Referrer: e.Attributes[ReferredBy], Referred: e.CustomerId, Month: ValueBases.MonthOf(e.OccurredAt.ToDateTime()))).ToList();
        var stages = await StageStore.BeforeAsync(context,
            usable.Select(e => e.CustomerId).Concat(referrals.Select(r => r.Referrer)).ToHashSet(StringComparer.Ordinal), ct);
        await AttributionStore.RecordManyAsync(context, usable, ct);
        await ValueStore.AddTouchpointsAsync(context,
            usable.Select(e => new ValueTouchpoint(e.CustomerId, e.OccurredAt.ToDateTime(), e.Revenue, e.CostToServe)).ToList(), ct);
        await StageStore.AddHistoryAsync(context,
            usable.Select(e => (e.CustomerId, ValueBases.MonthOf(e.OccurredAt.ToDateTime()), StageRule.TouchpointKey(e.JourneyKey, e.TouchpointKey))).ToList(),
            referrals, ct);
        await StageStore.AfterAsync(context, stages, ct);
        return errors;
    }

    private const double MaxAmount = 1_000_000_000;
    private const string ReferredBy = "referred_by";
}

/// <summary>Scores are anonymous and stay; what scoring holds of the customer (touchpoints, alert details) goes.</summary>
public sealed class FeedbackErasedHandler(TimeProvider clock) : IEventHandler<FeedbackErased>
{
    public async Task HandleAsync(FeedbackErased evt, EventContext context, CancellationToken ct)
    {
        if (evt.CustomerId.Length == 0) throw new InvalidEventException("customer_id is missing.");
        var touchpoints = await AttributionStore.EraseAsync(context, evt.CustomerId, ct);
        var (answers, months) = await ValueStore.EraseAsync(context, evt.CustomerId, ct);
        var history = await StageStore.EraseAsync(context, evt.CustomerId, ct);
        var alerts = await AlertStore.EraseAsync(context, evt.CustomerId, ct);
        var messages = await Erasures.ForgetMessagesAsync(context, evt.CustomerId, ct);
        await Erasures.ReportAsync(context, evt, ScoringModule.Name,
            new Dictionary<string, long>
            {
                ["attribution_touchpoints"] = touchpoints,
                ["alerts"] = alerts,
                ["messages"] = messages,
                ["value_answers"] = answers,
                ["value_months"] = months,
                ["stage_history"] = history,
            }, clock.GetUtcNow(), ct);
    }
}

/// <summary>An item's redacted words changed (its customer's name became known): alerts quoting it follow.</summary>
public sealed class FeedbackRedactedHandler : IEventHandler<FeedbackRedacted>
{
    public async Task HandleAsync(FeedbackRedacted evt, EventContext context, CancellationToken ct)
    {
        if (evt.FeedbackId.Length == 0) throw new InvalidEventException("feedback_id is missing.");
        await AlertStore.ReplaceRedactedAsync(context, evt.FeedbackId, evt.RedactedVerbatim, ct);
    }
}

/// <summary>Keeps scoring's copy of the partner mappings, so responses are scored by partner too.</summary>
public sealed class PartnerMappingChangedHandler : IEventHandler<PartnerMappingChanged>
{
    public Task HandleAsync(PartnerMappingChanged evt, EventContext context, CancellationToken ct)
    {
        if (evt.PartnerId.Length == 0 || evt.Value.Length == 0 || evt.Kind is not ("product" or "lot" or "journey" or "touchpoint"))
        {
            throw new InvalidEventException("partner_id, a kind (product, lot, journey, touchpoint) and a value are required.");
        }
        return PartnerMappings.ApplyAsync(context, evt, ct);
    }
}
