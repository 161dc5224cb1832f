using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Data;
using CxMesh.Scoring.Domain;
using CxMesh.Scoring.Workers;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace CxMesh.Scoring.UseCases;

/// <summary>
/// Adds each rating of a feedback item to the daily statistics of every scope it counts in (all, each dimension,
/// each two dimensions), adds its themes to the key-driver sums, and raises an item alert (<see cref="AlertRules"/>),
/// all in the write that consumes the events; the hot scores of the touched scopes are refreshed after commit. Batches
/// are summed in memory and written with one statement per table.
/// </summary>
public sealed class ScoreFeedback(HotScoreRefresher refresher, IOptions<ScoringOptions> options)
{
    private sealed record Accepted(FeedbackReceived Event, IReadOnlyList<(QuestionDefinition Question, RatingStats Stats)> Ratings, DateTime GivenAt);

    /// <summary>Scores the events; returns the unusable ones by index with their error (they had no effect).</summary>
    public async Task<IReadOnlyDictionary<int, string>> ScoreManyAsync(WriteScope write, IReadOnlyList<FeedbackReceived> events, CancellationToken ct)
    {
        // Everything is checked before anything is written, so an unusable event has no effect.
        var errors = new Dictionary<int, string>();
        var accepted = new List<Accepted>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var evt = events[i];
            try
            {
                if (string.IsNullOrEmpty(evt.FeedbackId)) throw new InvalidEventException("feedback_id is missing.");
                if (evt.GivenAt is null) throw new InvalidEventException("given_at is missing.");
                if (!Guid.TryParse(evt.FeedbackId, out _)) throw new InvalidEventException("feedback_id is not a UUID.");
                if (evt.Units.Concat(evt.PraisedUnits).Any(u => u.Key.Length is 0 or > ScopePart.MaxUnitKeyLength || u.Name.Length > 256 || u.ParentKey.Length > ScopePart.MaxUnitKeyLength))
                {
                    throw new InvalidEventException("a unit has no key, or a key, name or parent too long.");
                }
                if (!double.IsFinite(evt.SentimentScore) || evt.Themes.Any(t => !double.IsFinite(t.SentimentScore)))
                {
                    throw new InvalidEventException("sentiment scores must be numbers from -1 to 1.");
                }
                var ratings = evt.Ratings.Select(r => Definition(r)).Select((q, n) => (q, q.Of(evt.Ratings[n].Value))).ToList();
                // Customers' and employees' figures never mix: feedback refuses such ratings; an event from before it did is scored without them.
                ratings.RemoveAll(r => !FitsAudience(r.q.Metric, evt.Audience));
                // A repeated saying of the same customer (a syndicated review) counts once: the first time.
                if (evt.DuplicateOf.Length == 0) accepted.Add(new Accepted(evt, ratings, evt.GivenAt.ToDateTime()));
            }
            catch (InvalidEventException ex)
            {
                errors[i] = ex.Message;
            }
        }

        // No journey link: the customer's latest touchpoint within the attribution window, from journey's events.
        var unlinked = accepted.Where(a => a.Event.Journey.Length == 0 && a.Event.CustomerId.Length > 0).ToList();
        var attribution = new Dictionary<Accepted, (string JourneyKey, string TouchpointKey)>(ReferenceEqualityComparer.Instance);
        if (unlinked.Count > 0)
        {
            var found = await AttributionStore.FindManyAsync(write,
                unlinked.Select(a => (a.Event.CustomerId, a.GivenAt)).ToList(), options.Value.AttributionWindow, ct);
            for (var i = 0; i < unlinked.Count; i++)
            {
                if (found[i] is { } f) attribution[unlinked[i]] = f;
            }
        }

        // The partners each response concerns, through the partner service's mappings.
        var mappings = await PartnerMappings.FindAsync(write,
            accepted.SelectMany(a => Links(a.Event, attribution.TryGetValue(a, out var f) ? f.JourneyKey : a.Event.Journey, a.Event.TouchpointKey)).Distinct().ToList(), ct);

        // A re-tag that came before its item: the item is summed with the re-tag's themes.
        // Only an item with words has themes, so only such an item can be waiting with one.
        var pending = await DriverStore.PendingAsync(write,
            accepted.Where(a => a.Event.RedactedVerbatim.Length > 0).Select(a => Guid.Parse(a.Event.FeedbackId)).ToList(), ct);

        var ratingDeltas = new Dictionary<(string Scope, string Question, DateOnly Day), (QuestionDefinition Question, RatingStats Stats)>();
        var driverDeltas = new Dictionary<DriverKey, DriverDelta>();
        var driverItems = new List<DriverItem>();
        var alerts = new List<(string, AlertRaised)>();
        var touched = new HashSet<string>(StringComparer.Ordinal);
        var valueAnswers = new List<ValueAnswer>();
        var units = new List<(UnitRow, DateTime)>();
        var praise = new Dictionary<(string Unit, DateOnly Day), long>();
        foreach (var a in accepted)
        {
            var evt = a.Event;
            string journey = evt.Journey, touchpoint = evt.TouchpointKey;
            if (attribution.TryGetValue(a, out var f)) (journey, touchpoint) = (f.JourneyKey, touchpoint.Length > 0 ? touchpoint : f.TouchpointKey);
            var day = DateOnly.FromDateTime(a.GivenAt);
            var parts = PartsOf(evt, journey, touchpoint);
            var describedAt = evt.OccurredAt?.ToDateTime() ?? a.GivenAt;
            units.AddRange(evt.Units.Concat(evt.PraisedUnits).Select(u => (UnitOf(u), describedAt)));
            foreach (var u in evt.PraisedUnits.Select(u => u.Key).Distinct()) praise[(u, day)] = praise.GetValueOrDefault((u, day)) + 1;
            foreach (var partner in Links(evt, journey, touchpoint).SelectMany(l => mappings.TryGetValue(l, out var p) ? p : []).Distinct().Order(StringComparer.Ordinal))
            {
                parts.Add(new ScopePart(ScopeDimension.Partner, partner));
            }
            // A customer's NPS answer: what they do the month after is followed (the value of experience).
            if (evt.CustomerId.Length > 0 && a.Ratings.FirstOrDefault(r => r.Question.Metric == MetricKind.Nps) is { Question: not null } nps)
            {
                valueAnswers.Add(new ValueAnswer(evt.CustomerId, ValueBases.MonthOf(a.GivenAt), ValueBases.Of(parts, evt.Journey, evt.TouchpointKey, journey),
                    (int)nps.Stats.Sum, a.GivenAt, Guid.Parse(evt.FeedbackId)));
            }
            if (a.Ratings.Count > 0)
            {
                foreach (var scope in ScoreScope.ScopesOf(parts))
                {
                    touched.Add(scope.Key);
                    foreach (var (question, stats) in a.Ratings)
                    {
                        var key = (scope.Key, question.Id, day);
                        ratingDeltas[key] = (question, ratingDeltas.TryGetValue(key, out var sum) ? sum.Stats + stats : stats);
                    }
                }
            }
            var id = Guid.Parse(evt.FeedbackId);
            var (themes, version) = pending.TryGetValue(id, out var retag) && retag.Version > evt.TaxonomyVersion
                ? (retag.Themes, retag.Version)
                : (evt.Themes.Where(t => t.ThemeKey.Length > 0).Select(t => (t.ThemeKey, Math.Clamp(t.SentimentScore, -1, 1))).ToList(), evt.TaxonomyVersion);
            // Every voice with text, rated or not, counts in the text population: volumes, theme and sentiment trends, text drivers.
            var (outcomes, attributes) = Outcomes(evt);
            var item = new DriverItem(id, day, ScoreScope.DriverScopesOf(parts).Select(s => s.Key).ToList(), outcomes,
                evt.RedactedVerbatim.Length > 0 ? Math.Clamp(evt.SentimentScore, -1, 1) : null, themes, version, attributes);
            DriverStore.AccumulateItem(driverDeltas, item);
            // Kept so a re-tag can move its sums; an item without words never has themes, so is never re-tagged.
            if (item.TextSentiment is not null) driverItems.Add(item);
            if (AlertOf(evt, journey, touchpoint, a.Ratings, write.Now) is { } alert) alerts.Add(($"item:{evt.FeedbackId}", alert));
        }

        await ScoreStore.AddRatingsAsync(write,
            ratingDeltas.Select(r => (r.Key.Scope, r.Value.Question, r.Key.Day, r.Value.Stats)).ToList(), ct);
        await DriverStore.AddAsync(write, driverDeltas, ct);
        await UnitStore.RecordAsync(write, units, praise, ct);
        // A customer's answers move their value figures and, through their history, their relationship stage.
        var stages = await StageStore.BeforeAsync(write, valueAnswers.Select(a => a.CustomerId).ToHashSet(StringComparer.Ordinal), ct);
        await ValueStore.AddAnswersAsync(write, valueAnswers, ct);
        await StageStore.AfterAsync(write, stages, ct);
        // Recorded, so a re-tag can move each item's sums exactly; a re-tag stored meanwhile means going round again.
        var completed = await DriverStore.RecordItemsAsync(write, driverItems, ct);
        if (!completed.SetEquals(pending.Keys.Intersect(driverItems.Select(i => i.FeedbackId))))
        {
            throw new InvalidOperationException("A re-tag of items in this batch arrived while they were scored; the batch is scored again.");
        }
        // One alert per feedback item, however often the event is delivered.
        await RaiseAlerts.RaiseAsync(write, alerts, ct);
        if (touched.Count > 0)
        {
            var acknowledged = accepted.Where(a => a.Ratings.Count > 0 && a.Event.OccurredAt is not null)
                .Select(a => a.Event.OccurredAt.ToDateTimeOffset()).ToList();
            write.AfterCommit(_ =>
            {
                refresher.MarkDirty(touched, acknowledged);
                return Task.CompletedTask;
            });
        }
        return errors;
    }

    private static IEnumerable<(string Kind, string Value)> Links(FeedbackReceived evt, string journey, string touchpoint)
    {
        if (evt.ProductId.Length > 0) yield return ("product", evt.ProductId);
        if (evt.LotId.Length > 0) yield return ("lot", evt.LotId);
        if (journey.Length > 0) yield return ("journey", journey);
        if (touchpoint.Length > 0) yield return ("touchpoint", touchpoint);
    }

    private static List<ScopePart> PartsOf(FeedbackReceived evt, string journey, string touchpoint)
    {
        var parts = new List<ScopePart>();
        if (journey.Length > 0) parts.Add(new ScopePart(ScopeDimension.Journey, journey));
        if (touchpoint.Length > 0) parts.Add(new ScopePart(ScopeDimension.Touchpoint, touchpoint));
        if (evt.Channel != Channel.Unspecified) parts.Add(new ScopePart(ScopeDimension.Channel, ChannelNames.Name(evt.Channel)!));
        if (evt.ProductId.Length > 0) parts.Add(new ScopePart(ScopeDimension.Product, evt.ProductId));
        if (evt.LotId.Length > 0) parts.Add(new ScopePart(ScopeDimension.Lot, evt.LotId));
        if (evt.StoreId.Length > 0) parts.Add(new ScopePart(ScopeDimension.Store, evt.StoreId));
        foreach (var (attribute, value) in evt.Segment.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (value.Length > 0) parts.Add(new ScopePart(ScopeDimension.Segment, value, attribute));
        }
        if (evt.RedactedVerbatim.Length > 0 && evt.Language.Length > 0) parts.Add(new ScopePart(ScopeDimension.Language, evt.Language));
        // The item's unit and every unit above it: a store's figures hold its teams' and agents'.
        foreach (var unit in evt.Units.Select(u => u.Key).Distinct()) parts.Add(new ScopePart(ScopeDimension.Unit, unit));
        parts.Add(new ScopePart(ScopeDimension.Audience, IsEmployee(evt) ? ScoreScope.Employees : ScoreScope.Customers));
        return parts;
    }

    private static bool IsEmployee(FeedbackReceived evt) => evt.Audience == ScoreScope.Employees;

    private static UnitRow UnitOf(UnitRef unit) => new(unit.Key, UnitKinds.Name(unit.Kind), unit.Name, unit.ParentKey.Length > 0 ? unit.ParentKey : null);

    /// <summary>eNPS is employees', NPS, CSAT and CES customers'; custom questions belong to whoever their items come from.</summary>
    private static bool FitsAudience(MetricKind metric, string audience) => metric switch
    {
        MetricKind.Enps => audience == ScoreScope.Employees,
        MetricKind.Custom => true,
        _ => audience != ScoreScope.Employees,
    };

    private static QuestionDefinition Definition(RatingValue r)
    {
        var metric = MetricKinds.FromProto(r.Metric) ?? throw new InvalidEventException($"rating of question '{r.QuestionId}' has no metric.");
        if (r.QuestionId.Length is 0 or > 64) throw new InvalidEventException("a rating's question_id is missing or too long.");
        if (r.DriverOf.Length > 64 || r.DriverOf == r.QuestionId) throw new InvalidEventException($"rating of question '{r.QuestionId}' names no usable driver_of question.");
        if (r.ScaleMin >= r.ScaleMax) throw new InvalidEventException($"question '{r.QuestionId}' has no scale ({r.ScaleMin}-{r.ScaleMax}).");
        if (metric is MetricKind.Nps or MetricKind.Enps && (r.ScaleMin != 0 || r.ScaleMax != 10))
        {
            throw new InvalidEventException($"NPS question '{r.QuestionId}' is not on the 0-10 scale.");
        }
        if (r.Value < r.ScaleMin || r.Value > r.ScaleMax)
        {
            throw new InvalidEventException($"rating {r.Value} of question '{r.QuestionId}' is outside its scale ({r.ScaleMin}-{r.ScaleMax}).");
        }
        return new QuestionDefinition(r.QuestionId, metric, r.ScaleMin, r.ScaleMax, r.HigherIsBetter, r.TopBoxValues.ToList());
    }

    /// <summary>
    /// The outcomes a response gives key-driver analysis (its first NPS or eNPS rating with the detractor and promoter
    /// flags, its first CSAT rating; only ratings that fit its audience), and its ratings of the attribute questions
    /// registered as drivers of those two questions, each with the population of the outcome it explains.
    /// </summary>
    private static (List<(string, double)> Outcomes, List<(string, string, double)> Attributes) Outcomes(FeedbackReceived evt)
    {
        var outcomes = new List<(string, double)>();
        var attributes = new List<(string, string, double)>();
        var fitting = evt.Ratings.Where(r => FitsAudience(MetricKinds.FromProto(r.Metric)!.Value, evt.Audience)).ToList();
        var nps = fitting.FirstOrDefault(r => r.Metric is Metric.Nps or Metric.Enps);
        var csat = fitting.FirstOrDefault(r => r.Metric == Metric.Csat);
        if (nps is not null)
        {
            var category = NpsTally.Classify(nps.Value);
            outcomes.Add((DriverOutcomes.Nps, nps.Value));
            outcomes.Add((DriverOutcomes.Detractor, category == NpsCategory.Detractor ? 1 : 0));
            outcomes.Add((DriverOutcomes.Promoter, category == NpsCategory.Promoter ? 1 : 0));
        }
        if (csat is not null) outcomes.Add((DriverOutcomes.Csat, csat.Value));
        foreach (var r in fitting.Where(r => r.DriverOf.Length > 0))
        {
            if (nps is not null && r.DriverOf == nps.QuestionId) attributes.Add((DriverOutcomes.Nps, r.QuestionId, r.Value));
            else if (csat is not null && r.DriverOf == csat.QuestionId) attributes.Add((DriverOutcomes.Csat, r.QuestionId, r.Value));
        }
        return (outcomes, attributes);
    }

    private AlertRaised? AlertOf(FeedbackReceived evt, string journey, string touchpoint, IReadOnlyList<(QuestionDefinition Question, RatingStats Stats)> ratings,
        DateTimeOffset now)
    {
        var detractor = ratings.FirstOrDefault(r => r.Stats.Detractors > 0);
        var kind = AlertRules.ForItem(detractor.Question is not null, evt.Channel == Channel.Complaint, ratings.Count == 0, evt.RedactedVerbatim.Length > 0,
            evt.SentimentScore, options.Value.NegativeComplaintSentiment, now - evt.GivenAt.ToDateTimeOffset(), options.Value.ItemAlertMaxAge);
        if (kind == ItemAlert.None) return null;

        var alert = new AlertRaised
        {
            AlertId = Guid.CreateVersion7().ToString(),
            OccurredAt = Timestamp.FromDateTimeOffset(now),
            Kind = kind == ItemAlert.Detractor ? AlertKind.Detractor : AlertKind.NegativeComplaint,
            FeedbackId = evt.FeedbackId,
            CustomerId = evt.CustomerId,
            Journey = journey,
            TouchpointKey = touchpoint,
            Channel = evt.Channel,
            RedactedVerbatim = evt.RedactedVerbatim,
            Audience = IsEmployee(evt) ? ScoreScope.Employees : ScoreScope.Customers,
        };
        if (detractor.Question is { } q)
        {
            alert.Metric = MetricKinds.ToProto(q.Metric);
            alert.QuestionId = q.Id;
            alert.Rating = (int)detractor.Stats.Sum;
        }
        return alert;
    }
}
