using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CxMesh.Governance.Data;

public sealed class CaseStudyRow
{
    public Guid Id { get; init; }
    public string Title { get; init; } = "";
    public string? JourneyKey { get; init; }
    public string[] TouchpointKeys { get; init; } = [];
    public string[] ThemeKeys { get; init; } = [];
    public string[] CustomerPainPoints { get; init; } = [];
    public string[] BusinessPainPoints { get; init; } = [];
    public string[] Lessons { get; init; } = [];
    public string PerfectJourney { get; init; } = "";
    public Guid? FeedbackId { get; init; }
    public string? CustomerId { get; init; }
    public string? RedactedVerbatim { get; init; }
    /// <summary>JSON: [{metric, questionId, value}].</summary>
    public string Ratings { get; init; } = "[]";
    /// <summary>JSON: [{journeyKey, touchpointKey, stageKey, occurredAt}].</summary>
    public string Timeline { get; init; } = "[]";
    public string CreatedBy { get; init; } = "";
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public Guid[] NextStepActionIds { get; set; } = [];
}

/// <summary>Case studies: single customer stories turned into lessons and next steps.</summary>
public sealed class CaseStudyStore([FromKeyedServices(GovernanceModule.Name)] ServiceDatabase database, TimeProvider clock)
{
    private const string Columns =
        """
        c.id, c.title, c.journey_key as journeykey, c.touchpoint_keys as touchpointkeys, c.theme_keys as themekeys,
        c.customer_pain_points as customerpainpoints, c.business_pain_points as businesspainpoints, c.lessons, c.perfect_journey as perfectjourney,
        c.feedback_id as feedbackid, c.customer_id as customerid, c.redacted_verbatim as redactedverbatim, c.ratings::text as ratings,
        c.timeline::text as timeline, c.created_by as createdby, c.created_at as createdat, c.updated_at as updatedat,
        coalesce((select array_agg(a.id order by a.created_at) from actions a where a.case_study_id = c.id), '{}') as nextstepactionids
        """;

    public async Task<CaseStudyRow> CreateAsync(CaseStudyRow row, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into case_studies (id, title, journey_key, touchpoint_keys, theme_keys, customer_pain_points, business_pain_points, lessons,
                                      perfect_journey, feedback_id, customer_id, redacted_verbatim, ratings, timeline, created_by, created_at, updated_at)
            values (@Id, @Title, @JourneyKey, @TouchpointKeys, @ThemeKeys, @CustomerPainPoints, @BusinessPainPoints, @Lessons,
                    @PerfectJourney, @FeedbackId, @CustomerId, @RedactedVerbatim, @Ratings::jsonb, @Timeline::jsonb, @CreatedBy, @now, @now)
            """, Parameters(row, now), cancellationToken: ct));
        return (await GetAsync(connection, row.Id, ct))!;
    }

    /// <summary>Replaces the written parts; what came from the feedback item stays as it was.</summary>
    public async Task<CaseStudyRow> UpdateAsync(CaseStudyRow row, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            """
            update case_studies set title = @Title, journey_key = @JourneyKey, touchpoint_keys = @TouchpointKeys, theme_keys = @ThemeKeys,
                customer_pain_points = @CustomerPainPoints, business_pain_points = @BusinessPainPoints, lessons = @Lessons,
                perfect_journey = @PerfectJourney, updated_at = @now
            where id = @Id
            """, Parameters(row, clock.GetUtcNow().UtcDateTime), cancellationToken: ct));
        if (updated == 0) throw new NotFoundException("case study", row.Id.ToString());
        return (await GetAsync(connection, row.Id, ct))!;
    }

    /// <summary>The row's fields as parameters, and the time as @now.</summary>
    private static DynamicParameters Parameters(CaseStudyRow row, DateTime now)
    {
        var parameters = new DynamicParameters(row);
        parameters.Add("now", now);
        return parameters;
    }

    public async Task<CaseStudyRow> GetAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await GetAsync(connection, id, ct) ?? throw new NotFoundException("case study", id.ToString());
    }

    private static Task<CaseStudyRow?> GetAsync(NpgsqlConnection connection, Guid id, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<CaseStudyRow>(new CommandDefinition($"select {Columns} from case_studies c where c.id = @id", new { id }, cancellationToken: ct));

    public async Task<IReadOnlyList<CaseStudyRow>> ListAsync(string? journeyKey, string? themeKey, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CaseStudyRow>(new CommandDefinition(
            $"""
            select {Columns} from case_studies c
            where (@journeyKey::text is null or c.journey_key = @journeyKey) and (@themeKey::text is null or @themeKey = any(c.theme_keys))
            order by c.created_at desc, c.id limit 500
            """, new { journeyKey, themeKey }, cancellationToken: ct))).ToList();
    }

    /// <summary>The customer's erasure: their id, words, ratings and timeline leave the case study; the lessons stay.</summary>
    public static Task<int> EraseCustomerAsync(WriteScope write, string customerId, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            update case_studies set customer_id = null, redacted_verbatim = null, ratings = '[]', timeline = '[]', updated_at = now()
            where customer_id = @customerId
            """, new { customerId }, write.Transaction, cancellationToken: ct));

    /// <summary>Case studies quoting an item follow its new redacted words.</summary>
    public static Task<int> ReplaceRedactedAsync(WriteScope write, Guid feedbackId, string redacted, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            "update case_studies set redacted_verbatim = @redacted where feedback_id = @feedbackId and redacted_verbatim is not null",
            new { feedbackId, redacted }, write.Transaction, cancellationToken: ct));
}
