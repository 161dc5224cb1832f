using System.Text;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Hosting;
using Dapr.Client;
using Microsoft.Extensions.Options;

namespace CxMesh.Platform.Messaging;

/// <summary>All-in-one mode: the relay hands each event to every local handler of its topic.</summary>
public sealed class InProcessTransport(IEnumerable<EventSubscription> subscriptions, EventDispatcher dispatcher) : IEventTransport
{
    private readonly ILookup<string, EventSubscription> _byTopic = subscriptions.ToLookup(s => s.Topic.Name);

    public async Task PublishAsync(OutgoingEvent evt, CancellationToken ct)
    {
        // Each handler has its own inbox row, so if a later one fails and the relay retries,
        // the earlier ones see a duplicate and do nothing.
        foreach (var subscription in _byTopic[evt.Topic])
        {
            await dispatcher.DeliverAsync(subscription, new IncomingEvent(evt.EventId, evt.Topic, evt.EventType, evt.Payload, evt.TraceParent), ct);
        }
    }

    /// <summary>
    /// Events of one topic go to each handler in one transaction (one commit for the lot). If that fails for another
    /// reason than an outage, they are delivered one by one, so that only the event at fault is retried and parked.
    /// </summary>
    public async Task<(int Delivered, Exception? Failure)> PublishManyAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken ct)
    {
        var byTopic = events.GroupBy(e => e.Topic).ToList();
        if (byTopic.Count == 1)
        {
            try
            {
                var incoming = events.Select(e => new IncomingEvent(e.EventId, e.Topic, e.EventType, e.Payload, e.TraceParent)).ToList();
                foreach (var subscription in _byTopic[byTopic[0].Key]) await dispatcher.DeliverManyAsync(subscription, incoming, ct);
                return (events.Count, null);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && TransientFailures.IsTransient(ex))
            {
                return (0, ex);
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                // Find the one at fault below.
            }
        }
        return await IEventTransport.OneByOneAsync(this, events, ct);
    }
}

/// <summary>Cluster mode: publish through the Dapr sidecar as a CloudEvent whose id is the event id.</summary>
public sealed class DaprTransport(DaprClient dapr, IOptions<CxMeshOptions> options) : IEventTransport
{
    public Task PublishAsync(OutgoingEvent evt, CancellationToken ct)
    {
        var metadata = new Dictionary<string, string>
        {
            ["cloudevent.id"] = evt.EventId,
            ["cloudevent.type"] = evt.EventType,
            ["cloudevent.source"] = evt.Source,
        };
        if (evt.TraceParent is not null) metadata["cloudevent.traceparent"] = evt.TraceParent;
        return dapr.PublishByteEventAsync(options.Value.PubSubName, evt.Topic, Encoding.UTF8.GetBytes(evt.Payload),
            "application/json", metadata, ct);
    }
}
