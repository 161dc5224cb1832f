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
    private EventSubscription Subscription => fixture.Host.Services.GetServices<EventSubscription>().Single(s => s.Service == "scoring");
    private ServiceDatabase Database => fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");

    private static FeedbackReceived Event(int rating, string journey, DateTime givenAt) => new()
    {
        EventId = Guid.NewGuid().ToString(),
        OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
        FeedbackId = Guid.NewGuid().ToString(),
        Channel = Channel.Survey,
        JourneyId = journey,
        GivenAt = Timestamp.FromDateTime(givenAt),
        Ratings = { new RatingValue { QuestionId = "nps", Metric = Metric.Nps, Value = rating, ScaleMin = 0, ScaleMax = 10 } },
    };

    private Task<DeliveryOutcome> DeliverAsync(FeedbackReceived evt) =>
        Dispatcher.DeliverAsync(Subscription, new IncomingEvent(evt.EventId, Topics.FeedbackReceived.Name, Topics.FeedbackReceived.EventType, EventJson.Format(evt), null), default);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Shuffled_and_duplicated_deliveries_give_the_same_daily_tallies_as_a_recomputation(int seed)
    {
        var random = new Random(seed);
        var journey = $"agg-{seed}-{Guid.NewGuid():N}"[..20];
        var today = DateTime.UtcNow.Date;
        var events = Enumerable.Range(0, 120)
            .Select(_ => Event(random.Next(0, 11), journey, today.AddDays(-random.Next(0, 5)).AddHours(random.Next(0, 24))))
            .ToList();

        // Every event once, a third of them again, all in random order and partly concurrently.
        var deliveries = events.Concat(events.Where((_, i) => i % 3 == 0)).OrderBy(_ => random.Next()).ToList();
        foreach (var chunk in deliveries.Chunk(8))
        {
            var outcomes = await Task.WhenAll(chunk.Select(DeliverAsync));
            Assert.DoesNotContain(DeliveryOutcome.DeadLettered, outcomes);
        }

        await using var connection = await Database.OpenConnectionAsync();
        var stored = (await connection.QueryAsync<(DateTime Day, long Promoters, long Passives, long Detractors)>(
            "select day::timestamp, promoters, passives, detractors from score_daily where scope_key = @key and metric = 'nps'",
            new { key = ScoreScope.Journey(journey).Key })).ToDictionary(r => DateOnly.FromDateTime(r.Day), r => new NpsTally(r.Promoters, r.Passives, r.Detractors));
        var expected = events.GroupBy(e => DateOnly.FromDateTime(e.GivenAt.ToDateTime()))
            .ToDictionary(g => g.Key, g => g.Aggregate(default(NpsTally), (t, e) => t + NpsTally.Of(e.Ratings[0].Value)));
        Assert.Equal(expected.OrderBy(k => k.Key), stored.OrderBy(k => k.Key));

        var store = fixture.Host.Services.GetRequiredService<ScoreStore>();
        var window = DayWindow.LastDays(30, DateOnly.FromDateTime(today));
        var total = (await store.SumNpsAsync(ScoreScope.Journey(journey).Key, window, default)).Tally;
        Assert.Equal(expected.Values.Aggregate(default(NpsTally), (a, b) => a + b), total);
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
            "select (select count(*) from inbox), (select coalesce(sum(n), 0)::bigint from score_daily), (select count(*) from dead_letters)");

        // No transport-level id either, so nothing but the payload says which event this is.
        var evt = new IncomingEvent(null, Topics.FeedbackReceived.Name, type ?? Topics.FeedbackReceived.EventType, payload, null);
        Assert.Equal(DeliveryOutcome.DeadLettered, await Dispatcher.DeliverAsync(Subscription, evt, default));
        // Delivered again (the transport retried): still one dead letter, still no effect.
        Assert.Equal(DeliveryOutcome.DeadLettered, await Dispatcher.DeliverAsync(Subscription, evt, default));

        var after = await connection.QuerySingleAsync<(long Inbox, long Aggregates, long DeadLetters)>(
            "select (select count(*) from inbox), (select coalesce(sum(n), 0)::bigint from score_daily), (select count(*) from dead_letters)");
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
