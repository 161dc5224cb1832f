using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.Scoring.V1;
using CxMesh.TestKit;
using Grpc.Core;

namespace CxMesh.Scoring.Tests;

/// <summary>BatchGetScores: every score exactly what GetScore answers for the same query, in order, hot ones from Redis.</summary>
public sealed class BatchGetScoresTests(ScoringFixture fixture) : ScoringTests(fixture), IClassFixture<ScoringFixture>
{
    private static GetScoreRequest Query(Scope? scope, Metric metric, V1.Window? window, string questionId = "") =>
        new() { Scope = scope, Metric = metric, Window = window, QuestionId = questionId };

    [Fact]
    public async Task Each_score_is_what_GetScore_answers_for_its_query_in_the_order_asked()
    {
        var journeys = Enumerable.Range(0, 3).Select(i => Unique($"batch{i}")).ToList();
        var events = new List<FeedbackReceived>();
        for (var j = 0; j < journeys.Count; j++)
        {
            for (var i = 0; i < 10 + 5 * j; i++)
            {
                events.Add(Feedback(journeys[j], Today.AddDays(-(i % 12)), Nps((i * (j + 3)) % 11),
                    new RatingValue { QuestionId = "csat", Metric = Metric.Csat, Value = 1 + i % 5, ScaleMin = 1, ScaleMax = 5, HigherIsBetter = true, TopBoxValues = { 4, 5 } }));
            }
        }
        await ScoringEvents.DeliverAsync(Fixture.Host, Topics.FeedbackReceived, events, e => e.EventId);
        var range = new V1.Window { Range = new DateRange { StartDate = $"{Today.AddDays(-20):yyyy-MM-dd}", EndDate = $"{Today.AddDays(-3):yyyy-MM-dd}" } };
        var queries = new List<GetScoreRequest>
        {
            Query(Journey(journeys[0]), Metric.Nps, new V1.Window { LastDays = 7 }),
            Query(Journey(journeys[1]), Metric.Csat, new V1.Window { LastDays = 30 }),
            Query(Journey(journeys[2]), Metric.Nps, range),
            Query(Journey(journeys[2]), Metric.Nps, Store),
            Query(Journey(Unique("nobody")), Metric.Nps, new V1.Window { LastDays = 90 }),
            Query(Journey(journeys[0]), Metric.Nps, new V1.Window { LastDays = 7 }), // asked twice: answered twice
            Query(null, Metric.Ces, null),
            Query(Journey(journeys[1], new Dimension { Kind = DimensionKind.Channel, Value = "survey" }), Metric.Nps, new V1.Window { LastDays = 30 }),
        };

        // Once the refresher has put the hot windows in Redis, both answers come from there.
        var batch = await Eventually.Until(
            async () => (await _client.BatchGetScoresAsync(new BatchGetScoresRequest { Queries = { queries } })).Scores,
            s => s[0].Source == "cache" && s[0].N == 7 && s[1].Source == "cache" && s[1].N == 15);
        Assert.Equal(queries.Count, batch.Count);
        for (var i = 0; i < queries.Count; i++)
        {
            var single = (await _client.GetScoreAsync(queries[i])).Score;
            Assert.Equal(Without(single), Without(batch[i]));
        }
        Assert.Equal("store", batch[2].Source);
        Assert.Equal("store", batch[3].Source);
        Assert.Equal((0L, false), (batch[4].N, batch[4].HasValue));
        Assert.Equal(batch[0], batch[5]);
        // Recomputed from the delivered answers: the journey's NPS over the last 7 days (days 0..6 of its ten answers).
        var week = Enumerable.Range(0, 10).Where(i => i % 12 <= 6).Select(i => (i * 3) % 11).ToList();
        Assert.Equal(week.Count, batch[0].N);
        Assert.Equal(100.0 * (week.Count(v => v >= 9) - week.Count(v => v <= 6)) / week.Count, batch[0].Value, 9);
    }

    // computed_at is the time of the answer; the source may differ where the first read put a miss into Redis.
    private static Score Without(Score score)
    {
        var copy = score.Clone();
        copy.ComputedAt = null;
        copy.Source = "";
        return copy;
    }

    public static TheoryData<string, string> BadBatches => new()
    {
        { "no queries", "queries" },
        { "101 queries", "queries" },
        { "a bad scope in the second", "queries[1].scope.dimensions[0].value" },
        { "no metric in the third", "queries[2].metric" },
        { "a custom metric without a question", "queries[0].question_id" },
        { "a window in the future", "queries[1].window.range.end_date" },
    };

    [Theory]
    [MemberData(nameof(BadBatches))]
    public async Task A_bad_query_refuses_the_call_naming_it(string how, string field)
    {
        var good = Query(Journey("coffee"), Metric.Nps, new V1.Window { LastDays = 30 });
        var request = new BatchGetScoresRequest();
        request.Queries.AddRange(Enumerable.Range(0, 3).Select(_ => good.Clone()));
        switch (how)
        {
            case "no queries": request.Queries.Clear(); break;
            case "101 queries": request.Queries.AddRange(Enumerable.Range(0, 98).Select(_ => good.Clone())); break;
            case "a bad scope in the second": request.Queries[1].Scope.Dimensions[0].Value = ""; break;
            case "no metric in the third": request.Queries[2].Metric = Metric.Unspecified; break;
            case "a custom metric without a question": request.Queries[0].Metric = Metric.Custom; break;
            case "a window in the future":
                request.Queries[1].Window = new V1.Window { Range = new DateRange { StartDate = $"{Today:yyyy-MM-dd}", EndDate = $"{Today.AddDays(2):yyyy-MM-dd}" } };
                break;
            default: throw new ArgumentOutOfRangeException(nameof(how));
        }
        await RpcAssert.InvalidArgumentAsync(() => _client.BatchGetScoresAsync(request).ResponseAsync, field);
    }

    [Fact]
    public async Task Apps_may_read_a_batch_and_partners_may_not()
    {
        var request = new BatchGetScoresRequest { Queries = { Query(Journey("coffee"), Metric.Nps, null) } };
        var app = Fixture.Host.Client<ScoringService.ScoringServiceClient>(Roles.App);
        Assert.Single((await app.BatchGetScoresAsync(request)).Scores);
        var partner = Fixture.Host.Client<ScoringService.ScoringServiceClient>(Roles.Partner);
        await RpcAssert.StatusAsync(() => partner.BatchGetScoresAsync(request).ResponseAsync, StatusCode.PermissionDenied);
    }
}
