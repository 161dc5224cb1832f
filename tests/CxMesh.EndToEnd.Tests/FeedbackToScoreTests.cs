using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Domain;
using CxMesh.TestKit;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.EndToEnd.Tests;

/// <summary>A rating goes in over gRPC and comes out as an NPS score, through the outbox, the relay and the inbox.</summary>
public sealed class FeedbackToScoreTests : IAsyncLifetime
{
    private CxMeshTestHost _host = null!;
    private Scenario _app = null!;

    public async Task InitializeAsync()
    {
        _host = await CxMeshTestHost.StartAsync();
        _app = new Scenario(_host);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_submitted_rating_shows_up_in_the_score_of_all_feedback_and_of_its_journey()
    {
        await _app.Feedback.SubmitFeedbackAsync(Scenario.Nps(10, journey: "onboarding"));
        await _app.Feedback.SubmitFeedbackAsync(Scenario.Nps(3, journey: "onboarding"));
        await _app.Feedback.SubmitFeedbackAsync(Scenario.Nps(8));

        var all = await _app.ScoreWithNAsync(3);
        Assert.Equal(1, all.Promoters);
        Assert.Equal(1, all.Passives);
        Assert.Equal(1, all.Detractors);
        Assert.Equal(0, all.Value, 9);

        var journey = await _app.ScoreWithNAsync(2, "onboarding");
        Assert.Equal(0, journey.Value, 9);
        Assert.Equal(1, journey.Promoters);
        Assert.Equal(1, journey.Detractors);
        Assert.True(journey.MarginOfError > 0);
    }

    [Fact]
    public async Task The_same_submission_twice_is_counted_once()
    {
        var request = Scenario.Nps(9, journey: "returns", key: "retry-me-0001");
        var first = await _app.Feedback.SubmitFeedbackAsync(request);
        var second = await _app.Feedback.SubmitFeedbackAsync(request);

        Assert.False(first.Replayed);
        Assert.True(second.Replayed);
        Assert.Equal(first.Item.Id, second.Item.Id);
        await _app.ScoreWithNAsync(1, "returns");

        // Nothing else is on its way: the outbox holds exactly one event.
        var feedbackDb = _host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await feedbackDb.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("select count(*) from outbox"));
        Assert.Equal(1, (await _app.ScoreAsync("returns")).N);
    }

    [Fact]
    public async Task A_thousand_submissions_across_journeys_give_the_scores_a_recomputation_from_the_feedback_rows_gives()
    {
        var random = new Random(20261123);
        string?[] journeys = ["order", "deliver", "review", "support", null];
        var requests = Enumerable.Range(0, 1000)
            .Select(_ => Scenario.Nps(random.Next(0, 11), journeys[random.Next(journeys.Length)]))
            .ToList();
        foreach (var chunk in requests.Chunk(25))
        {
            await Task.WhenAll(chunk.Select(r => _app.Feedback.SubmitFeedbackAsync(r).ResponseAsync));
        }

        await _app.ScoreWithNAsync(1000);

        var feedbackDb = _host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await feedbackDb.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(string? Journey, int Value)>(
            "select i.journey_id, r.value from feedback_items i join feedback_ratings r on r.feedback_id = i.id where r.question_id = 'nps'")).ToList();
        Assert.Equal(1000, rows.Count);

        foreach (var journey in journeys)
        {
            var expected = rows.Where(r => journey is null || r.Journey == journey)
                .Aggregate(default(NpsTally), (t, r) => t + NpsTally.Of(r.Value));
            var actual = await _app.ScoreAsync(journey);
            Assert.Equal(expected.N, actual.N);
            Assert.Equal(expected.Promoters, actual.Promoters);
            Assert.Equal(expected.Passives, actual.Passives);
            Assert.Equal(expected.Detractors, actual.Detractors);
            Assert.Equal(expected.Value, actual.Value, 9);
            Assert.Equal(expected.MarginOfError, actual.MarginOfError, 9);
        }
    }

    [Fact]
    public async Task An_event_delivered_again_after_a_relay_crash_is_counted_once()
    {
        await _app.Feedback.SubmitFeedbackAsync(Scenario.Nps(10, journey: "redeliver"));
        await _app.ScoreWithNAsync(1, "redeliver");

        // The relay published but "crashed" before marking the row sent: it will publish it again.
        var feedbackDb = _host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using (var connection = await feedbackDb.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("update outbox set sent_at = null; select pg_notify('cxmesh_outbox', '')");
        }
        await Eventually.Until(async () =>
        {
            await using var c = await feedbackDb.OpenConnectionAsync();
            return await c.ExecuteScalarAsync<long>("select count(*) from outbox where sent_at is null");
        }, pending => pending == 0, because: "the relay re-sent the event");

        var scoringDb = _host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");
        await using var scoring = await scoringDb.OpenConnectionAsync();
        Assert.Equal(1, await scoring.ExecuteScalarAsync<long>("select count(*) from inbox"));
        Assert.Equal(1, (await _app.ScoreAsync("redeliver")).N);
    }
}
