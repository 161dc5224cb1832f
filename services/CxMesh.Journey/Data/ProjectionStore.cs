using System.Text.Json;
using CxMesh.Journey.Domain;
using CxMesh.Platform.Postgres;
using Dapper;

namespace CxMesh.Journey.Data;

public sealed record ProjectedTouchpoint(string Customer, string Journey, Guid Id, string TouchpointKey, DateTime OccurredAt, string Attributes, bool Applied,
    Guid? InstanceId, decimal Revenue, decimal CostToServe);

public sealed record ProjectedInstance(string Customer, string Journey, Guid Id, int Version, Guid StartTouchpointId, string State, DateTime? EndedAt,
    string Contribution);

/// <summary>
/// The rows of the projection: claiming (customer, journey) pairs with <c>FOR UPDATE SKIP LOCKED</c>, locking each pair,
/// loading its touchpoints and instances, and writing what one batch changed with one statement per kind of change.
/// </summary>
public static class ProjectionStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>New touchpoints' pairs (up to 5 × <paramref name="maxPairs"/> touchpoints) and up to <paramref name="maxPairs"/> requested rebuilds.</summary>
    public static async Task<List<(string Customer, string Journey)>> ClaimAsync(WriteScope write, int maxPairs, CancellationToken ct)
    {
        var fresh = await write.Connection.QueryAsync<(string Customer, string Journey)>(new CommandDefinition(
            """
            with claimed as (
                select customer_id, journey_key from touchpoints where not applied
                order by recorded_at limit @maxTouchpoints for update skip locked)
            select distinct customer_id, journey_key from claimed
            """, new { maxTouchpoints = maxPairs * 5 }, write.Transaction, cancellationToken: ct));
        var requested = await write.Connection.QueryAsync<(string Customer, string Journey)>(new CommandDefinition(
            """
            delete from pending_projections where (customer_id, journey_key) in (
                select customer_id, journey_key from pending_projections
                order by enqueued_at limit @maxPairs for update skip locked)
            returning customer_id, journey_key
            """, new { maxPairs }, write.Transaction, cancellationToken: ct));
        return fresh.Concat(requested).Distinct().ToList();
    }

    /// <summary>
    /// Locks the pairs (one lock each, in a fixed order so that concurrent projectors cannot deadlock) and loads their
    /// touchpoints and stored instances.
    /// </summary>
    public static async Task<(ILookup<(string, string), ProjectedTouchpoint> Touchpoints, ILookup<(string, string), ProjectedInstance> Instances)> LockAndLoadAsync(
        WriteScope write, IReadOnlyList<(string Customer, string Journey)> pairs, CancellationToken ct)
    {
        var customers = pairs.Select(p => p.Customer).ToArray();
        var journeys = pairs.Select(p => p.Journey).ToArray();
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            select pg_advisory_xact_lock(h) from (
                select hashtextextended(c || chr(31) || j, 0) as h from unnest(@customers, @journeys) as p(c, j) order by 1) locks
            """, new { customers, journeys }, write.Transaction, cancellationToken: ct));
        var touchpoints = (await write.Connection.QueryAsync<ProjectedTouchpoint>(new CommandDefinition(
            """
            select t.customer_id as Customer, t.journey_key as Journey, t.id, t.touchpoint_key as TouchpointKey, t.occurred_at as OccurredAt,
                   t.attributes::text as Attributes, t.applied, t.instance_id as InstanceId, t.revenue, t.cost_to_serve as CostToServe
            from touchpoints t join unnest(@customers, @journeys) as p(c, j) on t.customer_id = p.c and t.journey_key = p.j
            """, new { customers, journeys }, write.Transaction, cancellationToken: ct))).ToLookup(t => (t.Customer, t.Journey));
        var stored = (await write.Connection.QueryAsync<ProjectedInstance>(new CommandDefinition(
            """
            select i.customer_id as Customer, i.journey_key as Journey, i.id, i.definition_version as Version,
                   i.start_touchpoint_id as StartTouchpointId, i.state, i.ended_at as EndedAt, i.contribution::text as Contribution
            from journey_instances i join unnest(@customers, @journeys) as p(c, j) on i.customer_id = p.c and i.journey_key = p.j
            """, new { customers, journeys }, write.Transaction, cancellationToken: ct))).ToLookup(i => (i.Customer, i.Journey));

        return (touchpoints, stored);
    }

    /// <summary>Queues every pair whose open instance was idle past its timeout at <paramref name="now"/>; returns how many.</summary>
    public static Task<int> QueueIdleAsync(WriteScope write, DateTime now, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into pending_projections (customer_id, journey_key)
            select distinct customer_id, journey_key from journey_instances
            where state = 'open' and abandon_after < @now
            on conflict do nothing
            """, new { now }, write.Transaction, cancellationToken: ct));

    /// <summary>Everything one projection batch writes.</summary>
    public sealed class Changes
    {
        private readonly List<InstanceWrite> _instances = [];

        public List<Guid> Gone { get; } = [];
        public List<(Guid Touchpoint, Guid? Instance)> Placed { get; } = [];

        public void Upsert(string customer, string journey, BuiltInstance i, JourneySpec spec, string contribution) => _instances.Add(new InstanceWrite(
            i, customer, journey,
            i.State == InstanceState.Open ? i.LastActivityAt + spec.InactivityTimeout : null,
            spec.Stages[Math.Max(i.FurthestStage, 0)].Key, contribution));

        private sealed record InstanceWrite(
            BuiltInstance Instance, string Customer, string Journey, DateTime? AbandonAfter, string FurthestStageKey, string Contribution);

        internal async Task WriteAsync(WriteScope write, CancellationToken ct)
        {
            if (Gone.Count > 0)
            {
                await write.Connection.ExecuteAsync(new CommandDefinition("delete from journey_instances where id = any(@gone)",
                    new { gone = Gone.ToArray() }, write.Transaction, cancellationToken: ct));
            }
            if (_instances.Count > 0)
            {
                T[] Column<T>(Func<InstanceWrite, T> column) => _instances.Select(column).ToArray();
                await write.Connection.ExecuteAsync(new CommandDefinition(
                    """
                    insert into journey_instances (id, customer_id, journey_key, definition_version, state, started_at, last_activity_at, ended_at,
                        abandon_after, furthest_stage, furthest_stage_key, segment, start_touchpoint_id, contribution)
                    select id, c, j, v, st, sa, la, ea, aa, fs, fk, sg, stp, con::jsonb
                    from unnest(@ids, @customers, @journeys, @versions, @states, @started, @last, @ended, @abandonAfter,
                                @furthest, @furthestKeys, @segments, @starts, @contributions)
                        as i(id, c, j, v, st, sa, la, ea, aa, fs, fk, sg, stp, con)
                    on conflict (id) do update set
                        definition_version = excluded.definition_version, state = excluded.state, started_at = excluded.started_at,
                        last_activity_at = excluded.last_activity_at, ended_at = excluded.ended_at, abandon_after = excluded.abandon_after,
                        furthest_stage = excluded.furthest_stage, furthest_stage_key = excluded.furthest_stage_key, segment = excluded.segment,
                        start_touchpoint_id = excluded.start_touchpoint_id, contribution = excluded.contribution, updated_at = now()
                    """,
                    new
                    {
                        ids = Column(w => w.Instance.Id),
                        customers = Column(w => w.Customer),
                        journeys = Column(w => w.Journey),
                        versions = Column(w => w.Instance.Version),
                        states = Column(w => StateName(w.Instance.State)),
                        started = Column(w => w.Instance.StartedAt),
                        last = Column(w => w.Instance.LastActivityAt),
                        ended = Column(w => w.Instance.EndedAt),
                        abandonAfter = Column(w => w.AbandonAfter),
                        furthest = Column(w => w.Instance.FurthestStage),
                        furthestKeys = Column(w => w.FurthestStageKey),
                        segments = Column(w => w.Instance.Segment),
                        starts = Column(w => w.Instance.StartTouchpointId),
                        contributions = Column(w => w.Contribution),
                    }, write.Transaction, cancellationToken: ct));
            }
            if (Placed.Count > 0)
            {
                await write.Connection.ExecuteAsync(new CommandDefinition(
                    """
                    update touchpoints t set instance_id = p.instance_id, applied = true
                    from unnest(@ids, @instances) as p(id, instance_id) where t.id = p.id
                    """,
                    new { ids = Placed.Select(p => p.Touchpoint).ToArray(), instances = Placed.Select(p => p.Instance).ToArray() },
                    write.Transaction, cancellationToken: ct));
            }
        }
    }


    /// <summary>Writes a batch's changes and adds its funnel deltas.</summary>
    public static async Task WriteAsync(WriteScope write, Changes changes, Dictionary<(string Journey, FunnelCellKey Cell), FunnelCellDelta> funnel, CancellationToken ct)
    {
        await changes.WriteAsync(write, ct);
        await ApplyFunnelAsync(write, funnel, ct);
    }

    private static async Task ApplyFunnelAsync(WriteScope write,
        Dictionary<(string Journey, FunnelCellKey Cell), FunnelCellDelta> funnel, CancellationToken ct)
    {
        var cells = funnel.Where(f => !f.Value.IsEmpty)
            .OrderBy(f => f.Key.Journey, StringComparer.Ordinal).ThenBy(f => f.Key.Cell.Segment, StringComparer.Ordinal)
            .ThenBy(f => f.Key.Cell.Day).ThenBy(f => f.Key.Cell.Stage, StringComparer.Ordinal).ToList();
        if (cells.Count == 0) return;
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into funnel_daily as f (journey_key, segment, day, stage, entered, completed, dropped, durations)
            select j, s, d, st, e, c, x, h::jsonb from unnest(@journeys, @segments, @days, @stages, @entered, @completed, @dropped, @durations)
                as t(j, s, d, st, e, c, x, h)
            on conflict (journey_key, segment, day, stage) do update set
                entered = f.entered + excluded.entered,
                completed = f.completed + excluded.completed,
                dropped = f.dropped + excluded.dropped,
                durations = jsonb_add_counts(f.durations, excluded.durations)
            """,
            new
            {
                journeys = cells.Select(c => c.Key.Journey).ToArray(),
                segments = cells.Select(c => c.Key.Cell.Segment).ToArray(),
                days = cells.Select(c => c.Key.Cell.Day).ToArray(),
                stages = cells.Select(c => c.Key.Cell.Stage).ToArray(),
                entered = cells.Select(c => c.Value.Entered).ToArray(),
                completed = cells.Select(c => c.Value.Completed).ToArray(),
                dropped = cells.Select(c => c.Value.Dropped).ToArray(),
                durations = cells.Select(c => JsonSerializer.Serialize(c.Value.Durations.ToDictionary(d => d.Key.ToString(), d => d.Value))).ToArray(),
            }, write.Transaction, cancellationToken: ct));
    }

    public static string StateName(InstanceState state) => state switch
    {
        InstanceState.Open => "open",
        InstanceState.Completed => "completed",
        _ => "abandoned",
    };

    private sealed record CellJson(DateOnly D, string S, string St, long E, long C, long X, Dictionary<int, long> H);

    public static string ContributionToJson(Dictionary<FunnelCellKey, FunnelCellDelta> contribution) =>
        JsonSerializer.Serialize(contribution.Select(c => new CellJson(c.Key.Day, c.Key.Segment, c.Key.Stage,
            c.Value.Entered, c.Value.Completed, c.Value.Dropped, c.Value.Durations)), Json);

    public static Dictionary<FunnelCellKey, FunnelCellDelta> ContributionFromJson(string json)
    {
        var result = new Dictionary<FunnelCellKey, FunnelCellDelta>();
        foreach (var cell in JsonSerializer.Deserialize<List<CellJson>>(json, Json) ?? [])
        {
            var delta = new FunnelCellDelta { Entered = cell.E, Completed = cell.C, Dropped = cell.X };
            foreach (var (bucket, count) in cell.H) delta.Durations[bucket] = count;
            result[new FunnelCellKey(cell.D, cell.S, cell.St)] = delta;
        }
        return result;
    }

}
