using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace CxMesh.Scoring.Tests;

/// <summary>
/// Migration 0006 carries the key-driver sums kept before it (no presence sums, no promoter outcome, one pair row for
/// every rated response) over to what the handler keeps now: the same rows, to the last digit, as if every item had
/// been scored after it.
/// </summary>
public sealed class DriverMigrationTests : IAsyncLifetime
{
    private CxMeshTestHost _host = null!;

    public async Task InitializeAsync() => _host = await CxMeshTestHost.StartAsync(s => s.Services = "scoring");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static RatingValue Rating(string question, Metric metric, int value, int min, int max) =>
        new() { QuestionId = question, Metric = metric, Value = value, ScaleMin = min, ScaleMax = max, HigherIsBetter = true, TopBoxValues = { max } };

    private async Task DeliverAsync(FeedbackReceived evt)
    {
        var subscription = _host.Services.GetServices<EventSubscription>().Single(s => s.Service == "scoring" && s.Topic.Name == Topics.FeedbackReceived.Name);
        var outcome = await _host.Services.GetRequiredService<EventDispatcher>().DeliverAsync(subscription,
            new IncomingEvent(evt.EventId, Topics.FeedbackReceived.Name, Topics.FeedbackReceived.EventType, EventJson.Format(evt), null), default);
        Assert.Equal(DeliveryOutcome.Applied, outcome);
    }

    private sealed record Row(string ScopeKey, string Outcome, DateTime Day, string A, string B, long Cnt, long Neg, double S1, double S2, double S3, double S4, double S5)
    {
        public string Key => $"{ScopeKey}/{Outcome}/{Day:yyyy-MM-dd}/{A}/{B}";
    }

    [Fact]
    public async Task The_sums_kept_before_read_after_the_migration_as_the_handler_keeps_them_now()
    {
        var random = new Random(41);
        string[] themes = ["delivery", "taste", "packaging", "price-value"];
        for (var i = 0; i < 160; i++)
        {
            var evt = new FeedbackReceived
            {
                EventId = Guid.NewGuid().ToString(),
                OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
                FeedbackId = Guid.NewGuid().ToString(),
                Channel = i % 4 == 0 ? Channel.Complaint : Channel.Survey,
                JourneyKey = i % 3 == 0 ? "delivery" : "coffee",
                StoreId = $"store-{i % 2}",
                GivenAt = Timestamp.FromDateTime(DateTime.UtcNow.Date.AddDays(-(i % 4)).AddHours(1)),
            };
            // NPS and CSAT, NPS alone, CSAT alone, or no rating; employees rate eNPS.
            var employee = i % 10 == 9;
            if (employee) evt.Audience = "employee";
            if (i % 4 is 0 or 1) evt.Ratings.Add(employee ? Rating("enps", Metric.Enps, random.Next(0, 11), 0, 10) : Rating("nps", Metric.Nps, random.Next(0, 11), 0, 10));
            if (i % 4 is 0 or 2 && !employee) evt.Ratings.Add(Rating("csat", Metric.Csat, random.Next(1, 6), 1, 5));
            if (i % 5 != 4)
            {
                evt.RedactedVerbatim = "said something";
                evt.Language = i % 2 == 0 ? "en" : "zh";
                evt.SentimentScore = random.Next(-100, 101) / 100.0;
                foreach (var theme in themes.Where(_ => random.NextDouble() < 0.5))
                {
                    evt.Themes.Add(new ThemeMention { ThemeKey = theme, SentimentScore = random.Next(-100, 101) / 100.0 });
                }
            }
            else if (evt.Ratings.Count == 0)
            {
                evt.Ratings.Add(Rating("nps", Metric.Nps, random.Next(0, 11), 0, 10));
            }
            await DeliverAsync(evt);
        }

        var database = _host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");
        const string Rows = "select scope_key as ScopeKey, outcome, day::timestamp as Day, a, b, cnt, neg, s1, s2, s3, s4, s5 from driver_daily";
        List<Row> now;
        await using (var connection = await database.OpenConnectionAsync())
        {
            now = (await connection.QueryAsync<Row>(Rows)).ToList();
            Assert.Contains(now, r => r.Outcome == "promoter" && r.A.Length > 0);
            Assert.Contains(now, r => r.Outcome == "*csat");

            // Back to what the handler kept before 0006.
            await connection.ExecuteAsync(
                """
                delete from driver_daily where outcome in ('promoter', '*nps', '*csat');
                insert into driver_daily (scope_key, outcome, day, a, b, cnt, s3)
                select s.scope_key, '*', i.day, ta.theme, tb.theme, count(*), sum(ta.x * tb.x)
                from driver_items i
                cross join lateral unnest(i.themes, i.theme_scores) as ta(theme, x)
                cross join lateral unnest(i.themes, i.theme_scores) as tb(theme, x)
                cross join lateral unnest(i.scopes) as s(scope_key)
                where cardinality(i.outcomes) > 0 and ta.theme collate "C" < tb.theme collate "C"
                group by s.scope_key, i.day, ta.theme, tb.theme;
                alter table driver_daily drop column s4, drop column s5;
                update driver_items set outcome_values = outcome_values[1:array_position(outcomes, 'promoter') - 1] || outcome_values[array_position(outcomes, 'promoter') + 1:],
                                        outcomes = array_remove(outcomes, 'promoter')
                where 'promoter' = any(outcomes);
                delete from schemaversions where scriptname like '%0006_driver_kinds.sql';
                """);
        }
        await Migrator.MigrateAsync(database, NullLogger.Instance);

        await using (var connection = await database.OpenConnectionAsync())
        {
            var migrated = (await connection.QueryAsync<Row>(Rows)).ToDictionary(r => r.Key);
            Assert.Equal(now.Select(r => r.Key).Order(), migrated.Keys.Order());
            foreach (var expected in now)
            {
                var actual = migrated[expected.Key];
                Assert.Equal((expected.Key, expected.Cnt, expected.Neg), (actual.Key, actual.Cnt, actual.Neg));
                foreach (var (e, a) in new[] { (expected.S1, actual.S1), (expected.S2, actual.S2), (expected.S3, actual.S3), (expected.S4, actual.S4), (expected.S5, actual.S5) })
                {
                    Assert.True(Math.Abs(e - a) <= 1e-9 * Math.Max(1, Math.Abs(e)), $"{expected.Key}: {e} vs {a}");
                }
            }
        }
    }
}
