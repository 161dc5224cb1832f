using System.Text.Json;
using CxMesh.Journey.Domain;
using CxMesh.Journey.V1;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Journey.Data;

public sealed record InstanceView(
    Guid Id, string JourneyKey, int Version, string State, DateTime StartedAt, DateTime LastActivityAt, DateTime? EndedAt,
    string FurthestStageKey, string Segment);

public sealed record TimelineView(Guid Id, Guid InstanceId, string TouchpointKey, DateTime OccurredAt, string Attributes, decimal Revenue, decimal CostToServe);

public sealed record FunnelRow(string Stage, long Entered, long Completed, long Dropped, string Durations);

/// <summary>The read side: a customer's instances with timelines, and funnel sums over days.</summary>
public sealed class JourneyReads([FromKeyedServices(JourneyModule.Name)] ServiceDatabase database)
{
    public async Task<(IReadOnlyList<InstanceView> Instances, ILookup<Guid, TimelineView> Timelines)> CustomerJourneysAsync(
        string customerId, string? journeyKey, int max, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var instances = (await connection.QueryAsync<InstanceView>(new CommandDefinition(
            """
            select id, journey_key as JourneyKey, definition_version as Version, state, started_at as StartedAt,
                   last_activity_at as LastActivityAt, ended_at as EndedAt, furthest_stage_key as FurthestStageKey, segment
            from journey_instances
            where customer_id = @customerId and (@journeyKey::text is null or journey_key = @journeyKey)
            order by started_at desc
            limit @max
            """, new { customerId, journeyKey, max }, cancellationToken: ct))).ToList();
        var ids = instances.Select(i => i.Id).ToArray();
        var timeline = ids.Length == 0
            ? []
            : (await connection.QueryAsync<TimelineView>(new CommandDefinition(
                """
                select id, instance_id as InstanceId, touchpoint_key as TouchpointKey, occurred_at as OccurredAt, attributes::text as Attributes,
                       revenue, cost_to_serve as CostToServe
                from touchpoints where instance_id = any(@ids) order by occurred_at, id
                """, new { ids }, cancellationToken: ct))).ToList();
        return (instances, timeline.ToLookup(t => t.InstanceId));
    }

    /// <summary>
    /// The journey's current definition and its daily funnel cells summed over a window of start days,
    /// in one round trip. Null when the journey does not exist.
    /// </summary>
    public async Task<(JourneyDefinition Definition, IReadOnlyDictionary<string, FunnelSum> Sums)?> FunnelAsync(
        string journeyKey, string segment, DateOnly start, DateOnly end, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            DefinitionStore.CurrentDefinitionSql + ";" +
            """
            select stage, entered, completed, dropped, durations::text as Durations
            from funnel_daily
            where journey_key = @journeyKey and segment = @segment and day between @start and @end
            """, new { journeyKey, segment, start, end }, cancellationToken: ct));
        var definition = (await results.ReadSingleOrDefaultAsync<DefinitionStore.DefinitionRow>())?.ToProto();
        var rows = await results.ReadAsync<FunnelRow>();
        if (definition is null) return null;
        var sums = new Dictionary<string, FunnelSum>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!sums.TryGetValue(row.Stage, out var sum)) sums[row.Stage] = sum = new FunnelSum();
            sum.Entered += row.Entered;
            sum.Completed += row.Completed;
            sum.Dropped += row.Dropped;
            foreach (var (bucket, count) in JsonSerializer.Deserialize<Dictionary<int, long>>(row.Durations) ?? [])
            {
                sum.Durations[bucket] = sum.Durations.GetValueOrDefault(bucket) + count;
            }
        }
        return (definition, sums);
    }
}

public sealed class FunnelSum
{
    public long Entered { get; set; }
    public long Completed { get; set; }
    public long Dropped { get; set; }
    public Dictionary<int, long> Durations { get; } = [];

    public TimeSpan? Quantile(double q) => DurationHistogram.Quantile(Durations, q);
}
