using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Platform.Messaging;
using CxMesh.Scoring.Data;
using CxMesh.Scoring.Domain;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace CxMesh.Scoring.Events;

/// <summary>
/// Adds each rating of a feedback item to the daily statistics of every scope it counts in (all, each dimension,
/// each two dimensions), adds its themes to the key-driver sums, and raises a detractor alert, all in the inbox
/// transaction; the hot scores of the touched scopes are refreshed after commit.
/// </summary>
public sealed class FeedbackReceivedHandler(HotScoreRefresher refresher, TimeProvider clock, IOptions<ScoringOptions> options) : IEventHandler<FeedbackReceived>
{
    public async Task HandleAsync(FeedbackReceived evt, EventContext context, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(evt.FeedbackId)) throw new InvalidEventException("feedback_id is missing.");
        if (evt.GivenAt is null) throw new InvalidEventException("given_at is missing.");

        // A repeated saying of the same customer (a syndicated review) counts once: the first time.
        if (evt.DuplicateOf.Length > 0) return;

        var ratings = new List<(QuestionDefinition Question, RatingStats Stats)>();
        foreach (var r in evt.Ratings)
        {
            var question = Definition(r);
            ratings.Add((question, question.Of(r.Value)));
        }
        var givenAt = evt.GivenAt.ToDateTime();
        var day = DateOnly.FromDateTime(givenAt);

        // No journey link: the customer's latest touchpoint within the attribution window, from journey's events.
        string journey = evt.JourneyId, touchpoint = evt.TouchpointKey;
        if (journey.Length == 0 && evt.CustomerId.Length > 0
            && await AttributionStore.FindAsync(context.Connection, context.Transaction, evt.CustomerId, givenAt, options.Value.AttributionWindow, ct) is { } found)
        {
            (journey, touchpoint) = (found.JourneyKey, touchpoint.Length > 0 ? touchpoint : found.TouchpointKey);
        }

        var parts = new List<ScopePart>();
        if (journey.Length > 0) parts.Add(new ScopePart(ScopeDimension.Journey, journey));
        if (touchpoint.Length > 0) parts.Add(new ScopePart(ScopeDimension.Touchpoint, touchpoint));
        if (evt.Channel != Channel.Unspecified) parts.Add(new ScopePart(ScopeDimension.Channel, ChannelName(evt.Channel)));
        if (evt.ProductId.Length > 0) parts.Add(new ScopePart(ScopeDimension.Product, evt.ProductId));
        if (evt.LotId.Length > 0) parts.Add(new ScopePart(ScopeDimension.Lot, evt.LotId));
        if (evt.StoreId.Length > 0) parts.Add(new ScopePart(ScopeDimension.Store, evt.StoreId));
        foreach (var (attribute, value) in evt.Segment.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (value.Length > 0) parts.Add(new ScopePart(ScopeDimension.Segment, value, attribute));
        }
        var scopes = ScoreScope.ScopesOf(parts).Select(s => s.Key).ToList();

        if (ratings.Count > 0)
        {
            await ScoreStore.AddRatingsAsync(context.Connection, context.Transaction, scopes, day, ratings, ct);
            await AddDriversAsync(evt, context, parts, day, ct);
            context.AfterCommit(_ =>
            {
                refresher.MarkDirty(scopes);
                return Task.CompletedTask;
            });
        }
        await RaiseItemAlertAsync(evt, context, journey, touchpoint, ratings, ct);
    }

    private static QuestionDefinition Definition(RatingValue r)
    {
        var metric = r.Metric switch
        {
            Metric.Nps => MetricKind.Nps,
            Metric.Enps => MetricKind.Enps,
            Metric.Csat => MetricKind.Csat,
            Metric.Ces => MetricKind.Ces,
            Metric.Custom => MetricKind.Custom,
            _ => throw new InvalidEventException($"rating of question '{r.QuestionId}' has no metric."),
        };
        if (r.QuestionId.Length is 0 or > 64) throw new InvalidEventException("a rating's question_id is missing or too long.");
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

    /// <summary>The outcomes a response gives key-driver analysis: its NPS rating and detractor flag, and its CSAT rating.</summary>
    private static async Task AddDriversAsync(FeedbackReceived evt, EventContext context, IReadOnlyList<ScopePart> parts, DateOnly day, CancellationToken ct)
    {
        var outcomes = new List<(string, double)>();
        if (evt.Ratings.FirstOrDefault(r => r.Metric is Metric.Nps or Metric.Enps) is { } nps)
        {
            outcomes.Add(("nps", nps.Value));
            outcomes.Add(("detractor", nps.Value <= 6 ? 1 : 0));
        }
        if (evt.Ratings.FirstOrDefault(r => r.Metric == Metric.Csat) is { } csat) outcomes.Add(("csat", csat.Value));
        if (outcomes.Count == 0) return;
        var themes = evt.Themes.Where(t => t.ThemeKey.Length > 0).Select(t => (t.ThemeKey, Math.Clamp(t.SentimentScore, -1, 1))).ToList();
        var scopes = ScoreScope.DriverScopesOf(parts).Select(s => s.Key).ToList();
        await DriverStore.AddAsync(context.Connection, context.Transaction, scopes, day, outcomes, themes, ct);
    }

    private async Task RaiseItemAlertAsync(FeedbackReceived evt, EventContext context, string journey, string touchpoint,
        IReadOnlyList<(QuestionDefinition Question, RatingStats Stats)> ratings, CancellationToken ct)
    {
        var detractor = ratings.FirstOrDefault(r => r.Stats.Detractors > 0);
        var negativeComplaint = evt.Channel == Channel.Complaint && evt.RedactedVerbatim.Length > 0
            && evt.SentimentScore <= options.Value.NegativeComplaintSentiment;
        if (detractor.Question is null && !negativeComplaint) return;

        var alertId = Guid.CreateVersion7();
        var alert = new AlertRaised
        {
            EventId = $"alert.raised/{alertId}",
            AlertId = alertId.ToString(),
            OccurredAt = Timestamp.FromDateTimeOffset(clock.GetUtcNow()),
            Kind = detractor.Question is not null ? AlertKind.Detractor : AlertKind.NegativeComplaint,
            FeedbackId = evt.FeedbackId,
            CustomerId = evt.CustomerId,
            JourneyId = journey,
            TouchpointKey = touchpoint,
            Channel = evt.Channel,
            RedactedVerbatim = evt.RedactedVerbatim,
        };
        if (detractor.Question is { } q)
        {
            alert.Metric = HotScoreRefresher.ToProto(q.Metric);
            alert.QuestionId = q.Id;
            alert.Rating = (int)detractor.Stats.Sum;
        }
        // One alert per feedback item, however often the event is delivered.
        await AlertStore.RaiseAsync(context.Connection, context.Transaction, $"item:{evt.FeedbackId}", alert, ct);
    }

    public static string ChannelName(Channel channel) => channel switch
    {
        Channel.ContactCentre => "contact-centre",
        Channel.SelfService => "self-service",
        _ => channel.ToString().ToLowerInvariant(),
    };
}
