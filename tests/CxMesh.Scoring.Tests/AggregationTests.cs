using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Data;
using CxMesh.Scoring.Domain;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Tests;

/// <summary>The handler against real Postgres: any order and any duplication of events gives the recomputed score.</summary>
public sealed class AggregationTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private EventDispatcher Dispatcher => fixture.Host.Services.GetRequiredService<EventDispatcher>();
    private EventSubscription Subscription => fixture.Host.Services.GetServices<EventSubscription>().Single(s => s.Service == "scoring" && s.Topic.Name == Topics.FeedbackReceived.Name);
    private ServiceDatabase Database => fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");

    private static FeedbackReceived Event(int rating, string journey, DateTime givenAt) => new()
    {
        EventId = Guid.NewGuid().ToString(),
        OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
        FeedbackId = Guid.NewGuid().ToString(),
        Channel = Channel.Survey,
        JourneyKey = journey,
        GivenAt = Timestamp.FromDateTime(givenAt),
        Ratings = { new RatingValue { QuestionId = "nps", Metric = Metric.Nps, Value = rating, ScaleMin = 0, ScaleMax = 10 } },
    };

    private Task<DeliveryOutcome> DeliverAsync(FeedbackReceived evt) =>
        Dispatcher.DeliverAsync(Subscription, new IncomingEvent(evt.EventId, Topics.FeedbackReceived.Name, Topics.FeedbackReceived.EventType, EventJson.Format(evt), null), default);

    private static readonly string[] ThemeKeys = ["delivery", "taste", "packaging", "price-value"];

    /// <summary>A random response: NPS always, CSAT for half, a channel, a product, a segment, and a few themes.</summary>
    private static FeedbackReceived RichEvent(Random random, string journey, string product, DateTime today)
    {
        var evt = Event(random.Next(0, 11), journey, today.AddDays(-random.Next(0, 5)).AddHours(random.Next(0, 24)));
        evt.Channel = (Channel)random.Next(1, 4);
        if (random.Next(0, 3) == 0)
        {
            // Published before journey_id was renamed journey_key: scored all the same.
            evt.JourneyKey = "";
#pragma warning disable CS0612
            evt.JourneyId = journey;
#pragma warning restore CS0612
        }
        evt.ProductId = $"{product}-{random.Next(0, 2)}";
        evt.Segment["plan"] = random.Next(0, 2) == 0 ? "monthly" : "annual";
        if (random.Next(0, 2) == 0)
        {
            evt.Ratings.Add(new RatingValue { QuestionId = "csat", Metric = Metric.Csat, Value = random.Next(1, 6), ScaleMin = 1, ScaleMax = 5, HigherIsBetter = true, TopBoxValues = { 4, 5 } });
        }
        foreach (var theme in ThemeKeys.Where(_ => random.Next(0, 3) == 0))
        {
            evt.Themes.Add(new ThemeMention { ThemeKey = theme, SentimentScore = random.Next(-100, 101) / 100.0 });
        }
        // Half have words; a sixth are voices with words and no rating at all (a complaint, a review, a call note).
        if (random.Next(0, 2) == 0)
        {
            evt.RedactedVerbatim = "words";
            evt.SentimentScore = random.Next(-100, 101) / 100.0;
            if (random.Next(0, 3) == 0) evt.Ratings.Clear();
        }
        return evt;
    }

    private static List<ScopePart> PartsOf(FeedbackReceived e)
    {
        var parts = new List<ScopePart> { new(ScopeDimension.Journey, e.Journey), new(ScopeDimension.Channel, CxMesh.Platform.Api.ChannelNames.Name(e.Channel)!), new(ScopeDimension.Product, e.ProductId) };
        parts.AddRange(e.Segment.Select(s => new ScopePart(ScopeDimension.Segment, s.Value, s.Key)));
        return parts;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Shuffled_and_duplicated_deliveries_give_the_same_statistics_as_a_recomputation(int seed)
    {
        var random = new Random(seed);
        var journey = $"agg-{seed}-{Guid.NewGuid():N}"[..20];
        var product = $"p{Guid.NewGuid():N}"[..12];
        var today = DateTime.UtcNow.Date;
        var events = Enumerable.Range(0, 120).Select(_ => RichEvent(random, journey, product, today)).ToList();

        // Every event once, a third of them again, all in random order and partly concurrently.
        var deliveries = events.Concat(events.Where((_, i) => i % 3 == 0)).OrderBy(_ => random.Next()).ToList();
        foreach (var chunk in deliveries.Chunk(8))
        {
            var outcomes = await Task.WhenAll(chunk.Select(DeliverAsync));
            Assert.DoesNotContain(DeliveryOutcome.DeadLettered, outcomes);
        }

        // The recomputation: every event once, through the Domain's own definitions.
        var expectedRatings = new Dictionary<(string Scope, string Question, DateOnly Day), RatingStats>();
        var expectedDrivers = new Dictionary<(string Scope, string Outcome, DateOnly Day, string A, string B), (long Cnt, long Neg, double S1, double S2, double S3, double S4, double S5)>();
        void AddDriver((string, string, DateOnly, string, string) key, long cnt, long neg, double s1, double s2, double s3, double s4 = 0, double s5 = 0)
        {
            var (c, n, a, b, d, e, f) = expectedDrivers.GetValueOrDefault(key);
            expectedDrivers[key] = (c + cnt, n + neg, a + s1, b + s2, d + s3, e + s4, f + s5);
        }
        foreach (var e in events)
        {
            var day = DateOnly.FromDateTime(e.GivenAt.ToDateTime());
            var parts = PartsOf(e);
            foreach (var scope in ScoreScope.ScopesOf(parts))
            {
                foreach (var r in e.Ratings)
                {
                    var q = new QuestionDefinition(r.QuestionId, r.Metric == Metric.Nps ? MetricKind.Nps : MetricKind.Csat, r.ScaleMin, r.ScaleMax, true, r.TopBoxValues.ToList());
                    expectedRatings[(scope.Key, r.QuestionId, day)] = expectedRatings.GetValueOrDefault((scope.Key, r.QuestionId, day)) + q.Of(r.Value);
                }
            }
            var themes = e.Themes.OrderBy(t => t.ThemeKey, StringComparer.Ordinal).ToList();
            // Three populations: NPS-rated responses (NPS, detractor, promoter; pairs under "*nps"), CSAT-rated ones (pairs
            // under "*csat") and voices with words, rated or not (their overall sentiment; pairs under "*text").
            var populations = new List<(List<(string, double)> Outcomes, string Pairs)>();
            if (e.Ratings.Count > 0)
            {
                var nps = e.Ratings[0].Value;
                populations.Add(([("nps", nps), ("detractor", nps <= 6 ? 1 : 0), ("promoter", nps >= 9 ? 1 : 0)], "*nps"));
                if (e.Ratings.Count > 1) populations.Add(([("csat", e.Ratings[1].Value)], "*csat"));
            }
            if (e.RedactedVerbatim.Length > 0) populations.Add(([("sentiment", e.SentimentScore)], "*text"));
            foreach (var scope in ScoreScope.DriverScopesOf(parts))
            {
                foreach (var (outcomes, pairs) in populations)
                {
                    foreach (var (outcome, y) in outcomes)
                    {
                        AddDriver((scope.Key, outcome, day, "", ""), 1, y < -0.05 ? 1 : 0, y, y * y, 0);
                        foreach (var t in themes)
                        {
                            AddDriver((scope.Key, outcome, day, t.ThemeKey, ""), 1, t.SentimentScore < -0.05 ? 1 : 0, t.SentimentScore, t.SentimentScore * t.SentimentScore, t.SentimentScore * y, y, y * y);
                        }
                    }
                    for (var i = 0; i < themes.Count; i++)
                    {
                        for (var j = i + 1; j < themes.Count; j++) AddDriver((scope.Key, pairs, day, themes[i].ThemeKey, themes[j].ThemeKey), 1, 0, 0, 0, themes[i].SentimentScore * themes[j].SentimentScore);
                    }
                }
            }
        }
        bool Ours(string scopeKey) => scopeKey.Contains(journey, StringComparison.Ordinal) || scopeKey.Contains(product, StringComparison.Ordinal);

        await using var connection = await Database.OpenConnectionAsync();
        var storedRatings = (await connection.QueryAsync<(string Scope, string Question, DateTime Day, long N, long Top, long Passives, long Detractors, double Sum, double Squares)>(
            "select scope_key, question_id, day::timestamp, n, top_box, passives, detractors, sum_value, sum_squares from rating_daily where scope_key like @a or scope_key like @b",
            new { a = $"%{journey}%", b = $"%{product}%" }))
            .ToDictionary(r => (r.Scope, r.Question, DateOnly.FromDateTime(r.Day)), r => new RatingStats(r.N, r.Top, r.Passives, r.Detractors, r.Sum, r.Squares));
        Assert.Equal(expectedRatings.Where(k => Ours(k.Key.Scope)).OrderBy(k => k.Key.ToString()), storedRatings.OrderBy(k => k.Key.ToString()));

        var storedDrivers = (await connection.QueryAsync<(string Scope, string Outcome, DateTime Day, string A, string B, long Cnt, long Neg, double S1, double S2, double S3, double S4, double S5)>(
            "select scope_key, outcome, day::timestamp, a, b, cnt, neg, s1, s2, s3, s4, s5 from driver_daily where scope_key like @a or scope_key like @b",
            new { a = $"%{journey}%", b = $"%{product}%" }))
            .ToDictionary(r => (r.Scope, r.Outcome, DateOnly.FromDateTime(r.Day), r.A, r.B), r => (r.Cnt, r.Neg, r.S1, r.S2, r.S3, r.S4, r.S5));
        var expectedOurs = expectedDrivers.Where(k => Ours(k.Key.Scope)).ToDictionary();
        Assert.Equal(expectedOurs.Keys.OrderBy(k => k.ToString()), storedDrivers.Keys.OrderBy(k => k.ToString()));
        foreach (var (key, (cnt, neg, s1, s2, s3, s4, s5)) in expectedOurs)
        {
            var stored = storedDrivers[key];
            Assert.Equal((cnt, neg), (stored.Cnt, stored.Neg));
            Assert.Equal(s1, stored.S1, 9);
            Assert.Equal(s2, stored.S2, 9);
            Assert.Equal(s3, stored.S3, 9);
            Assert.Equal(s4, stored.S4, 9);
            Assert.Equal(s5, stored.S5, 9);
        }

        var store = fixture.Host.Services.GetRequiredService<ScoreStore>();
        var window = DayWindow.LastDays(30, DateOnly.FromDateTime(today));
        var total = (await store.SumAsync(ScoreScope.Journey(journey).Key, new MetricKey("nps", ScoreStore.AllQuestions), window, default)).Stats;
        Assert.Equal(events.Where(e => e.Ratings.Count > 0).Aggregate(default(NpsTally), (t, e) => t + NpsTally.Of(e.Ratings[0].Value)), total.Nps);
        Assert.Contains(events, e => e.Ratings.Count == 0);
    }

    [Fact]
    public async Task A_batch_is_applied_in_one_transaction_with_each_unusable_event_dead_lettered_alone()
    {
        var journey = $"batch-{Guid.NewGuid():N}"[..20];
        var good = Event(10, journey, DateTime.UtcNow.AddMinutes(-1));
        var other = Event(0, journey, DateTime.UtcNow.AddMinutes(-1));
        var offScale = Event(3, journey, DateTime.UtcNow.AddMinutes(-1));
        offScale.Ratings[0].Value = 12;
        IncomingEvent Incoming(FeedbackReceived e) => new(e.EventId, Topics.FeedbackReceived.Name, Topics.FeedbackReceived.EventType, EventJson.Format(e), null);
        var batch = new[] { Incoming(good), Incoming(offScale), new IncomingEvent("x-1", Topics.FeedbackReceived.Name, null, "not json", null), Incoming(other), Incoming(good) };

        var outcomes = await Dispatcher.DeliverManyAsync(Subscription, batch, default);
        Assert.Equal([DeliveryOutcome.Applied, DeliveryOutcome.DeadLettered, DeliveryOutcome.DeadLettered, DeliveryOutcome.Applied, DeliveryOutcome.Duplicate], outcomes);
        Assert.All(await Dispatcher.DeliverManyAsync(Subscription, [Incoming(good), Incoming(other)], default), o => Assert.Equal(DeliveryOutcome.Duplicate, o));

        await using var connection = await Database.OpenConnectionAsync();
        Assert.Equal((2L, 1L, 1L), await connection.QuerySingleAsync<(long, long, long)>(
            "select sum(n)::bigint, sum(top_box)::bigint, sum(detractors)::bigint from rating_daily where scope_key = @key", new { key = $"journey={journey}" }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("select count(*) from dead_letters where event_id = @id", new { id = offScale.EventId }));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from inbox where event_id = @id", new { id = offScale.EventId }));
    }

    public static TheoryData<string, string?> PoisonPayloads => new()
    {
        { "not json at all", null },
        { """{"eventId": 42, "feedbackId": {"x": 1}}""", null },
        { """{"eventId": "p-1", "givenAt": "yesterday"}""", null },
        { """{"feedbackId": "f-1", "givenAt": "2026-11-01T00:00:00Z"}""", null },
        { """{"eventId": "p-2", "feedbackId": "f-2", "givenAt": "2026-11-01T00:00:00Z", "ratings": [{"questionId": "nps", "metric": "METRIC_NPS", "value": 12, "scaleMin": 0, "scaleMax": 10}]}""", null },
        { """{"eventId": "p-3", "feedbackId": "f-3"}""", null },
        { """{"eventId": "p-4", "feedbackId": "f-4", "givenAt": "2026-11-01T00:00:00Z"}""", "cxmesh.events.v1.SomethingElse" },
    };

    [Theory]
    [MemberData(nameof(PoisonPayloads))]
    public async Task An_unusable_event_is_dead_lettered_with_its_error_and_changes_nothing(string payload, string? type)
    {
        await using var connection = await Database.OpenConnectionAsync();
        var before = await connection.QuerySingleAsync<(long Inbox, long Aggregates, long DeadLetters)>(
            "select (select count(*) from inbox), (select coalesce(sum(n), 0)::bigint from rating_daily), (select count(*) from dead_letters)");

        // No transport-level id either, so nothing but the payload says which event this is.
        var evt = new IncomingEvent(null, Topics.FeedbackReceived.Name, type ?? Topics.FeedbackReceived.EventType, payload, null);
        Assert.Equal(DeliveryOutcome.DeadLettered, await Dispatcher.DeliverAsync(Subscription, evt, default));
        // Delivered again (the transport retried): still one dead letter, still no effect.
        Assert.Equal(DeliveryOutcome.DeadLettered, await Dispatcher.DeliverAsync(Subscription, evt, default));

        var after = await connection.QuerySingleAsync<(long Inbox, long Aggregates, long DeadLetters)>(
            "select (select count(*) from inbox), (select coalesce(sum(n), 0)::bigint from rating_daily), (select count(*) from dead_letters)");
        Assert.Equal(before.Inbox, after.Inbox);
        Assert.Equal(before.Aggregates, after.Aggregates);
        Assert.Equal(before.DeadLetters + 1, after.DeadLetters);
        var error = await connection.ExecuteScalarAsync<string>("select error from dead_letters where payload = @payload order by id desc limit 1", new { payload });
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public async Task Fields_a_newer_producer_added_are_ignored_not_dead_lettered()
    {
        var evt = Event(10, "forward-compat", DateTime.UtcNow);
        var json = EventJson.Format(evt).TrimEnd('}') + """, "sentimentScore": 0.9}""";
        var outcome = await Dispatcher.DeliverAsync(Subscription, new IncomingEvent(evt.EventId, Topics.FeedbackReceived.Name, null, json, null), default);
        Assert.Equal(DeliveryOutcome.Applied, outcome);
    }
}
