using System.Diagnostics;
using CxMesh.Platform.Messaging;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CxMesh.Platform.Postgres;

/// <summary>
/// The one way a service changes its state: a connection with an open transaction, the write's clock, events
/// published into the outbox in the same transaction, and work to do once it committed. Obtained with
/// <see cref="ServiceDatabase.BeginWriteAsync"/> (or handed to an event handler as an <see cref="EventContext"/>);
/// everything written or published through it commits together or not at all.
/// </summary>
public class WriteScope : IAsyncDisposable
{
    private readonly List<Func<CancellationToken, Task>> _afterCommit = [];
    private readonly bool _owned;
    private readonly ILogger? _logger;

    internal WriteScope(string service, NpgsqlConnection connection, NpgsqlTransaction transaction, TimeProvider clock, bool owned, ILogger? logger)
    {
        Service = service;
        Connection = connection;
        Transaction = transaction;
        Clock = clock;
        Now = clock.GetUtcNow();
        _owned = owned;
        _logger = logger;
        // Captured once: every event of this write continues the trace that made it.
        TraceParent = Activity.Current is { } a ? $"00-{a.TraceId}-{a.SpanId}-{(a.Recorded ? "01" : "00")}" : null;
    }

    public string Service { get; }
    public NpgsqlConnection Connection { get; }
    public NpgsqlTransaction Transaction { get; }
    public TimeProvider Clock { get; }
    /// <summary>The time of this write, read once when it began: every row and event it makes carries the same instant.</summary>
    public DateTimeOffset Now { get; }
    /// <summary>The W3C trace parent its events carry (null when nothing is traced).</summary>
    public string? TraceParent { get; }

    /// <summary>
    /// Publishes <paramref name="message"/> on <paramref name="topic"/> when the write commits. Its <c>event_id</c> is set to
    /// <c>&lt;topic&gt;/&lt;key&gt;</c> (<see cref="EventIds.For"/>): give a <paramref name="key"/> derived from what the event
    /// is about when publishing it twice must count once, none for a fresh one. Returns the event id.
    /// </summary>
    public async Task<string> PublishAsync<TEvent>(EventTopic<TEvent> topic, TEvent message, string? key, CancellationToken ct)
        where TEvent : IMessage<TEvent>, new()
    {
        var eventId = EventIds.Stamp(topic, message, key);
        await Outbox.EnqueueAsync(this, topic, eventId, message, ct);
        return eventId;
    }

    /// <inheritdoc cref="PublishAsync{TEvent}(EventTopic{TEvent}, TEvent, string?, CancellationToken)"/>
    public Task<string> PublishAsync<TEvent>(EventTopic<TEvent> topic, TEvent message, CancellationToken ct)
        where TEvent : IMessage<TEvent>, new() => PublishAsync(topic, message, null, ct);

    /// <summary>
    /// Publishes many events in one statement, each keyed by <paramref name="keyOf"/>. An event whose id was published
    /// before is skipped, so work that re-derives its events from what it saw can run again without publishing twice.
    /// </summary>
    public Task PublishManyAsync<TEvent>(EventTopic<TEvent> topic, IReadOnlyCollection<TEvent> messages, Func<TEvent, string> keyOf, CancellationToken ct)
        where TEvent : IMessage<TEvent>, new()
    {
        foreach (var message in messages) EventIds.Stamp(topic, message, keyOf(message));
        return Outbox.EnqueueManyAsync(this, topic, messages, ct);
    }

    /// <summary>
    /// Publishes many events that are new by construction (keys never used before, such as ids this write created) with
    /// one binary COPY, the cheapest way in for bulk ingest. A repeated id fails the whole write.
    /// </summary>
    public Task PublishNewAsync<TEvent>(EventTopic<TEvent> topic, IReadOnlyCollection<TEvent> messages, Func<TEvent, string> keyOf, CancellationToken ct)
        where TEvent : IMessage<TEvent>, new()
    {
        foreach (var message in messages) EventIds.Stamp(topic, message, keyOf(message));
        return Outbox.CopyNewAsync(this, topic, messages, ct);
    }

    /// <summary>Work to do once the transaction committed (refreshing a cache, waking a worker). Failures are logged, not retried.</summary>
    public void AfterCommit(Func<CancellationToken, Task> action) => _afterCommit.Add(action);

    internal IReadOnlyList<Func<CancellationToken, Task>> AfterCommitActions => _afterCommit;

    /// <summary>Commits the write and runs its after-commit work. Only for a write begun with <see cref="ServiceDatabase.BeginWriteAsync"/>.</summary>
    public async Task CommitAsync(CancellationToken ct)
    {
        if (!_owned) throw new InvalidOperationException("An event handler's write commits with the event; it is not committed by the handler.");
        await Transaction.CommitAsync(ct);
        await RunAfterCommitAsync(_afterCommit, _logger, Service, ct);
    }

    /// <summary>Rolls the write back: nothing written or published through it remains. Disposing without committing does the same.</summary>
    public Task RollbackAsync(CancellationToken ct) =>
        _owned ? Transaction.RollbackAsync(ct) : throw new InvalidOperationException("An event handler's write is rolled back by throwing.");

    internal static async Task RunAfterCommitAsync(IEnumerable<Func<CancellationToken, Task>> actions, ILogger? logger, string what, CancellationToken ct)
    {
        foreach (var action in actions)
        {
            try
            {
                await action(ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger?.LogWarning(ex, "After-commit step of {What} failed", what);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_owned) return;
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The one format of event ids: <c>&lt;topic without its version&gt;/&lt;key&gt;</c>, the key a fresh UUIDv7 unless given.</summary>
public static class EventIds
{
    public static string For(IEventTopic topic, string? key)
    {
        var name = topic.Name.EndsWith(".v1", StringComparison.Ordinal) ? topic.Name[..^3] : topic.Name;
        return $"{name}/{(string.IsNullOrEmpty(key) ? Guid.CreateVersion7().ToString() : key)}";
    }

    /// <summary>The <c>event_id</c> an event carries; null when its message has no such field.</summary>
    public static string? Of(IMessage message) => message.Descriptor.FindFieldByName("event_id")?.Accessor.GetValue(message) as string;

    internal static string Stamp<TEvent>(EventTopic<TEvent> topic, TEvent message, string? key) where TEvent : IMessage<TEvent>, new()
    {
        var eventId = For(topic, key);
        var field = message.Descriptor.FindFieldByName("event_id")
            ?? throw new InvalidOperationException($"{topic.EventType} has no event_id field.");
        field.Accessor.SetValue(message, eventId);
        return eventId;
    }
}
