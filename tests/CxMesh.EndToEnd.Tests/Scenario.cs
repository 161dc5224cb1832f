using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Scoring.V1;
using CxMesh.TestKit;

namespace CxMesh.EndToEnd.Tests;

/// <summary>Calls the all-in-one host the way an internal app would.</summary>
internal sealed class Scenario(CxMeshTestHost host)
{
    public FeedbackService.FeedbackServiceClient Feedback { get; } = host.Client<FeedbackService.FeedbackServiceClient>();
    public ScoringService.ScoringServiceClient Scoring { get; } = host.Client<ScoringService.ScoringServiceClient>();

    public static SubmitFeedbackRequest Nps(int rating, string? journey = null, string? key = null) => new()
    {
        IdempotencyKey = key ?? $"e2e-{Guid.NewGuid():N}",
        Channel = Channel.Survey,
        JourneyKey = journey ?? "",
        Ratings = { new Rating { QuestionId = "nps", Value = rating } },
    };

    public static GetScoreRequest NpsOf(string? journey = null)
    {
        var request = new GetScoreRequest { Metric = Metric.Nps };
        if (journey is not null)
        {
            request.Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Journey, Value = journey } } };
        }
        return request;
    }

    public async Task<Score> ScoreAsync(string? journey = null) => (await Scoring.GetScoreAsync(NpsOf(journey))).Score;

    /// <summary>Waits until the score of the scope counts <paramref name="n"/> responses.</summary>
    public Task<Score> ScoreWithNAsync(long n, string? journey = null) =>
        Eventually.Until(() => ScoreAsync(journey), s => s.N == n, because: $"n of {journey ?? "all"} = {n}");
}
