using System.Text.Json;
using CxMesh.Events.V1;
using CxMesh.Journey.Data;
using CxMesh.Journey.Domain;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Journey.UseCases;

/// <summary>
/// Rebuilds the journey instances of claimed (customer, journey) pairs from their touchpoints (<see cref="InstanceBuilder"/>),
/// and in the same write: replaces each instance's funnel contribution, marks touchpoints placed, and publishes
/// journey.touchpoint.recorded / journey.completed / journey.abandoned keyed by what they describe (so a rebuild never
/// publishes an event twice). Several replicas can project side by side (<see cref="ProjectionStore"/>).
/// </summary>
public sealed class ProjectInstances([FromKeyedServices(JourneyModule.Name)] ServiceDatabase database, DefinitionStore definitions)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Projects the pairs of up to 5 × <paramref name="maxPairs"/> new touchpoints and up to <paramref name="maxPairs"/> requested rebuilds. Returns how many pairs.</summary>
    public async Task<int> ProjectBatchAsync(int maxPairs, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var pairs = await ProjectionStore.ClaimAsync(write, maxPairs, ct);
        if (pairs.Count == 0)
        {
            await write.CommitAsync(ct);
            return 0;
        }

        var current = await definitions.CurrentAsync(pairs.Select(p => p.Journey).Distinct().ToList(), ct);
        pairs = pairs.Where(p => current.ContainsKey(p.Journey)).ToList(); // touchpoints are only stored for defined journeys
        var funnel = new Dictionary<(string Journey, FunnelCellKey Cell), FunnelCellDelta>();
        var changes = new ProjectionStore.Changes();
        var events = new Events();
        var now = write.Now.UtcDateTime;
        var (touchpoints, stored) = await ProjectionStore.LockAndLoadAsync(write, pairs, ct);
        foreach (var (customer, journey) in pairs)
        {
            await ProjectPairAsync(write, customer, journey, current[journey].Spec, touchpoints[(customer, journey)].ToList(),
                stored[(customer, journey)].ToDictionary(i => i.Id), now, funnel, changes, events, ct);
        }

        await ProjectionStore.WriteAsync(write, changes, funnel, ct);
        // Keyed by what they are about, so a pair projected again publishes nothing twice.
        await write.PublishManyAsync(Topics.JourneyTouchpointRecorded, events.Recorded, e => e.TouchpointEventId, ct);
        await write.PublishManyAsync(Topics.JourneyCompleted, events.Completed, e => $"{e.InstanceId}/{e.CompletedAt.ToDateTime().Ticks}", ct);
        await write.PublishManyAsync(Topics.JourneyAbandoned, events.Abandoned, e => $"{e.InstanceId}/{e.AbandonedAt.ToDateTime().Ticks}", ct);
        await write.CommitAsync(ct);
        return pairs.Count;
    }

    /// <summary>
    /// Queues every pair whose open instance is past its inactivity timeout, so the projector decides its abandonment.
    /// "Now" is the write's clock, the same one the projector decides abandonment by. Returns how many were queued.
    /// </summary>
    public async Task<int> QueueIdleAsync(CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var queued = await ProjectionStore.QueueIdleAsync(write, write.Now.UtcDateTime, ct);
        await write.CommitAsync(ct);
        return queued;
    }

    private sealed class Events
    {
        public List<JourneyTouchpointRecorded> Recorded { get; } = [];
        public List<JourneyCompleted> Completed { get; } = [];
        public List<JourneyAbandoned> Abandoned { get; } = [];
    }

    private async Task ProjectPairAsync(WriteScope write, string customer, string journey, JourneySpec currentSpec,
        List<ProjectedTouchpoint> touchpoints, Dictionary<Guid, ProjectedInstance> stored, DateTime now,
        Dictionary<(string, FunnelCellKey), FunnelCellDelta> funnel, ProjectionStore.Changes changes, Events events, CancellationToken ct)
    {
        var specs = new Dictionary<int, JourneySpec> { [currentSpec.Version] = currentSpec };
        foreach (var version in stored.Values.Select(s => s.Version).Distinct().Where(v => !specs.ContainsKey(v)))
        {
            specs[version] = DefinitionStore.ToSpec(await definitions.VersionAsync(write, journey, version, ct));
        }

        var recordedTouchpoints = touchpoints.Select(t => new RecordedTouchpoint(t.Id, t.TouchpointKey, t.OccurredAt,
            JsonSerializer.Deserialize<Dictionary<string, string>>(t.Attributes, Json) ?? [])).ToList();
        var (instances, _) = InstanceBuilder.Build(recordedTouchpoints, currentSpec, v => specs[v],
            stored.Values.Select(s => new KnownInstance(s.Id, s.Version, s.StartTouchpointId)).ToList(), now, Guid.CreateVersion7);

        var added = new List<Dictionary<FunnelCellKey, FunnelCellDelta>>();
        var removed = stored.Values.Select(s => ProjectionStore.ContributionFromJson(s.Contribution)).ToList();
        var placement = new Dictionary<Guid, Guid?>();
        foreach (var instance in instances)
        {
            var spec = specs[instance.Version];
            var contribution = FunnelContribution.Of(instance, spec);
            added.Add(contribution);
            foreach (var item in instance.Timeline) placement[item.Touchpoint.Id] = instance.Id;
            changes.Upsert(customer, journey, instance, spec, ProjectionStore.ContributionToJson(contribution));

            var before = stored.GetValueOrDefault(instance.Id);
            var stateName = ProjectionStore.StateName(instance.State);
            var changed = before is null || before.State != stateName || before.EndedAt != instance.EndedAt;
            if (changed && instance.State == InstanceState.Completed)
            {
                events.Completed.Add(new JourneyCompleted
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
            if (changed && instance.State == InstanceState.Abandoned)
            {
                events.Abandoned.Add(new JourneyAbandoned
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
                Revenue = (double)tp.Revenue,
                CostToServe = (double)tp.CostToServe,
            };
            foreach (var (name, value) in attributesById[tp.Id]) evt.Attributes[name] = value;
            events.Recorded.Add(evt);
        }
    }
}
