using CxMesh.Events.V1;
using Dapper;
using Npgsql;

namespace CxMesh.Scoring.Data;

/// <summary>
/// Scoring's projection of journey.touchpoint.recorded: who was where, when. Feedback without a journey link is
/// attributed to the customer's latest touchpoint before it, within the attribution window.
/// </summary>
public static class AttributionStore
{
    public static Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction tx, JourneyTouchpointRecorded evt, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(
            """
            insert into touchpoint_projection (event_id, customer_id, journey_key, touchpoint_key, occurred_at)
            values (@EventId, @CustomerId, @JourneyKey, @TouchpointKey, @occurredAt)
            on conflict (event_id) do nothing
            """,
            new { evt.EventId, evt.CustomerId, evt.JourneyKey, evt.TouchpointKey, occurredAt = evt.OccurredAt.ToDateTime() }, tx, cancellationToken: ct));

    public static Task<(string JourneyKey, string TouchpointKey)?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction tx,
        string customerId, DateTime givenAt, TimeSpan window, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<(string, string)?>(new CommandDefinition(
            """
            select journey_key, touchpoint_key from touchpoint_projection
            where customer_id = @customerId and occurred_at <= @givenAt and occurred_at >= @from
            order by occurred_at desc, event_id desc limit 1
            """, new { customerId, givenAt, from = givenAt - window }, tx, cancellationToken: ct));

    public static Task<int> EraseAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string customerId, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(
            "delete from touchpoint_projection where customer_id = @customerId", new { customerId }, tx, cancellationToken: ct));

    /// <summary>Touchpoints too old to attribute anything to any more.</summary>
    public static Task<int> PurgeAsync(NpgsqlConnection connection, DateTime olderThan, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(
            "delete from touchpoint_projection where occurred_at < @olderThan", new { olderThan }, cancellationToken: ct));
}
