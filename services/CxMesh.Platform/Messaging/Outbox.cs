using CxMesh.Platform.Postgres;
using Dapper;
using Google.Protobuf;
using Npgsql;

namespace CxMesh.Platform.Messaging;

/// <summary>
/// Writes events into the service's outbox inside a write's transaction. Only the platform's <see cref="WriteScope"/>
/// calls it, so every event of CxMesh gets its id, trace parent and transaction the same way.
/// </summary>
internal static class Outbox
{
    public static Task EnqueueAsync<TEvent>(WriteScope write, EventTopic<TEvent> topic, string eventId, TEvent message, CancellationToken ct)
        where TEvent : IMessage<TEvent>, new() =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into outbox (event_id, topic, event_type, payload, traceparent)
            values (@eventId, @topic, @type, @payload, @traceparent)
            """,
            new { eventId, topic = topic.Name, type = topic.EventType, payload = EventJson.Format(message), traceparent = write.TraceParent },
            write.Transaction, cancellationToken: ct));

    /// <summary>Many events in one statement; rows whose event id is in the outbox already are skipped.</summary>
    public static Task EnqueueManyAsync<TEvent>(WriteScope write, EventTopic<TEvent> topic, IReadOnlyCollection<TEvent> messages, CancellationToken ct)
        where TEvent : IMessage<TEvent>, new()
    {
        if (messages.Count == 0) return Task.CompletedTask;
        return write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into outbox (event_id, topic, event_type, payload, traceparent)
            select id, @topic, @type, payload, @traceparent from unnest(@ids, @payloads) as e(id, payload)
            on conflict (event_id) do nothing
            """,
            new
            {
                topic = topic.Name,
                type = topic.EventType,
                traceparent = write.TraceParent,
                ids = messages.Select(m => EventIds.Of(m)!).ToArray(),
                payloads = messages.Select(m => EventJson.Format(m)).ToArray(),
            }, write.Transaction, cancellationToken: ct));
    }

    /// <summary>Many new events with one binary COPY; a repeated id fails the whole transaction.</summary>
    public static async Task CopyNewAsync<TEvent>(WriteScope write, EventTopic<TEvent> topic, IReadOnlyCollection<TEvent> messages, CancellationToken ct)
        where TEvent : IMessage<TEvent>, new()
    {
        if (messages.Count == 0) return;
        await using var copy = await write.Connection.BeginBinaryImportAsync(
            "copy outbox (event_id, topic, event_type, payload, traceparent) from stdin (format binary)", ct);
        foreach (var message in messages)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(EventIds.Of(message)!, NpgsqlTypes.NpgsqlDbType.Text, ct);
            await copy.WriteAsync(topic.Name, NpgsqlTypes.NpgsqlDbType.Text, ct);
            await copy.WriteAsync(topic.EventType, NpgsqlTypes.NpgsqlDbType.Text, ct);
            await copy.WriteAsync(EventJson.Format(message), NpgsqlTypes.NpgsqlDbType.Text, ct);
            if (write.TraceParent is null) await copy.WriteNullAsync(ct);
            else await copy.WriteAsync(write.TraceParent, NpgsqlTypes.NpgsqlDbType.Text, ct);
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
