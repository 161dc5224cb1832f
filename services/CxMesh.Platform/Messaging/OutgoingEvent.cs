namespace CxMesh.Platform.Messaging;

/// <summary>An event as the relay hands it to a transport.</summary>
public sealed record OutgoingEvent(string EventId, string Topic, string EventType, string Payload, string? TraceParent, string Source);

/// <summary>Publishes events the relay took from an outbox. Throwing means "not delivered, retry later".</summary>
public interface IEventTransport
{
    Task PublishAsync(OutgoingEvent evt, CancellationToken ct);

    /// <summary>
    /// Publishes events in order until one fails: returns how many were delivered, and the failure of the next one
    /// (the rest were not attempted). A transport may deliver them together.
    /// </summary>
    Task<(int Delivered, Exception? Failure)> PublishManyAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken ct) =>
        OneByOneAsync(this, events, ct);

    /// <summary>Publishes events one at a time, in order, until one fails.</summary>
    static async Task<(int Delivered, Exception? Failure)> OneByOneAsync(IEventTransport transport, IReadOnlyList<OutgoingEvent> events, CancellationToken ct)
    {
        for (var i = 0; i < events.Count; i++)
        {
            try
            {
                await transport.PublishAsync(events[i], ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                return (i, ex);
            }
        }
        return (events.Count, null);
    }
}
