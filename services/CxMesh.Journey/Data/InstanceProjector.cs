using System.Text.Json;
using CxMesh.Events.V1;
using CxMesh.Journey.Domain;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Dapper;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CxMesh.Journey.Data;

/// <summary>
/// Rebuilds the journey instances of claimed (customer, journey) pairs from their touchpoints, and in the
/// same transaction: replaces each instance's funnel contribution, marks touchpoints placed, and writes
/// journey.touchpoint.recorded / journey.completed / journey.abandoned to the outbox with ids derived from
/// what they describe (so a rebuild never publishes an event twice). Pairs are claimed with
/// <c>FOR UPDATE SKIP LOCKED</c> and locked per pair, so several replicas can project side by side.
/// </summary>
public sealed class InstanceProjector(
    [FromKeyedServices(JourneyModule.Name)] ServiceDatabase database, DefinitionStore definitions, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Projects the pairs of up to 5 × <paramref name="maxPairs"/> new touchpoints and up to <paramref name="maxPairs"/> requested rebuilds. Returns how many pairs.</summary>
    public async Task<int> ProjectBatchAsync(int maxPairs, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        // New touchpoints, and pairs the sweeper (or an operator) asked to rebuild. Both claimed with SKIP LOCKED.
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
        var pairs = fresh.Concat(requested).Distinct().ToList();
        if (pairs.Count == 0)
        {
            await write.CommitAsync(ct);
            return 0;
        }

        var current = await definitions.CurrentAsync(pairs.Select(p => p.Journey).Distinct().ToList(), ct);
        pairs = pairs.Where(p => current.ContainsKey(p.Journey)).ToList(); // touchpoints are only stored for defined journeys
        var funnel = new Dictionary<(string Journey, FunnelCellKey Cell), FunnelCellDelta>();
        var changes = new BatchChanges();
        var now = clock.GetUtcNow().UtcDateTime;

        // One lock per pair, taken in a fixed order so that concurrent projectors cannot deadlock.
        var customers = pairs.Select(p => p.Customer).ToArray();
        var journeys = pairs.Select(p => p.Journey).ToArray();
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            select pg_advisory_xact_lock(h) from (
                select hashtextextended(c || chr(31) || j, 0) as h from unnest(@customers, @journeys) as p(c, j) order by 1) locks
            """, new { customers, journeys }, write.Transaction, cancellationToken: ct));
        var touchpoints = (await write.Connection.QueryAsync<TouchpointRow>(new CommandDefinition(
            """
            select t.customer_id as Customer, t.journey_key as Journey, t.id, t.touchpoint_key as TouchpointKey, t.occurred_at as OccurredAt,
                   t.attributes::text as Attributes, t.applied, t.instance_id as InstanceId
            from touchpoints t join unnest(@customers, @journeys) as p(c, j) on t.customer_id = p.c and t.journey_key = p.j
            """, new { customers, journeys }, write.Transaction, cancellationToken: ct))).ToLookup(t => (t.Customer, t.Journey));
        var stored = (await write.Connection.QueryAsync<InstanceRow>(new CommandDefinition(
            """
            select i.customer_id as Customer, i.journey_key as Journey, i.id, i.definition_version as Version,
                   i.start_touchpoint_id as StartTouchpointId, i.state, i.ended_at as EndedAt, i.contribution::text as Contribution
            from journey_instances i join unnest(@customers, @journeys) as p(c, j) on i.customer_id = p.c and i.journey_key = p.j
            """, new { customers, journeys }, write.Transaction, cancellationToken: ct))).ToLookup(i => (i.Customer, i.Journey));

        foreach (var (customer, journey) in pairs)
        {
            await ProjectPairAsync(write.Connection, customer, journey, current[journey].Spec, touchpoints[(customer, journey)].ToList(),
                stored[(customer, journey)].ToDictionary(i => i.Id), now, funnel, changes, ct);
        }

        await changes.WriteAsync(write, ct);
        await ApplyFunnelAsync(write, funnel, ct);
        // Keyed by what they are about, so a pair projected again publishes nothing twice.
        await write.PublishManyAsync(Topics.JourneyTouchpointRecorded, changes.Recorded, e => e.TouchpointEventId, ct);
        await write.PublishManyAsync(Topics.JourneyCompleted, changes.Completed, e => $"{e.InstanceId}/{e.CompletedAt.ToDateTime().Ticks}", ct);
        await write.PublishManyAsync(Topics.JourneyAbandoned, changes.Abandoned, e => $"{e.InstanceId}/{e.AbandonedAt.ToDateTime().Ticks}", ct);
        await write.CommitAsync(ct);
        return pairs.Count;
    }

    private async Task ProjectPairAsync(NpgsqlConnection connection, string customer, string journey, JourneySpec currentSpec,
        List<TouchpointRow> touchpoints, Dictionary<Guid, InstanceRow> stored, DateTime now,
        Dictionary<(string, FunnelCellKey), FunnelCellDelta> funnel, BatchChanges changes, CancellationToken ct)
    {
        var specs = new Dictionary<int, JourneySpec> { [currentSpec.Version] = currentSpec };
        foreach (var version in stored.Values.Select(s => s.Version).Distinct().Where(v => !specs.ContainsKey(v)))
        {
            specs[version] = DefinitionStore.ToSpec(await definitions.VersionAsync(connection, journey, version, ct));
        }

        var recordedTouchpoints = touchpoints.Select(t => new RecordedTouchpoint(t.Id, t.TouchpointKey, t.OccurredAt,
            JsonSerializer.Deserialize<Dictionary<string, string>>(t.Attributes, Json) ?? [])).ToList();
        var (instances, _) = InstanceBuilder.Build(recordedTouchpoints, currentSpec, v => specs[v],
            stored.Values.Select(s => new KnownInstance(s.Id, s.Version, s.StartTouchpointId)).ToList(), now, Guid.CreateVersion7);

        var added = new List<Dictionary<FunnelCellKey, FunnelCellDelta>>();
        var removed = stored.Values.Select(s => ContributionFromJson(s.Contribution)).ToList();
        var placement = new Dictionary<Guid, Guid?>();
        foreach (var instance in instances)
        {
            var spec = specs[instance.Version];
            var contribution = FunnelContribution.Of(instance, spec);
            added.Add(contribution);
            foreach (var item in instance.Timeline) placement[item.Touchpoint.Id] = instance.Id;
            changes.Upsert(customer, journey, instance, spec, ContributionToJson(contribution));

            var before = stored.GetValueOrDefault(instance.Id);
            var stateName = StateName(instance.State);
            var changed = before is null || before.State != stateName || before.EndedAt != instance.EndedAt;
            if (changed && instance.State == Domain.InstanceState.Completed)
            {
                changes.Completed.Add(new JourneyCompleted
                {
                    OccurredAt = Timestamp.FromDateTime(now),
                    InstanceId = instance.Id.ToString(),
                    CustomerId = customer,
                    JourneyKey = journey,
                    DefinitionVersion = instance.Version,
                    StartedAt = Timestamp.FromDateTime(instance.StartedAt),
                    CompletedAt = Timestamp.FromDateTime(instance.EndedAt!.Value),
                    Segment = instance.Segment,
                });
            }
            if (changed && instance.State == Domain.InstanceState.Abandoned)
            {
                changes.Abandoned.Add(new JourneyAbandoned
                {
                    OccurredAt = Timestamp.FromDateTime(now),
                    InstanceId = instance.Id.ToString(),
                    CustomerId = customer,
                    JourneyKey = journey,
                    DefinitionVersion = instance.Version,
                    StartedAt = Timestamp.FromDateTime(instance.StartedAt),
                    AbandonedAt = Timestamp.FromDateTime(instance.EndedAt!.Value),
                    LastStageKey = spec.Stages[Math.Max(instance.FurthestStage, 0)].Key,
                    Segment = instance.Segment,
                });
            }
        }

        changes.Gone.AddRange(stored.Keys.Except(instances.Select(i => i.Id)));

        foreach (var (cell, delta) in FunnelContribution.Difference(added, removed))
        {
            var key = (journey, cell);
            if (!funnel.TryGetValue(key, out var total)) funnel[key] = total = new FunnelCellDelta();
            total.Entered += delta.Entered;
            total.Completed += delta.Completed;
            total.Dropped += delta.Dropped;
            foreach (var (bucket, count) in delta.Durations) total.Durations[bucket] = total.Durations.GetValueOrDefault(bucket) + count;
        }

        foreach (var moved in touchpoints.Where(t => !t.Applied || t.InstanceId != placement.GetValueOrDefault(t.Id)))
        {
            changes.Placed.Add((moved.Id, placement.GetValueOrDefault(moved.Id)));
        }

        var attributesById = recordedTouchpoints.ToDictionary(r => r.Id, r => r.Attributes);
        var stageOf = instances.SelectMany(i => i.Timeline.Select(t => (t.Touchpoint.Id, Stage: specs[i.Version].Stages[t.Stage].Key))).ToDictionary(x => x.Id, x => x.Stage);
        foreach (var tp in touchpoints.Where(t => !t.Applied))
        {
            var evt = new JourneyTouchpointRecorded
            {
                OccurredAt = Timestamp.FromDateTime(tp.OccurredAt),
                TouchpointEventId = tp.Id.ToString(),
                CustomerId = customer,
                JourneyKey = journey,
                TouchpointKey = tp.TouchpointKey,
                InstanceId = placement.GetValueOrDefault(tp.Id)?.ToString() ?? "",
                StageKey = stageOf.GetValueOrDefault(tp.Id) ?? "",
            };
            foreach (var (name, value) in attributesById[tp.Id]) evt.Attributes[name] = value;
            changes.Recorded.Add(evt);
        }
    }

    private sealed record InstanceWrite(
        BuiltInstance Instance, string Customer, string Journey, DateTime? AbandonAfter, string FurthestStageKey, string Contribution);

    /// <summary>Everything one projection batch writes, flushed with one statement per kind of change.</summary>
    private sealed class BatchChanges
    {
        private readonly List<InstanceWrite> _instances = [];

        public List<Guid> Gone { get; } = [];
        public List<(Guid Touchpoint, Guid? Instance)> Placed { get; } = [];
        public List<JourneyTouchpointRecorded> Recorded { get; } = [];
        public List<JourneyCompleted> Completed { get; } = [];
        public List<JourneyAbandoned> Abandoned { get; } = [];

        public void Upsert(string customer, string journey, BuiltInstance i, JourneySpec spec, string contribution) => _instances.Add(new InstanceWrite(
            i, customer, journey,
            i.State == Domain.InstanceState.Open ? i.LastActivityAt + spec.InactivityTimeout : null,
            spec.Stages[Math.Max(i.FurthestStage, 0)].Key, contribution));

        public async Task WriteAsync(WriteScope write, CancellationToken ct)
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

    internal static string StateName(Domain.InstanceState state) => state switch
    {
        Domain.InstanceState.Open => "open",
        Domain.InstanceState.Completed => "completed",
        _ => "abandoned",
    };

    private sealed record CellJson(DateOnly D, string S, string St, long E, long C, long X, Dictionary<int, long> H);

    private static string ContributionToJson(Dictionary<FunnelCellKey, FunnelCellDelta> contribution) =>
        JsonSerializer.Serialize(contribution.Select(c => new CellJson(c.Key.Day, c.Key.Segment, c.Key.Stage,
            c.Value.Entered, c.Value.Completed, c.Value.Dropped, c.Value.Durations)), Json);

    private static Dictionary<FunnelCellKey, FunnelCellDelta> ContributionFromJson(string json)
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

    private sealed record TouchpointRow(string Customer, string Journey, Guid Id, string TouchpointKey, DateTime OccurredAt, string Attributes, bool Applied, Guid? InstanceId);

    private sealed record InstanceRow(string Customer, string Journey, Guid Id, int Version, Guid StartTouchpointId, string State, DateTime? EndedAt, string Contribution);
}
