using CxMesh.Events.V1;
using CxMesh.Platform.Postgres;
using Dapper;

namespace CxMesh.Scoring.Data;

/// <summary>
/// Scoring's projection of journey.touchpoint.recorded: who was where, when. Feedback without a journey link is
/// attributed to the customer's latest touchpoint before it, within the attribution window.
/// </summary>
public static class AttributionStore
{
    public static Task RecordManyAsync(WriteScope write, IReadOnlyList<JourneyTouchpointRecorded> events, CancellationToken ct) =>
        events.Count == 0
            ? Task.CompletedTask
            : write.Connection.ExecuteAsync(new CommandDefinition(
                """
                insert into touchpoint_projection (event_id, customer_id, journey_key, touchpoint_key, occurred_at)
                select * from unnest(@ids, @customers, @journeys, @touchpoints, @occurred)
                on conflict (event_id) do nothing
                """,
                new
                {
                    ids = events.Select(e => e.EventId).ToArray(),
                    customers = events.Select(e => e.CustomerId).ToArray(),
                    journeys = events.Select(e => e.JourneyKey).ToArray(),
                    touchpoints = events.Select(e => e.TouchpointKey).ToArray(),
                    occurred = events.Select(e => e.OccurredAt.ToDateTime()).ToArray(),
                }, write.Transaction, cancellationToken: ct));

    /// <summary>For each (customer, time): the latest touchpoint before it within the window, or nothing. One query.</summary>
    public static async Task<IReadOnlyList<(string JourneyKey, string TouchpointKey)?>> FindManyAsync(WriteScope write,
        IReadOnlyList<(string CustomerId, DateTime At)> lookups, TimeSpan window, CancellationToken ct)
    {
        var found = (await write.Connection.QueryAsync<(long Ordinal, string JourneyKey, string TouchpointKey)>(new CommandDefinition(
            """
            select l.ordinal, t.journey_key, t.touchpoint_key
            from unnest(@customers, @ats) with ordinality as l(customer_id, at, ordinal)
            cross join lateral (
                select journey_key, touchpoint_key from touchpoint_projection p
                where p.customer_id = l.customer_id and p.occurred_at <= l.at and p.occurred_at >= l.at - @window
                order by p.occurred_at desc, p.event_id desc limit 1) t
            """,
            new { customers = lookups.Select(l => l.CustomerId).ToArray(), ats = lookups.Select(l => l.At).ToArray(), window }, write.Transaction, cancellationToken: ct)))
            .ToDictionary(r => (int)r.Ordinal - 1, r => (r.JourneyKey, r.TouchpointKey));
        return Enumerable.Range(0, lookups.Count).Select(i => found.TryGetValue(i, out var f) ? f : ((string, string)?)null).ToList();
    }

    public static Task<int> EraseAsync(WriteScope write, string customerId, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            "delete from touchpoint_projection where customer_id = @customerId", new { customerId }, write.Transaction, cancellationToken: ct));

    /// <summary>Touchpoints too old to attribute anything to any more.</summary>
    public static Task<int> PurgeAsync(WriteScope write, DateTime olderThan, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            "delete from touchpoint_projection where occurred_at < @olderThan", new { olderThan }, write.Transaction, cancellationToken: ct));
}
