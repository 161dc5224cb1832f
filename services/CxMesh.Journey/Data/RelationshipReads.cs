using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Journey.Data;

public sealed record RelationshipCounts(
    long Active, long Completing, long Repeating, long PreviousActive, long Retained, long Referred, long Referrers, long ActiveReferrers);

/// <summary>Relationship metrics, counted over touchpoints and completed instances with a window's worth of index range scans.</summary>
public sealed class RelationshipReads([FromKeyedServices(JourneyModule.Name)] ServiceDatabase database)
{
    public async Task<RelationshipCounts> CountAsync(string journeyKey, string segment, IReadOnlyCollection<string> referralTouchpoints,
        DateTime start, DateTime end, DateTime previousStart, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleAsync<RelationshipCounts>(new CommandDefinition(
            """
            with activity as (
                select t.customer_id, t.occurred_at, t.touchpoint_key, t.attributes ->> 'referred_by' as referred_by
                from touchpoints t
                left join journey_instances i on i.id = t.instance_id
                where t.journey_key = @journeyKey and t.occurred_at >= @previousStart and t.occurred_at < @end
                  and (@segment = '' or i.segment = @segment)
            ),
            referrers as (
                select distinct referred_by as customer_id from activity
                where occurred_at >= @start and touchpoint_key = any(@referrals) and referred_by <> '' and referred_by <> customer_id
            ),
            now_active as (select distinct customer_id from activity where occurred_at >= @start),
            before_active as (select distinct customer_id from activity where occurred_at < @start),
            completions as (
                select customer_id, count(*) as n from journey_instances
                where journey_key = @journeyKey and state = 'completed' and ended_at >= @start and ended_at < @end
                  and (@segment = '' or segment = @segment)
                group by customer_id
            )
            select
                (select count(*) from now_active) as Active,
                (select count(*) from completions) as Completing,
                (select count(*) from completions where n >= 2) as Repeating,
                (select count(*) from before_active) as PreviousActive,
                (select count(*) from before_active b join now_active a using (customer_id)) as Retained,
                (select count(distinct customer_id) from activity where occurred_at >= @start and touchpoint_key = any(@referrals)) as Referred,
                (select count(*) from referrers) as Referrers,
                (select count(*) from referrers r join now_active a using (customer_id)) as ActiveReferrers
            """,
            new { journeyKey, segment, start, end, previousStart, referrals = referralTouchpoints.ToArray() }, cancellationToken: ct));
    }
}
