namespace CxMesh.Platform.Messaging;

/// <summary>An event as the relay hands it to a transport.</summary>
public sealed record OutgoingEvent(string EventId, string Topic, string EventType, string Payload, string? TraceParent, string Source);

/// <summary>Publishes events the relay took from an outbox. Throwing means "not delivered, retry later".</summary>
public interface IEventTransport
{
    Task PublishAsync(OutgoingEvent evt, CancellationToken ct);
}
