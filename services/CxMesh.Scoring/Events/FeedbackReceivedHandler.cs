using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Platform.Messaging;
using CxMesh.Scoring.Data;
using CxMesh.Scoring.Domain;

namespace CxMesh.Scoring.Events;

/// <summary>Adds each NPS rating of a feedback item to the daily aggregates of every scope it counts in.</summary>
public sealed class FeedbackReceivedHandler(HotScores hotScores) : IEventHandler<FeedbackReceived>
{
    public async Task HandleAsync(FeedbackReceived evt, EventContext context, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(evt.FeedbackId)) throw new InvalidEventException("feedback_id is missing.");
        if (evt.GivenAt is null) throw new InvalidEventException("given_at is missing.");

        // A repeated saying of the same customer (a syndicated review) counts once: the first time.
        if (evt.DuplicateOf.Length > 0) return;

        var nps = evt.Ratings.Where(r => r.Metric == Metric.Nps).ToList();
        if (nps.Count == 0) return;

        var delta = default(NpsTally);
        double sum = 0, squares = 0;
        foreach (var rating in nps)
        {
            if (rating.ScaleMin != 0 || rating.ScaleMax != 10 || rating.Value is < 0 or > 10)
            {
                throw new InvalidEventException($"NPS rating {rating.Value} of question {rating.QuestionId} is not on the 0-10 scale.");
            }
            delta += NpsTally.Of(rating.Value);
            sum += rating.Value;
            squares += rating.Value * (double)rating.Value;
        }

        var scopes = ScoreScope.ScopesOf(evt.JourneyId).Select(s => s.Key).ToList();
        var day = DateOnly.FromDateTime(evt.GivenAt.ToDateTime());
        await ScoreStore.AddNpsAsync(context.Connection, context.Transaction, scopes, day, delta, sum, squares, ct);

        foreach (var scope in scopes)
        {
            context.AfterCommit(token => hotScores.RefreshAsync(scope, token));
        }
    }
}
