using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using CxMesh.Platform.Postgres;
using Dapper;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CxMesh.Platform.Messaging;

/// <summary>
/// Hands an incoming event to one subscription exactly once: parse, record <c>(event_id, handler)</c>
/// in the inbox and apply the handler in one transaction. Unusable events go to <c>dead_letters</c>;
/// failures of Postgres or of the handler propagate, so the transport retries.
/// </summary>
public sealed class EventDispatcher(IServiceProvider services, ILogger<EventDispatcher> logger)
{
    public async Task<DeliveryOutcome> DeliverAsync(EventSubscription subscription, IncomingEvent evt, CancellationToken ct)
    {
        using var activity = MessagingTelemetry.Source.StartActivity(
            $"{evt.Topic} process", ActivityKind.Consumer, MessagingTelemetry.ParentFrom(evt.TraceParent));
        activity?.SetTag("messaging.destination.name", evt.Topic);
        activity?.SetTag("messaging.consumer.group.name", subscription.HandlerName);
        activity?.SetTag("messaging.message.id", evt.EventId);

        var database = services.GetRequiredKeyedService<ServiceDatabase>(subscription.Service);

        if (evt.EventType is { Length: > 0 } type && type != subscription.Topic.EventType)
        {
            return await DeadLetterAsync(database, subscription, evt, evt.EventId, $"Unknown event type '{type}' on topic {evt.Topic}; expected {subscription.Topic.EventType}.", ct);
        }

        IMessage message;
        try
        {
            message = subscription.Parse(evt.Payload);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return await DeadLetterAsync(database, subscription, evt, evt.EventId, $"Unparseable payload: {ex.Message}", ct);
        }

        var eventId = EventIds.Of(message) is { Length: > 0 } id ? id : evt.EventId;
        if (string.IsNullOrEmpty(eventId))
        {
            return await DeadLetterAsync(database, subscription, evt, null, "The event has no event_id.", ct);
        }
        activity?.SetTag("messaging.message.id", eventId);

        await using var connection = await database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var first = await connection.ExecuteAsync(new CommandDefinition(
            "insert into inbox (event_id, handler, topic) values (@eventId, @handler, @topic) on conflict do nothing",
            new { eventId, handler = subscription.HandlerName, topic = evt.Topic }, tx, cancellationToken: ct));
        if (first == 0)
        {
            await tx.RollbackAsync(ct);
            MessagingTelemetry.Duplicates.Add(1, new KeyValuePair<string, object?>("handler", subscription.HandlerName));
            logger.LogDebug("Event {EventId} already applied by {Handler}", eventId, subscription.HandlerName);
            return DeliveryOutcome.Duplicate;
        }

        var context = new EventContext(database.Service, connection, tx, database.Clock, eventId, evt.Topic);
        try
        {
            await using var scope = services.CreateAsyncScope();
            await subscription.Handle(scope.ServiceProvider, message, context, ct);
        }
        catch (InvalidEventException ex)
        {
            await tx.RollbackAsync(CancellationToken.None);
            return await DeadLetterAsync(database, subscription, evt, eventId, ex.Message, ct);
        }
        await tx.CommitAsync(ct);
        MessagingTelemetry.Handled.Add(1, new KeyValuePair<string, object?>("handler", subscription.HandlerName));

        await WriteScope.RunAfterCommitAsync(context.AfterCommitActions, logger, $"{subscription.HandlerName} for event {eventId}", ct);
        return DeliveryOutcome.Applied;
    }

    /// <summary>
    /// Hands many events of one topic to one subscription in a single transaction: the inbox rows in one statement,
    /// each new event's handler under its own savepoint (an unusable event is rolled back alone and dead-lettered),
    /// one commit. Outcomes are in the order of <paramref name="events"/>.
    /// </summary>
    public async Task<IReadOnlyList<DeliveryOutcome>> DeliverManyAsync(EventSubscription subscription, IReadOnlyList<IncomingEvent> events, CancellationToken ct)
    {
        var database = services.GetRequiredKeyedService<ServiceDatabase>(subscription.Service);
        var outcomes = new DeliveryOutcome[events.Count];
        var parsed = await ParseAsync(database, subscription, events, outcomes, ct);
        if (parsed.Count == 0) return outcomes;

        using var activity = MessagingTelemetry.Source.StartActivity($"{subscription.Topic.Name} process batch", ActivityKind.Consumer);
        activity?.SetTag("messaging.destination.name", subscription.Topic.Name);
        activity?.SetTag("messaging.consumer.group.name", subscription.HandlerName);
        activity?.SetTag("messaging.batch.message_count", parsed.Count);

        await using var connection = await database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var fresh = (await connection.QueryAsync<string>(new CommandDefinition(
            """
            insert into inbox (event_id, handler, topic)
            select distinct id, @handler, @topic from unnest(@ids) as id
            on conflict do nothing
            returning event_id
            """,
            new { ids = parsed.Select(p => p.EventId).ToArray(), handler = subscription.HandlerName, topic = subscription.Topic.Name }, tx, cancellationToken: ct)))
            .ToHashSet(StringComparer.Ordinal);

        var batch = new Batch(database, subscription, connection, tx, events, outcomes, fresh);
        if (subscription.HandleMany is { } handleMany) await ApplyTogetherAsync(batch, handleMany, parsed, ct);
        else await ApplyOneByOneAsync(batch, parsed, ct);
        await tx.CommitAsync(ct);
        MessagingTelemetry.Handled.Add(outcomes.Count(o => o == DeliveryOutcome.Applied), new KeyValuePair<string, object?>("handler", subscription.HandlerName));

        foreach (var (index, eventId, error) in batch.Invalid)
        {
            outcomes[index] = await DeadLetterAsync(database, subscription, events[index], eventId, error, ct);
        }
        foreach (var (eventId, action) in batch.AfterCommit)
        {
            await WriteScope.RunAfterCommitAsync([action], logger, $"{subscription.HandlerName} for event {eventId}", ct);
        }
        return outcomes;
    }

    /// <summary>One batch delivery in progress: its transaction, the new events' ids, and what is left to do after it commits.</summary>
    private sealed record Batch(ServiceDatabase Database, EventSubscription Subscription, Npgsql.NpgsqlConnection Connection, Npgsql.NpgsqlTransaction Transaction,
        IReadOnlyList<IncomingEvent> Events, DeliveryOutcome[] Outcomes, HashSet<string> Fresh)
    {
        public List<(string EventId, Func<CancellationToken, Task> Action)> AfterCommit { get; } = [];
        public List<(int Index, string EventId, string Error)> Invalid { get; } = [];
    }

    /// <summary>Parses the batch; unusable events (wrong type, unparseable, no id) are dead-lettered and left out.</summary>
    private async Task<List<(int Index, string EventId, IMessage Message)>> ParseAsync(ServiceDatabase database, EventSubscription subscription,
        IReadOnlyList<IncomingEvent> events, DeliveryOutcome[] outcomes, CancellationToken ct)
    {
        var parsed = new List<(int Index, string EventId, IMessage Message)>();
        for (var i = 0; i < events.Count; i++)
        {
            var evt = events[i];
            IMessage? message = null;
            string? problem = null;
            if (evt.EventType is { Length: > 0 } type && type != subscription.Topic.EventType)
            {
                problem = $"Unknown event type '{type}' on topic {evt.Topic}; expected {subscription.Topic.EventType}.";
            }
            else
            {
                try
                {
                    message = subscription.Parse(evt.Payload);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    problem = $"Unparseable payload: {ex.Message}";
                }
            }
            var eventId = message is not null && EventIds.Of(message) is { Length: > 0 } id ? id : evt.EventId;
            if (problem is null && string.IsNullOrEmpty(eventId)) problem = "The event has no event_id.";
            if (problem is not null)
            {
                outcomes[i] = await DeadLetterAsync(database, subscription, evt, message is null ? evt.EventId : eventId, problem, ct);
                continue;
            }
            parsed.Add((i, eventId!, message!));
        }
        return parsed;
    }

    /// <summary>Set-based: the handler applies every new event at once and names the unusable ones, which had no effect.</summary>
    private async Task ApplyTogetherAsync(Batch batchDelivery, Func<IServiceProvider, IReadOnlyList<IMessage>, EventContext, CancellationToken, Task<IReadOnlyDictionary<int, string>>> handleMany,
        List<(int Index, string EventId, IMessage Message)> parsed, CancellationToken ct)
    {
        var (database, subscription, connection, tx, events, outcomes, fresh) = batchDelivery;
        var (afterCommit, invalid) = (batchDelivery.AfterCommit, batchDelivery.Invalid);
        var batch = new List<(int Index, string EventId, IMessage Message)>();
        foreach (var item in parsed)
        {
            if (fresh.Remove(item.EventId)) batch.Add(item);
            else outcomes[item.Index] = DeliveryOutcome.Duplicate;
        }
        if (batch.Count > 0)
        {
            var context = new EventContext(database.Service, connection, tx, database.Clock, batch[0].EventId, subscription.Topic.Name);
            var startedAt = DateTimeOffset.UtcNow;
            await using var scope = services.CreateAsyncScope();
            var errors = await handleMany(scope.ServiceProvider, batch.Select(b => b.Message).ToList(), context, ct);
            for (var b = 0; b < batch.Count; b++)
            {
                if (errors.TryGetValue(b, out var error)) invalid.Add((batch[b].Index, batch[b].EventId, error));
                else outcomes[batch[b].Index] = DeliveryOutcome.Applied;
                // Each event continues its own trace, as a single delivery would.
                using var eventActivity = MessagingTelemetry.Source.StartActivity($"{subscription.Topic.Name} process", ActivityKind.Consumer,
                    MessagingTelemetry.ParentFrom(events[batch[b].Index].TraceParent), startTime: startedAt);
                eventActivity?.SetTag("messaging.consumer.group.name", subscription.HandlerName);
                eventActivity?.SetTag("messaging.message.id", batch[b].EventId);
                eventActivity?.SetTag("messaging.batch.message_count", batch.Count);
            }
            if (invalid.Count > 0)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "delete from inbox where handler = @handler and event_id = any(@ids)",
                    new { handler = subscription.HandlerName, ids = invalid.Select(i => i.EventId).ToArray() }, tx, cancellationToken: ct));
            }
            afterCommit.AddRange(context.AfterCommitActions.Select(a => (batch[0].EventId, a)));
        }
    }

    /// <summary>Each new event under its own savepoint: an unusable one is rolled back alone and dead-lettered.</summary>
    private async Task ApplyOneByOneAsync(Batch batchDelivery, List<(int Index, string EventId, IMessage Message)> parsed, CancellationToken ct)
    {
        var (database, subscription, connection, tx, events, outcomes, fresh) = batchDelivery;
        var (afterCommit, invalid) = (batchDelivery.AfterCommit, batchDelivery.Invalid);
        foreach (var (index, eventId, message) in parsed)
        {
            // A repeat (delivered before, or twice in this batch) is a duplicate.
            if (!fresh.Remove(eventId))
            {
                outcomes[index] = DeliveryOutcome.Duplicate;
                MessagingTelemetry.Duplicates.Add(1, new KeyValuePair<string, object?>("handler", subscription.HandlerName));
                continue;
            }
            // Each event continues its own trace, as a single delivery would.
            using var eventActivity = MessagingTelemetry.Source.StartActivity(
                $"{subscription.Topic.Name} process", ActivityKind.Consumer, MessagingTelemetry.ParentFrom(events[index].TraceParent));
            eventActivity?.SetTag("messaging.destination.name", subscription.Topic.Name);
            eventActivity?.SetTag("messaging.consumer.group.name", subscription.HandlerName);
            eventActivity?.SetTag("messaging.message.id", eventId);
            var context = new EventContext(database.Service, connection, tx, database.Clock, eventId, subscription.Topic.Name);
            await tx.SaveAsync("event", ct);
            try
            {
                await using var scope = services.CreateAsyncScope();
                await subscription.Handle(scope.ServiceProvider, message, context, ct);
                await tx.ReleaseAsync("event", ct);
                outcomes[index] = DeliveryOutcome.Applied;
                afterCommit.AddRange(context.AfterCommitActions.Select(a => (eventId, a)));
            }
            catch (InvalidEventException ex)
            {
                await tx.RollbackAsync("event", ct);
                await connection.ExecuteAsync(new CommandDefinition(
                    "delete from inbox where event_id = @eventId and handler = @handler", new { eventId, handler = subscription.HandlerName }, tx, cancellationToken: ct));
                invalid.Add((index, eventId, ex.Message));
            }
        }
    }

    /// <summary>Keeps an event the transport gave up on (a Dapr dead-letter topic) in <c>dead_letters</c>.</summary>
    public Task<DeliveryOutcome> RecordDeadLetterAsync(EventSubscription subscription, IncomingEvent evt, string error, CancellationToken ct)
    {
        string? eventId = evt.EventId;
        try
        {
            eventId = EventIds.Of(subscription.Parse(evt.Payload)) is { Length: > 0 } id ? id : eventId;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            error += $" The payload is unparseable: {ex.Message}";
        }
        return DeadLetterAsync(services.GetRequiredKeyedService<ServiceDatabase>(subscription.Service), subscription, evt, eventId, error, ct);
    }

    private async Task<DeliveryOutcome> DeadLetterAsync(ServiceDatabase database, EventSubscription subscription, IncomingEvent evt,
        string? eventId, string error, CancellationToken ct)
    {
        // An unparseable event may have no usable id: key it by its content so a redelivery is not stored twice.
        eventId ??= "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(evt.Payload)));
        logger.LogWarning("Dead-lettering event {EventId} on {Topic} for {Handler}: {Error}", eventId, evt.Topic, subscription.HandlerName, error);
        await using var connection = await database.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into dead_letters (event_id, handler, topic, event_type, payload, error)
            values (@eventId, @handler, @topic, @type, @payload, @error)
            on conflict (event_id, handler) do nothing
            """,
            new { eventId, handler = subscription.HandlerName, topic = evt.Topic, type = evt.EventType, payload = evt.Payload, error },
            cancellationToken: ct));
        MessagingTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("handler", subscription.HandlerName));
        Activity.Current?.SetStatus(ActivityStatusCode.Error, error);
        return DeliveryOutcome.DeadLettered;
    }

}
