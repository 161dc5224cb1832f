using CxMesh.Platform.Postgres;
using Google.Protobuf;
using Npgsql;

namespace CxMesh.Platform.Messaging;

/// <summary>
/// Applies one consumed event. Runs inside the consumer's transaction, in which the inbox row has
/// just been written: everything written and published through the <see cref="EventContext"/> (a write scope) commits
/// with it, so a redelivered event has no effect.
/// </summary>
public interface IEventHandler<in TEvent> where TEvent : IMessage<TEvent>, new()
{
    Task HandleAsync(TEvent evt, EventContext context, CancellationToken ct);
}

/// <summary>
/// A handler that can also apply many events at once, set-based, in one transaction; the in-process transport's
/// batches use it. Unusable events are returned by index with their error, and must have had no effect (check
/// every event before writing anything).
/// </summary>
public interface IBatchEventHandler<TEvent> : IEventHandler<TEvent> where TEvent : IMessage<TEvent>, new()
{
    Task<IReadOnlyDictionary<int, string>> HandleManyAsync(IReadOnlyList<TEvent> events, EventContext context, CancellationToken ct);

    /// <summary>One event is a batch of one: its error makes it unusable (dead-lettered).</summary>
    async Task IEventHandler<TEvent>.HandleAsync(TEvent evt, EventContext context, CancellationToken ct)
    {
        var errors = await HandleManyAsync([evt], context, ct);
        if (errors.TryGetValue(0, out var error)) throw new InvalidEventException(error);
    }
}

/// <summary>
/// The write an event handler makes: the consumer's transaction, in which the inbox row was just written, so what the
/// handler writes and publishes commits with it, once.
/// </summary>
public sealed class EventContext : WriteScope
{
    internal EventContext(string service, NpgsqlConnection connection, NpgsqlTransaction transaction, TimeProvider clock, string eventId, string topic)
        : base(service, connection, transaction, clock, owned: false, logger: null)
    {
        EventId = eventId;
        Topic = topic;
    }

    public string EventId { get; }
    public string Topic { get; }
}

/// <summary>
/// Thrown by a handler when the event itself is unusable (a required id missing, a value out of range).
/// The event is kept in <c>dead_letters</c> with the message and never retried by itself.
/// </summary>
public sealed class InvalidEventException(string message) : Exception(message);

/// <summary>An event as a transport delivers it to a consumer.</summary>
public sealed record IncomingEvent(string? EventId, string Topic, string? EventType, string Payload, string? TraceParent);

public enum DeliveryOutcome
{
    Applied,
    Duplicate,
    DeadLettered,
}

/// <summary>One handler of one topic in one service. Registered by the service's module.</summary>
public sealed class EventSubscription
{
    internal EventSubscription(string service, IEventTopic topic, Type handlerType,
        Func<string, IMessage> parse, Func<IServiceProvider, IMessage, EventContext, CancellationToken, Task> handle)
    {
        Service = service;
        Topic = topic;
        HandlerName = $"{service}.{handlerType.Name}";
        Parse = parse;
        Handle = handle;
    }

    public string Service { get; }
    public IEventTopic Topic { get; }
    /// <summary>The inbox key of this handler: <c>&lt;service&gt;.&lt;HandlerType&gt;</c>.</summary>
    public string HandlerName { get; }
    internal Func<string, IMessage> Parse { get; }
    internal Func<IServiceProvider, IMessage, EventContext, CancellationToken, Task> Handle { get; }
    internal Func<IServiceProvider, IReadOnlyList<IMessage>, EventContext, CancellationToken, Task<IReadOnlyDictionary<int, string>>>? HandleMany { get; init; }
}
