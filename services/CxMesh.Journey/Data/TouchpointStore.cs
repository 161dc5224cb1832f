using CxMesh.Platform.Postgres;
using Dapper;

namespace CxMesh.Journey.Data;

public sealed record TouchpointToStore(
    Guid Id, string IdempotencyKey, byte[] RequestHash, string CustomerId, string JourneyKey, string TouchpointKey,
    DateTime OccurredAt, string AttributesJson, decimal Revenue, decimal CostToServe);

public enum StoreOutcome
{
    Recorded,
    Replayed,
    KeyReused,
}

public sealed record StoreResult(Guid Id, StoreOutcome Outcome);

/// <summary>
/// Ingest: stores a batch of checked touchpoints with one set-based INSERT (a second query only when some keys
/// were seen before). The projector picks them up as unapplied touchpoints.
/// </summary>
public static class TouchpointStore
{
    public static async Task<IReadOnlyList<StoreResult>> StoreAsync(WriteScope write, IReadOnlyList<TouchpointToStore> items, CancellationToken ct)
    {
        if (items.Count == 0) return [];

        var count = await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into touchpoints (id, idempotency_key, request_hash, customer_id, journey_key, touchpoint_key, occurred_at, attributes,
                                     revenue, cost_to_serve)
            select id, key, hash, customer, journey, touchpoint, occurred, attrs::jsonb, revenue, cost
            from unnest(@ids, @keys, @hashes, @customers, @journeys, @touchpoints, @occurred, @attributes, @revenues, @costs)
                as t(id, key, hash, customer, journey, touchpoint, occurred, attrs, revenue, cost)
            on conflict (idempotency_key) do nothing
            """,
            new
            {
                ids = items.Select(i => i.Id).ToArray(),
                keys = items.Select(i => i.IdempotencyKey).ToArray(),
                hashes = items.Select(i => i.RequestHash).ToArray(),
                customers = items.Select(i => i.CustomerId).ToArray(),
                journeys = items.Select(i => i.JourneyKey).ToArray(),
                touchpoints = items.Select(i => i.TouchpointKey).ToArray(),
                occurred = items.Select(i => i.OccurredAt).ToArray(),
                attributes = items.Select(i => i.AttributesJson).ToArray(),
                revenues = items.Select(i => i.Revenue).ToArray(),
                costs = items.Select(i => i.CostToServe).ToArray(),
            }, write.Transaction, cancellationToken: ct));

        // The common case: every row went in. Otherwise find out which keys were there already.
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        if (count == items.Count)
        {
            foreach (var item in items) inserted.Add(item.IdempotencyKey);
        }
        else
        {
            var ours = items.ToDictionary(i => i.Id);
            foreach (var row in await write.Connection.QueryAsync<(string Key, Guid Id)>(new CommandDefinition(
                "select idempotency_key, id from touchpoints where idempotency_key = any(@keys)",
                new { keys = items.Select(i => i.IdempotencyKey).Distinct().ToArray() }, write.Transaction, cancellationToken: ct)))
            {
                if (ours.ContainsKey(row.Id)) inserted.Add(row.Key);
            }
        }

        // Keys seen before (in an earlier call, or earlier in this batch): a replay if the request is the same.
        var earlier = new Dictionary<string, (Guid Id, byte[] Hash)>(StringComparer.Ordinal);
        var repeated = items.Select(i => i.IdempotencyKey).Where(k => !inserted.Contains(k)).Distinct().ToArray();
        if (repeated.Length > 0)
        {
            foreach (var row in await write.Connection.QueryAsync<(string Key, Guid Id, byte[] Hash)>(new CommandDefinition(
                "select idempotency_key, id, request_hash from touchpoints where idempotency_key = any(@repeated)",
                new { repeated }, write.Transaction, cancellationToken: ct)))
            {
                earlier[row.Key] = (row.Id, row.Hash);
            }
        }

        var firstInBatch = new Dictionary<string, TouchpointToStore>(StringComparer.Ordinal);
        foreach (var item in items) firstInBatch.TryAdd(item.IdempotencyKey, item);
        var results = new List<StoreResult>(items.Count);
        var firstUse = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (inserted.Contains(item.IdempotencyKey) && firstUse.Add(item.IdempotencyKey))
            {
                results.Add(new StoreResult(item.Id, StoreOutcome.Recorded));
                continue;
            }
            var (id, hash) = earlier.TryGetValue(item.IdempotencyKey, out var e)
                ? e
                : (firstInBatch[item.IdempotencyKey].Id, firstInBatch[item.IdempotencyKey].RequestHash);
            results.Add(hash.AsSpan().SequenceEqual(item.RequestHash)
                ? new StoreResult(id, StoreOutcome.Replayed)
                : new StoreResult(id, StoreOutcome.KeyReused));
        }

        return results;
    }

    /// <summary>Moves a customer's touchpoints, instances and pending work to a fresh random pseudonym; attributes and keys go.</summary>
    public static async Task<(int Touchpoints, int Instances)> PseudonymiseCustomerAsync(WriteScope write, string customerId, CancellationToken ct)
    {
        var pseudonym = $"erased-{Guid.NewGuid():N}";
        var touchpoints = await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            update touchpoints set customer_id = @pseudonym, attributes = '{}', idempotency_key = 'erased-' || id::text, request_hash = ''::bytea
            where customer_id = @customerId
            """, new { customerId, pseudonym }, write.Transaction, cancellationToken: ct));
        var instances = await write.Connection.ExecuteAsync(new CommandDefinition(
            "update journey_instances set customer_id = @pseudonym where customer_id = @customerId", new { customerId, pseudonym }, write.Transaction, cancellationToken: ct));
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "update pending_projections set customer_id = @pseudonym where customer_id = @customerId", new { customerId, pseudonym }, write.Transaction, cancellationToken: ct));
        return (touchpoints, instances);
    }
}
