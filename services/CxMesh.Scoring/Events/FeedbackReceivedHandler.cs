using CxMesh.Events.V1;
using CxMesh.Platform.Messaging;
using CxMesh.Scoring.UseCases;

namespace CxMesh.Scoring.Events;

/// <summary>Every feedback item is scored (<see cref="ScoreFeedback"/>); the in-process transport's batches at once.</summary>
public sealed class FeedbackReceivedHandler(ScoreFeedback score) : IBatchEventHandler<FeedbackReceived>
{
    public async Task HandleAsync(FeedbackReceived evt, EventContext context, CancellationToken ct)
    {
        var errors = await score.ScoreManyAsync(context, [evt], ct);
        if (errors.TryGetValue(0, out var error)) throw new InvalidEventException(error);
    }

    public Task<IReadOnlyDictionary<int, string>> HandleManyAsync(IReadOnlyList<FeedbackReceived> events, EventContext context, CancellationToken ct) =>
        score.ScoreManyAsync(context, events, ct);
}
