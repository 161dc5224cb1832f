using CxMesh.Events.V1;
using CxMesh.Journey.Data;
using CxMesh.Platform.Messaging;

namespace CxMesh.Journey.Events;

/// <summary>
/// A customer's erasure reaches their journeys: touchpoints, instances and pending work move to a random pseudonym
/// (irreversible: nothing links it back), attributes and idempotency keys go. Funnels keep their counts, and
/// relationship metrics still see one (anonymous) customer's instances together.
/// </summary>
public sealed class FeedbackErasedHandler(TimeProvider clock) : IEventHandler<FeedbackErased>
{
    public async Task HandleAsync(FeedbackErased evt, EventContext context, CancellationToken ct)
    {
        if (evt.CustomerId.Length == 0) throw new InvalidEventException("customer_id is missing.");
        var (touchpoints, instances) = await TouchpointStore.PseudonymiseCustomerAsync(context, evt.CustomerId, ct);
        var messages = await Erasures.ForgetMessagesAsync(context, evt.CustomerId, ct);
        await Erasures.ReportAsync(context, evt, JourneyModule.Name,
            new Dictionary<string, long> { ["touchpoints"] = touchpoints, ["instances"] = instances, ["messages"] = messages }, clock.GetUtcNow(), ct);
    }
}
