using CxMesh.Events.V1;
using CxMesh.Platform.Messaging;
using CxMesh.Scoring.UseCases;

namespace CxMesh.Scoring.Events;

/// <summary>Every feedback item is scored (<see cref="ScoreFeedback"/>); the in-process transport's batches at once.</summary>
public sealed class FeedbackReceivedHandler(ScoreFeedback score) : IBatchEventHandler<FeedbackReceived>
{
    public Task<IReadOnlyDictionary<int, string>> HandleManyAsync(IReadOnlyList<FeedbackReceived> events, EventContext context, CancellationToken ct) =>
        score.ScoreManyAsync(context, events, ct);
}

/// <summary>A taxonomy change re-tagged stored items: their driver sums move (<see cref="RetagDrivers"/>).</summary>
public sealed class FeedbackRetaggedHandler(RetagDrivers retag) : IBatchEventHandler<FeedbackRetagged>
{
    public Task<IReadOnlyDictionary<int, string>> HandleManyAsync(IReadOnlyList<FeedbackRetagged> events, EventContext context, CancellationToken ct) =>
        retag.ApplyManyAsync(context, events, ct);
}
