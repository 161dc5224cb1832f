using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Tests;

/// <summary>
/// feedback.retagged against real Postgres: items scored with their old themes and then re-tagged leave exactly the
/// driver rows of the same items scored with the new themes from the start, in any order of arrival.
/// </summary>
public sealed class RetagTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private EventDispatcher Dispatcher => fixture.Host.Services.GetRequiredService<EventDispatcher>();
    private ServiceDatabase Database => fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");

    private EventSubscription SubscriptionOf(IEventTopic topic) =>
        fixture.Host.Services.GetServices<EventSubscription>().Single(s => s.Service == "scoring" && s.Topic.Name == topic.Name);

    private async Task<IReadOnlyList<DeliveryOutcome>> DeliverAsync<TEvent>(EventTopic<TEvent> topic, IEnumerable<TEvent> events) where TEvent : IMessage<TEvent>, new()
    {
        var outcomes = new List<DeliveryOutcome>();
        foreach (var chunk in events.Chunk(50))
        {
            outcomes.AddRange(await Dispatcher.DeliverManyAsync(SubscriptionOf(topic), chunk.Select(e =>
                new IncomingEvent((string)e.Descriptor.FindFieldByName("event_id").Accessor.GetValue(e), topic.Name, topic.EventType, EventJson.Format(e), null)).ToList(), default));
        }
        return outcomes;
    }

    private static readonly string[] Keys = ["delivery", "taste", "packaging", "price-value", "roast-level"];

    private sealed record Item(Guid Id, int? Nps, int? Csat, string? Words, double Sentiment, int DaysAgo, string Plan,
        IReadOnlyList<(string Key, double X)> OldThemes, IReadOnlyList<(string Key, double X)> NewThemes);

    private static List<Item> Items(int n, int seed)
    {
        var random = new Random(seed);
        List<(string, double)> Themes() => Keys.Where(_ => random.Next(0, 3) == 0).Select(k => (k, random.Next(-100, 101) / 100.0)).ToList();
        return Enumerable.Range(0, n).Select(i =>
        {
            var old = Themes();
            // A third keep their themes, a third lose or gain some, a third get other sentiments for the same ones.
            var now = (i % 3) switch
            {
                0 => old,
                1 => Themes(),
                _ => old.Select(t => (t.Item1, Math.Round(-t.Item2 / 2, 2))).ToList(),
            };
            var rated = i % 4 != 0;
            return new Item(Guid.CreateVersion7(), rated ? random.Next(0, 11) : null, rated && i % 2 == 0 ? random.Next(1, 6) : null,
                rated && i % 5 == 0 ? null : "words", random.Next(-100, 101) / 100.0, random.Next(0, 400), i % 2 == 0 ? "monthly" : "annual", old, now);
        }).ToList();
    }

    private static FeedbackReceived Received(Item item, string journey, string product, bool newThemes)
    {
        var evt = new FeedbackReceived
        {
            EventId = $"{journey}/{item.Id}",
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
            FeedbackId = item.Id.ToString(),
            Channel = Channel.Survey,
            JourneyKey = journey,
            ProductId = product,
            GivenAt = Timestamp.FromDateTime(DateTime.UtcNow.Date.AddDays(-item.DaysAgo).AddHours(9)),
            RedactedVerbatim = item.Words ?? "",
            SentimentScore = item.Words is null ? 0 : item.Sentiment,
            TaxonomyVersion = newThemes ? 2 : 1,
        };
        evt.Segment["plan"] = item.Plan;
        if (item.Nps is { } nps) evt.Ratings.Add(new RatingValue { QuestionId = "nps", Metric = Metric.Nps, Value = nps, ScaleMin = 0, ScaleMax = 10 });
        if (item.Csat is { } csat) evt.Ratings.Add(new RatingValue { QuestionId = "csat", Metric = Metric.Csat, Value = csat, ScaleMin = 1, ScaleMax = 5, HigherIsBetter = true, TopBoxValues = { 4, 5 } });
        foreach (var (key, x) in item.Words is null ? [] : newThemes ? item.NewThemes : item.OldThemes) evt.Themes.Add(new ThemeMention { ThemeKey = key, SentimentScore = x });
        return evt;
    }

    private static FeedbackRetagged Retagged(Item item, string journey, long version, IEnumerable<(string Key, double X)> themes)
    {
        var evt = new FeedbackRetagged { EventId = $"{journey}/{item.Id}/v{version}", OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow), FeedbackId = item.Id.ToString(), TaxonomyVersion = version };
        foreach (var (key, x) in themes) evt.Themes.Add(new ThemeMention { ThemeKey = key, SentimentScore = x });
        return evt;
    }

    /// <summary>The driver rows of a journey's and product's scopes, with the names taken out so two runs compare.</summary>
    private async Task<SortedDictionary<string, (long Cnt, long Neg, double S1, double S2, double S3)>> DriverRowsAsync(string journey, string product)
    {
        await using var connection = await Database.OpenConnectionAsync();
        var rows = await connection.QueryAsync<(string Scope, string Outcome, DateTime Day, string A, string B, long Cnt, long Neg, double S1, double S2, double S3)>(
            "select scope_key, outcome, day::timestamp, a, b, cnt, neg, s1, s2, s3 from driver_daily where scope_key like @j or scope_key like @p",
            new { j = $"%{journey}%", p = $"%{product}%" });
        return new SortedDictionary<string, (long, long, double, double, double)>(rows.ToDictionary(
            r => $"{r.Scope.Replace(journey, "J", StringComparison.Ordinal).Replace(product, "P", StringComparison.Ordinal)}|{r.Outcome}|{r.Day:yyyy-MM-dd}|{r.A}|{r.B}",
            r => (r.Cnt, r.Neg, r.S1, r.S2, r.S3)), StringComparer.Ordinal);
    }

    private static void AssertSameRows(
        SortedDictionary<string, (long Cnt, long Neg, double S1, double S2, double S3)> expected, SortedDictionary<string, (long Cnt, long Neg, double S1, double S2, double S3)> actual)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, e) in expected)
        {
            var a = actual[key];
            Assert.True((e.Cnt, e.Neg) == (a.Cnt, a.Neg), $"{key}: expected {e}, stored {a}");
            Assert.Equal(e.S1, a.S1, 9);
            Assert.Equal(e.S2, a.S2, 9);
            Assert.Equal(e.S3, a.S3, 9);
        }
    }

    private static (string Journey, string Product) Names(string what) => ($"{what}-j-{Guid.NewGuid():N}"[..24], $"{what}-p-{Guid.NewGuid():N}"[..24]);

    [Fact]
    public async Task Re_tagged_items_leave_the_driver_rows_of_the_same_items_tagged_right_from_the_start()
    {
        var items = Items(240, seed: 16);
        var (retaggedJourney, retaggedProduct) = Names("retag");
        var (freshJourney, freshProduct) = Names("fresh");

        Assert.DoesNotContain(DeliveryOutcome.DeadLettered, await DeliverAsync(Topics.FeedbackReceived, items.Select(i => Received(i, retaggedJourney, retaggedProduct, newThemes: false))));
        var before = await DriverRowsAsync(retaggedJourney, retaggedProduct);
        // Feedback publishes a re-tag only for items whose mentions changed; the unchanged ones are sent too here: no effect.
        var retags = items.Where(i => i.Words is not null).Select(i => Retagged(i, retaggedJourney, 2, i.NewThemes)).ToList();
        Assert.DoesNotContain(DeliveryOutcome.DeadLettered, await DeliverAsync(Topics.FeedbackRetagged, retags));
        // Delivered again by the transport, and a late re-tag to an older version: neither changes anything.
        Assert.All(await DeliverAsync(Topics.FeedbackRetagged, retags.Take(30)), o => Assert.Equal(DeliveryOutcome.Duplicate, o));
        Assert.DoesNotContain(DeliveryOutcome.DeadLettered,
            await DeliverAsync(Topics.FeedbackRetagged, items.Where(i => i.Words is not null).Take(30).Select(i => Retagged(i, retaggedJourney, 1, [("stale-theme", -1.0)]))));

        Assert.DoesNotContain(DeliveryOutcome.DeadLettered, await DeliverAsync(Topics.FeedbackReceived, items.Select(i => Received(i, freshJourney, freshProduct, newThemes: true))));
        var after = await DriverRowsAsync(retaggedJourney, retaggedProduct);
        AssertSameRows(await DriverRowsAsync(freshJourney, freshProduct), after);
        Assert.NotEqual(before.Keys, after.Keys); // the re-tag did move sums
        Assert.DoesNotContain(after.Keys, k => k.Contains("stale-theme", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_re_tag_that_arrives_before_its_item_is_applied_when_the_item_comes()
    {
        var items = Items(60, seed: 17).Where(i => i.Words is not null).ToList();
        var (earlyJourney, earlyProduct) = Names("early");
        var (freshJourney, freshProduct) = Names("fresh");

        Assert.DoesNotContain(DeliveryOutcome.DeadLettered, await DeliverAsync(Topics.FeedbackRetagged, items.Select(i => Retagged(i, earlyJourney, 2, i.NewThemes))));
        Assert.DoesNotContain(DeliveryOutcome.DeadLettered, await DeliverAsync(Topics.FeedbackReceived, items.Select(i => Received(i, earlyJourney, earlyProduct, newThemes: false))));
        Assert.DoesNotContain(DeliveryOutcome.DeadLettered, await DeliverAsync(Topics.FeedbackReceived, items.Select(i => Received(i, freshJourney, freshProduct, newThemes: true))));

        AssertSameRows(await DriverRowsAsync(freshJourney, freshProduct), await DriverRowsAsync(earlyJourney, earlyProduct));
    }

    [Fact]
    public async Task A_re_tag_naming_no_item_or_version_or_a_theme_without_a_number_is_dead_lettered()
    {
        var item = Items(1, seed: 18)[0];
        var noId = Retagged(item, "bad", 2, []);
        noId.FeedbackId = "not-a-uuid";
        var noVersion = Retagged(item, "bad0", 0, []);
        var notANumber = Retagged(item, "badnan", 2, [("delivery", double.NaN)]);
        var noKey = Retagged(item, "badkey", 2, [("", 0.5)]);
        Assert.All(await DeliverAsync(Topics.FeedbackRetagged, [noId, noVersion, notANumber, noKey]), o => Assert.Equal(DeliveryOutcome.DeadLettered, o));
        await using var connection = await Database.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from driver_items where feedback_id = @id", new { id = item.Id }));
    }
}
