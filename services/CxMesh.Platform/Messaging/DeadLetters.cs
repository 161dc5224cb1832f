using Dapper;
using Npgsql;

namespace CxMesh.Platform.Messaging;

/// <summary>
/// Events a consumer kept in <c>dead_letters</c> (unusable, or given up on by Dapr), listed and — once the cause is
/// fixed — handed to their handler again (<c>cxmesh-server dead-letters list|redeliver</c>).
/// </summary>
public static class DeadLetters
{
    public sealed record DeadLetter(long Id, string EventId, string Handler, string Topic, string? EventType, string Payload, string Error, DateTime ReceivedAt);

    public static async Task<IReadOnlyList<DeadLetter>> ListAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<DeadLetter>(new CommandDefinition(
            """
            select id as Id, event_id as EventId, handler as Handler, topic as Topic, event_type as EventType, payload as Payload,
                   error as Error, received_at as ReceivedAt
            from dead_letters order by id
            """, cancellationToken: ct))).ToList();
    }

    public sealed record Redelivery(int Applied, int AlreadyApplied, int StillFailing, IReadOnlyList<string> Failures);

    /// <summary>
    /// Gives each dead letter of a service to its handler again, through the normal inbox path: applied (or found
    /// applied already) removes it; refused again or failing leaves it where it is, with the reason reported.
    /// </summary>
    public static async Task<Redelivery> RedeliverAsync(NpgsqlDataSource dataSource, IEnumerable<EventSubscription> subscriptions,
        EventDispatcher dispatcher, CancellationToken ct)
    {
        var byHandler = subscriptions.GroupBy(s => s.HandlerName).ToDictionary(g => g.Key, g => g.ToList());
        int applied = 0, already = 0, failing = 0;
        var failures = new List<string>();
        foreach (var letter in await ListAsync(dataSource, ct))
        {
            // A dead-letter topic's row carries the original topic; the handler's subscription is the original's.
            var subscription = byHandler.GetValueOrDefault(letter.Handler)?.FirstOrDefault(s => s.Topic.Name == letter.Topic)
                ?? byHandler.GetValueOrDefault(letter.Handler)?.FirstOrDefault();
            if (subscription is null)
            {
                failing++;
                failures.Add($"{letter.EventId}: no handler {letter.Handler} is hosted here");
                continue;
            }
            await using (var connection = await dataSource.OpenConnectionAsync(ct))
            {
                // Out of the way first: a second refusal records the event again, with the new reason.
                await connection.ExecuteAsync(new CommandDefinition("delete from dead_letters where id = @Id", letter, cancellationToken: ct));
            }
            DeliveryOutcome outcome;
            try
            {
                outcome = await dispatcher.DeliverAsync(subscription, new IncomingEvent(letter.EventId, letter.Topic, letter.EventType, letter.Payload, null), ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    insert into dead_letters (event_id, handler, topic, event_type, payload, error)
                    values (@EventId, @Handler, @Topic, @EventType, @Payload, @Error)
                    on conflict (event_id, handler) do nothing
                    """, letter with { Error = $"{letter.Error} Redelivery failed: {ex.Message}" }, cancellationToken: ct));
                failing++;
                failures.Add($"{letter.EventId}: {ex.Message}");
                continue;
            }
            switch (outcome)
            {
                case DeliveryOutcome.Applied: applied++; break;
                case DeliveryOutcome.Duplicate: already++; break;
                default:
                    failing++;
                    failures.Add($"{letter.EventId}: refused again (see dead_letters)");
                    break;
            }
        }
        return new Redelivery(applied, already, failing, failures);
    }
}
