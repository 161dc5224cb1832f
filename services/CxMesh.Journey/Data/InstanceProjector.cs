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
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // New touchpoints, and pairs the sweeper (or an operator) asked to rebuild. Both claimed with SKIP LOCKED.
        var fresh = await connection.QueryAsync<(string Customer, string Journey)>(new CommandDefinition(
            """
            with claimed as (
                select customer_id, journey_key from touchpoints where not applied
                order by recorded_at limit @maxTouchpoints for update skip locked)
            select distinct customer_id, journey_key from claimed
            """, new { maxTouchpoints = maxPairs * 5 }, tx, cancellationToken: ct));
        var requested = await connection.QueryAsync<(string Customer, string Journey)>(new CommandDefinition(
            """
            delete from pending_projections where (customer_id, journey_key) in (
                select customer_id, journey_key from pending_projections
                order by enqueued_at limit @maxPairs for update skip locked)
            returning customer_id, journey_key
            """, new { maxPairs }, tx, cancellationToken: ct));
        var pairs = fresh.Concat(requested).Distinct().ToList();
        if (pairs.Count == 0)
        {
            await tx.CommitAsync(ct);
            return 0;
        }

        var current = await definitions.CurrentAsync(pairs.Select(p => p.Journey).Distinct().ToList(), ct);
        var funnel = new Dictionary<(string Journey, FunnelCellKey Cell), FunnelCellDelta>();
        var recorded = new List<JourneyTouchpointRecorded>();
        var completed = new List<JourneyCompleted>();
        var abandoned = new List<JourneyAbandoned>();
        var now = clock.GetUtcNow().UtcDateTime;

        foreach (var (customer, journey) in pairs.OrderBy(p => p.Customer, StringComparer.Ordinal).ThenBy(p => p.Journey, StringComparer.Ordinal))
        {
            if (!current.TryGetValue(journey, out var head)) continue; // touchpoints are only stored for defined journeys
            await connection.ExecuteAsync(new CommandDefinition(
                "select pg_advisory_xact_lock(hashtextextended(@pair, 0))", new { pair = $"{customer}\u001f{journey}" }, tx, cancellationToken: ct));
            await ProjectPairAsync(connection, tx, customer, journey, head.Spec, now, funnel, recorded, completed, abandoned, ct);
        }

        await ApplyFunnelAsync(connection, tx, funnel, ct);
        await OutboxBatch.EnqueueManyAsync(connection, tx, Topics.JourneyTouchpointRecorded, recorded, e => e.EventId, ct);
        await OutboxBatch.EnqueueManyAsync(connection, tx, Topics.JourneyCompleted, completed, e => e.EventId, ct);
        await OutboxBatch.EnqueueManyAsync(connection, tx, Topics.JourneyAbandoned, abandoned, e => e.EventId, ct);
        await tx.CommitAsync(ct);
        return pairs.Count;
    }

    private async Task ProjectPairAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string customer, string journey, JourneySpec currentSpec,
        DateTime now, Dictionary<(string, FunnelCellKey), FunnelCellDelta> funnel,
        List<JourneyTouchpointRecorded> recorded, List<JourneyCompleted> completed, List<JourneyAbandoned> abandoned, CancellationToken ct)
    {
        var touchpoints = (await connection.QueryAsync<TouchpointRow>(new CommandDefinition(
            """
            select id, touchpoint_key as TouchpointKey, occurred_at as OccurredAt, attributes::text as Attributes, applied, instance_id as InstanceId
            from touchpoints where customer_id = @customer and journey_key = @journey
            """, new { customer, journey }, tx, cancellationToken: ct))).ToList();
        var stored = (await connection.QueryAsync<InstanceRow>(new CommandDefinition(
            """
            select id, definition_version as Version, start_touchpoint_id as StartTouchpointId, state, ended_at as EndedAt, contribution::text as Contribution
            from journey_instances where customer_id = @customer and journey_key = @journey
            """, new { customer, journey }, tx, cancellationToken: ct))).ToDictionary(i => i.Id);

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
            await UpsertInstanceAsync(connection, tx, customer, journey, instance, spec, contribution, ct);

            var before = stored.GetValueOrDefault(instance.Id);
            var stateName = StateName(instance.State);
            var changed = before is null || before.State != stateName || before.EndedAt != instance.EndedAt;
            if (changed && instance.State == Domain.InstanceState.Completed)
            {
                completed.Add(new JourneyCompleted
                {
                    EventId = $"journey.completed/{instance.Id}/{instance.EndedAt!.Value.Ticks}",
                    OccurredAt = Timestamp.FromDateTime(now),
                    InstanceId = instance.Id.ToString(),
                    CustomerId = customer,
                    JourneyKey = journey,
                    DefinitionVersion = instance.Version,
                    StartedAt = Timestamp.FromDateTime(instance.StartedAt),
                    CompletedAt = Timestamp.FromDateTime(instance.EndedAt.Value),
                    Segment = instance.Segment,
                });
            }
            if (changed && instance.State == Domain.InstanceState.Abandoned)
            {
                abandoned.Add(new JourneyAbandoned
                {
                    EventId = $"journey.abandoned/{instance.Id}/{instance.EndedAt!.Value.Ticks}",
                    OccurredAt = Timestamp.FromDateTime(now),
                    InstanceId = instance.Id.ToString(),
                    CustomerId = customer,
                    JourneyKey = journey,
                    DefinitionVersion = instance.Version,
                    StartedAt = Timestamp.FromDateTime(instance.StartedAt),
                    AbandonedAt = Timestamp.FromDateTime(instance.EndedAt.Value),
                    LastStageKey = spec.Stages[Math.Max(instance.FurthestStage, 0)].Key,
                    Segment = instance.Segment,
                });
            }
        }

        var gone = stored.Keys.Except(instances.Select(i => i.Id)).ToArray();
        if (gone.Length > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition("delete from journey_instances where id = any(@gone)", new { gone }, tx, cancellationToken: ct));
        }

        foreach (var (cell, delta) in FunnelContribution.Difference(added, removed))
        {
            var key = (journey, cell);
            if (!funnel.TryGetValue(key, out var total)) funnel[key] = total = new FunnelCellDelta();
            total.Entered += delta.Entered;
            total.Completed += delta.Completed;
            total.Dropped += delta.Dropped;
            foreach (var (bucket, count) in delta.Durations) total.Durations[bucket] = total.Durations.GetValueOrDefault(bucket) + count;
        }

        var moved = touchpoints.Where(t => !t.Applied || t.InstanceId != placement.GetValueOrDefault(t.Id)).ToList();
        if (moved.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                update touchpoints t set instance_id = p.instance_id, applied = true
                from unnest(@ids, @instances) as p(id, instance_id) where t.id = p.id
                """,
                new { ids = moved.Select(t => t.Id).ToArray(), instances = moved.Select(t => placement.GetValueOrDefault(t.Id)).ToArray() },
                tx, cancellationToken: ct));
        }

        var attributesById = recordedTouchpoints.ToDictionary(r => r.Id, r => r.Attributes);
        var stageOf = instances.SelectMany(i => i.Timeline.Select(t => (t.Touchpoint.Id, Stage: specs[i.Version].Stages[t.Stage].Key))).ToDictionary(x => x.Id, x => x.Stage);
        foreach (var tp in touchpoints.Where(t => !t.Applied))
        {
            var evt = new JourneyTouchpointRecorded
            {
                EventId = $"journey.touchpoint.recorded/{tp.Id}",
                OccurredAt = Timestamp.FromDateTime(tp.OccurredAt),
                TouchpointEventId = tp.Id.ToString(),
                CustomerId = customer,
                JourneyKey = journey,
                TouchpointKey = tp.TouchpointKey,
                InstanceId = placement.GetValueOrDefault(tp.Id)?.ToString() ?? "",
                StageKey = stageOf.GetValueOrDefault(tp.Id) ?? "",
            };
            foreach (var (name, value) in attributesById[tp.Id]) evt.Attributes[name] = value;
            recorded.Add(evt);
        }
    }

    private static async Task UpsertInstanceAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string customer, string journey,
        BuiltInstance instance, JourneySpec spec, Dictionary<FunnelCellKey, FunnelCellDelta> contribution, CancellationToken ct)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into journey_instances (id, customer_id, journey_key, definition_version, state, started_at, last_activity_at, ended_at,
                abandon_after, furthest_stage, furthest_stage_key, segment, start_touchpoint_id, contribution)
            values (@Id, @customer, @journey, @Version, @state, @StartedAt, @LastActivityAt, @EndedAt,
                @abandonAfter, @FurthestStage, @stageKey, @Segment, @StartTouchpointId, @contribution::jsonb)
            on conflict (id) do update set
                definition_version = excluded.definition_version, state = excluded.state, started_at = excluded.started_at,
                last_activity_at = excluded.last_activity_at, ended_at = excluded.ended_at, abandon_after = excluded.abandon_after,
                furthest_stage = excluded.furthest_stage, furthest_stage_key = excluded.furthest_stage_key, segment = excluded.segment,
                start_touchpoint_id = excluded.start_touchpoint_id, contribution = excluded.contribution, updated_at = now()
            """,
            new
            {
                instance.Id,
                customer,
                journey,
                instance.Version,
                state = StateName(instance.State),
                instance.StartedAt,
                instance.LastActivityAt,
                instance.EndedAt,
                abandonAfter = instance.State == Domain.InstanceState.Open ? instance.LastActivityAt + spec.InactivityTimeout : (DateTime?)null,
                instance.FurthestStage,
                stageKey = spec.Stages[Math.Max(instance.FurthestStage, 0)].Key,
                instance.Segment,
                instance.StartTouchpointId,
                contribution = ContributionToJson(contribution),
            }, tx, cancellationToken: ct));
    }

    private static async Task ApplyFunnelAsync(NpgsqlConnection connection, NpgsqlTransaction tx,
        Dictionary<(string Journey, FunnelCellKey Cell), FunnelCellDelta> funnel, CancellationToken ct)
    {
        var cells = funnel.Where(f => !f.Value.IsEmpty)
            .OrderBy(f => f.Key.Journey, StringComparer.Ordinal).ThenBy(f => f.Key.Cell.Segment, StringComparer.Ordinal)
            .ThenBy(f => f.Key.Cell.Day).ThenBy(f => f.Key.Cell.Stage, StringComparer.Ordinal).ToList();
        if (cells.Count == 0) return;
        await connection.ExecuteAsync(new CommandDefinition(
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
            }, tx, cancellationToken: ct));
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

    private sealed record TouchpointRow(Guid Id, string TouchpointKey, DateTime OccurredAt, string Attributes, bool Applied, Guid? InstanceId);

    private sealed record InstanceRow(Guid Id, int Version, Guid StartTouchpointId, string State, DateTime? EndedAt, string Contribution);
}
