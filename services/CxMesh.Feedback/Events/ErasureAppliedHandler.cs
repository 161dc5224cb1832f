using CxMesh.Events.V1;
using CxMesh.Feedback.Data;
using CxMesh.Platform.Messaging;

namespace CxMesh.Feedback.Events;

/// <summary>Another service's part of an erasure arrives: it joins the erasure's receipt.</summary>
public sealed class ErasureAppliedHandler : IEventHandler<ErasureApplied>
{
    public Task HandleAsync(ErasureApplied evt, EventContext context, CancellationToken ct)
    {
        if (evt.ErasureId.Length == 0 || evt.Service.Length == 0) throw new InvalidEventException("erasure_id and service are required.");
        return FeedbackStore.RecordErasureAppliedAsync(context, evt, ct);
    }
}
