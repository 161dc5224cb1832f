using System.Diagnostics;
using Dapper;
using Google.Protobuf;
using Npgsql;

namespace CxMesh.Platform.Messaging;

/// <summary>Writes an event into the service's outbox, inside the caller's transaction.</summary>
public static class Outbox
{
    public static Task EnqueueAsync<TEvent>(NpgsqlConnection connection, NpgsqlTransaction transaction, EventTopic<TEvent> topic,
        string eventId, TEvent message, CancellationToken ct)
        where TEvent : IMessage<TEvent>, new()
    {
        var traceparent = Activity.Current is { } a ? $"00-{a.TraceId}-{a.SpanId}-{(a.Recorded ? "01" : "00")}" : null;
        return connection.ExecuteAsync(new CommandDefinition(
            """
            insert into outbox (event_id, topic, event_type, payload, traceparent)
            values (@eventId, @topic, @type, @payload, @traceparent)
            """,
            new { eventId, topic = topic.Name, type = topic.EventType, payload = EventJson.Format(message), traceparent },
            transaction, cancellationToken: ct));
    }
}

public static class OutboxBatch
{
    /// <summary>
    /// Enqueues many events in one statement. Rows whose event id is in the outbox already are skipped, so a
    /// projection that derives deterministic event ids from what it saw can run again without publishing twice.
    /// </summary>
    public static Task EnqueueManyAsync<TEvent>(NpgsqlConnection connection, NpgsqlTransaction transaction, EventTopic<TEvent> topic,
        IReadOnlyCollection<TEvent> messages, Func<TEvent, string> eventIdOf, CancellationToken ct)
        where TEvent : IMessage<TEvent>, new()
    {
        if (messages.Count == 0) return Task.CompletedTask;
        var traceparent = Activity.Current is { } a ? $"00-{a.TraceId}-{a.SpanId}-{(a.Recorded ? "01" : "00")}" : null;
        return connection.ExecuteAsync(new CommandDefinition(
            """
            insert into outbox (event_id, topic, event_type, payload, traceparent)
            select id, @topic, @type, payload, @traceparent from unnest(@ids, @payloads) as e(id, payload)
            on conflict (event_id) do nothing
            """,
            new
            {
                topic = topic.Name,
                type = topic.EventType,
                traceparent,
                ids = messages.Select(eventIdOf).ToArray(),
                payloads = messages.Select(m => EventJson.Format(m)).ToArray(),
            }, transaction, cancellationToken: ct));
    }
}

public static class OutboxCopy
{
    /// <summary>
    /// Enqueues many new events (fresh ids, never written before) with one binary COPY: the cheapest way in for
    /// bulk ingest. A repeated id fails the whole transaction, so use <see cref="OutboxBatch"/> for re-derived events.
    /// </summary>
    public static async Task EnqueueNewAsync<TEvent>(NpgsqlConnection connection, EventTopic<TEvent> topic,
        IReadOnlyCollection<TEvent> messages, Func<TEvent, string> eventIdOf, CancellationToken ct)
        where TEvent : IMessage<TEvent>, new()
    {
        if (messages.Count == 0) return;
        var traceparent = Activity.Current is { } a ? $"00-{a.TraceId}-{a.SpanId}-{(a.Recorded ? "01" : "00")}" : null;
        await using var copy = await connection.BeginBinaryImportAsync(
            "copy outbox (event_id, topic, event_type, payload, traceparent) from stdin (format binary)", ct);
        foreach (var message in messages)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(eventIdOf(message), NpgsqlTypes.NpgsqlDbType.Text, ct);
            await copy.WriteAsync(topic.Name, NpgsqlTypes.NpgsqlDbType.Text, ct);
            await copy.WriteAsync(topic.EventType, NpgsqlTypes.NpgsqlDbType.Text, ct);
            await copy.WriteAsync(EventJson.Format(message), NpgsqlTypes.NpgsqlDbType.Text, ct);
            if (traceparent is null) await copy.WriteNullAsync(ct);
            else await copy.WriteAsync(traceparent, NpgsqlTypes.NpgsqlDbType.Text, ct);
        }
        await copy.CompleteAsync(ct);
    }
}

/// <summary>Operations on parked outbox rows (the ones the relay gave up on).</summary>
public static class ParkedEvents
{
    public sealed record Parked(string EventId, string Topic, int Attempts, string? LastError, DateTime ParkedAt);

    public static async Task<IReadOnlyList<Parked>> ListAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<Parked>(new CommandDefinition(
            """
            select event_id as EventId, topic, attempts, last_error as LastError, parked_at as ParkedAt
            from outbox where parked_at is not null order by id
            """, cancellationToken: ct))).ToList();
    }

    /// <summary>Puts parked rows back in the queue with a fresh attempt budget. Returns how many.</summary>
    public static async Task<int> ReplayAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var count = await connection.ExecuteAsync(new CommandDefinition(
            "update outbox set parked_at = null, attempts = 0, next_attempt_at = now() where parked_at is not null",
            cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("select pg_notify('cxmesh_outbox', '')", cancellationToken: ct));
        return count;
    }
}
