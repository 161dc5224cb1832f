using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Notifications.Data;

public sealed class DeliveryRow
{
    public Guid DeliveryId { get; set; }
    public Guid ChannelId { get; set; }
    public string? EventId { get; set; }
    public string Topic { get; set; } = "";
    public string Subject { get; set; } = "";
    public string Body { get; set; } = "";
    public string? Link { get; set; }
    public string State { get; set; } = "";
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public DateTime NextAttemptAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? SentAt { get; set; }
    // The channel's, as the sender needs them.
    public string Kind { get; set; } = "";
    public string Address { get; set; } = "";
    public bool Enabled { get; set; }
    public string UnsubscribeToken { get; set; } = "";
}

/// <summary>The messages to send, as an outbox: written with the event that caused them, sent and retried by the sender.</summary>
public sealed class DeliveryStore([FromKeyedServices(NotificationsModule.Name)] ServiceDatabase database)
{
    private const string Columns =
        "d.delivery_id as deliveryid, d.channel_id as channelid, d.event_id as eventid, d.topic, d.subject, d.body, d.link, d.state, d.attempts, " +
        "d.last_error as lasterror, d.next_attempt_at as nextattemptat, d.created_at as createdat, d.sent_at as sentat, c.kind";

    /// <summary>Queues a message for a channel in the write's transaction; nothing when this event already made one for it.</summary>
    public static Task<int> EnqueueAsync(WriteScope write, DeliveryRow d, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into deliveries (delivery_id, channel_id, event_id, topic, subject, body, link, state, next_attempt_at)
            values (@DeliveryId, @ChannelId, @EventId, @Topic, @Subject, @Body, @Link, @State, @NextAttemptAt)
            on conflict (event_id, channel_id, topic) do nothing
            """, d, write.Transaction, cancellationToken: ct));

    public async Task<DeliveryRow> EnqueueTestAsync(DeliveryRow d, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        await EnqueueAsync(write, d, ct);
        var row = await write.Connection.QuerySingleAsync<DeliveryRow>(new CommandDefinition(
            $"select {Columns} from deliveries d join channels c on c.channel_id = d.channel_id where d.delivery_id = @DeliveryId", d, write.Transaction, cancellationToken: ct));
        await write.CommitAsync(ct);
        return row;
    }

    /// <summary>Deliveries of the given channels (null: all), newest first.</summary>
    /// <summary>Newest first; <paramref name="before"/>: the page starts below that delivery (the last of the previous page).</summary>
    public async Task<IReadOnlyList<DeliveryRow>> ListAsync(Guid[]? channels, (DateTime At, Guid Id)? before, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<DeliveryRow>(new CommandDefinition(
            $"""
            select {Columns} from deliveries d join channels c on c.channel_id = d.channel_id
            where (@channels::uuid[] is null or d.channel_id = any(@channels))
              and (not @paged or (d.created_at, d.delivery_id) < (@at, @id))
            order by d.created_at desc, d.delivery_id desc limit @limit
            """, new { channels, limit, paged = before is not null, at = before?.At ?? DateTime.UnixEpoch, id = before?.Id ?? Guid.Empty }, cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// Gathers every channel's due digest items into one digest message (a new pending delivery) and marks them
    /// included, in one transaction. Returns how many digests were made.
    /// </summary>
    public async Task<int> ComposeDigestsAsync(Func<ChannelRow, IReadOnlyList<DeliveryRow>, DeliveryRow> compose, DateTime now, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var due = (await write.Connection.QueryAsync<DeliveryRow>(new CommandDefinition(
            $"""
            select {Columns} from deliveries d join channels c on c.channel_id = d.channel_id
            where d.state = 'digest' and d.next_attempt_at <= @now order by d.channel_id, d.created_at limit 2000 for update of d skip locked
            """, new { now }, write.Transaction, cancellationToken: ct))).ToList();
        var made = 0;
        foreach (var group in due.GroupBy(d => d.ChannelId))
        {
            var channel = await write.Connection.QuerySingleAsync<ChannelRow>(new CommandDefinition(
                "select channel_id as channelid, owner_kind as ownerkind, owner_id as ownerid, kind, address, unsubscribe_token as unsubscribetoken from channels where channel_id = @id",
                new { id = group.Key }, write.Transaction, cancellationToken: ct));
            var digest = compose(channel, group.ToList());
            await EnqueueAsync(write, digest, ct);
            await write.Connection.ExecuteAsync(new CommandDefinition(
                "update deliveries set state = 'included', digest_id = @digest, body = '' where delivery_id = any(@ids)",
                new { digest = digest.DeliveryId, ids = group.Select(d => d.DeliveryId).ToArray() }, write.Transaction, cancellationToken: ct));
            made++;
        }
        await write.CommitAsync(ct);
        return made;
    }

    /// <summary>Claims due messages for a lease (safe with several replicas), with their channels.</summary>
    public async Task<IReadOnlyList<DeliveryRow>> ClaimAsync(DateTime now, DateTime lease, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<DeliveryRow>(new CommandDefinition(
            $"""
            with claimed as (
                update deliveries set next_attempt_at = @lease
                where delivery_id in (select delivery_id from deliveries where state = 'pending' and next_attempt_at <= @now
                                      order by next_attempt_at limit 20 for update skip locked)
                returning *)
            select d.delivery_id as deliveryid, d.channel_id as channelid, d.event_id as eventid, d.topic, d.subject, d.body, d.link, d.state, d.attempts,
                   d.last_error as lasterror, d.next_attempt_at as nextattemptat, d.created_at as createdat, d.sent_at as sentat, c.kind,
                   c.address, c.enabled, c.unsubscribe_token as unsubscribetoken
            from claimed d join channels c on c.channel_id = d.channel_id
            """, new { now, lease }, cancellationToken: ct));
        return rows.ToList();
    }

    /// <summary>Records an attempt: sent, or failed with a retry after the backoff, or given up.</summary>
    public async Task RecordAsync(Guid deliveryId, bool sent, string? error, DateTime nextAttempt, bool giveUp, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            update deliveries set attempts = attempts + 1, last_error = @error, state = case when @sent then 'sent' when @giveUp then 'failed' else 'pending' end,
                sent_at = case when @sent then now() end, next_attempt_at = @nextAttempt,
                -- The words are kept only until the message is out (or given up): the log keeps its subject and outcome.
                body = case when @sent or @giveUp then '' else body end
            where delivery_id = @deliveryId
            """, new { deliveryId, sent, error, nextAttempt, giveUp }, cancellationToken: ct));
    }
}
