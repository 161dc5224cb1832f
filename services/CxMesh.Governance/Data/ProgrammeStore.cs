using System.Text.Json;
using CxMesh.Governance.Domain;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CxMesh.Governance.Data;

public sealed class VisionRow
{
    public int Version { get; init; }
    public string Vision { get; init; } = "";
    public string Mission { get; init; } = "";
    public string PublishedBy { get; init; } = "";
    public DateTime PublishedAt { get; init; }
}

public sealed record CodeDriverRow(string Name, string ThemeKey, string Definition, string Target);

public sealed class CxCodeRow
{
    public int Version { get; init; }
    public string Drivers { get; init; } = "[]";
    public string SetBy { get; init; } = "";
    public DateTime SetAt { get; init; }

    public IReadOnlyList<CodeDriverRow> DriverList => JsonSerializer.Deserialize<List<CodeDriverRow>>(Drivers, ProgrammeStore.Json)!;
}

public sealed class SprintRow
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public DateOnly StartDate { get; init; }
    public DateOnly EndDate { get; init; }
    public DateTime CreatedAt { get; init; }
    public List<PriorityRow> Priorities { get; } = [];
}

public sealed class PriorityRow
{
    public Guid Id { get; init; }
    public Guid SprintId { get; init; }
    public int Position { get; init; }
    public string Title { get; init; } = "";
    public string OwnerId { get; init; } = "";
    /// <summary>The scoring scope as protobuf JSON.</summary>
    public string Scope { get; init; } = "{}";
    public int Metric { get; init; }
    public string QuestionId { get; init; } = "";
    public double TargetChange { get; init; }
    public Guid[] ActionIds { get; init; } = [];
    public Guid[] IdeaIds { get; init; } = [];
}

public sealed class IdeaRow
{
    public Guid Id { get; init; }
    public string Title { get; init; } = "";
    public string Description { get; init; } = "";
    public string? ThemeKey { get; init; }
    public string? JourneyKey { get; init; }
    public string? TouchpointKey { get; init; }
    public int Effort { get; init; }
    public string State { get; init; } = IdeaFlow.Proposed;
    public int Votes { get; init; }
    public string SubmittedBy { get; init; } = "";
    public DateTime CreatedAt { get; init; }
    public string? MeasuredResult { get; init; }
    public string? DecisionNote { get; init; }
}

public sealed class CultureRow
{
    public string TeamId { get; init; } = "";
    public string Period { get; init; } = "";
    public DateOnly PeriodStart { get; init; }
    public short Conscience { get; init; }
    public short Communication { get; init; }
    public short Consistency { get; init; }
    public short Credibility { get; init; }
    public string Note { get; init; } = "";
    public string RecordedBy { get; init; } = "";
    public DateTime RecordedAt { get; init; }

    public CultureScorecard.Scores Scores => new(Conscience, Communication, Consistency, Credibility);
}

/// <summary>The programme: vision, CX code, improvement sprints, the 1% challenge and the culture scorecard.</summary>
public sealed class ProgrammeStore([FromKeyedServices(GovernanceModule.Name)] ServiceDatabase database, TimeProvider clock)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string IdeaColumns =
        "id, title, description, theme_key as themekey, journey_key as journeykey, touchpoint_key as touchpointkey, effort, state, votes, " +
        "submitted_by as submittedby, created_at as createdat, measured_result as measuredresult, decision_note as decisionnote";

    // ---- Vision ----

    public async Task<VisionRow> PublishVisionAsync(string vision, string mission, string actor, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        await write.Connection.ExecuteAsync(new CommandDefinition("lock table visions in exclusive mode", transaction: write.Transaction, cancellationToken: ct));
        var now = clock.GetUtcNow().UtcDateTime;
        var row = await write.Connection.QuerySingleAsync<VisionRow>(new CommandDefinition(
            """
            insert into visions (version, vision, mission, published_by, published_at)
            select coalesce(max(version), 0) + 1, @vision, @mission, @actor, @now from visions
            returning version, vision, mission, published_by as publishedby, published_at as publishedat
            """, new { vision, mission, actor, now }, write.Transaction, cancellationToken: ct));
        await AuditLog.AppendAsync(write, AuditLog.VisionPublished, $"vision/v{row.Version}", actor, new { vision, mission }, now, ct);
        await write.CommitAsync(ct);
        return row;
    }

    public async Task<IReadOnlyList<VisionRow>> VisionsAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<VisionRow>(new CommandDefinition(
            "select version, vision, mission, published_by as publishedby, published_at as publishedat from visions order by version desc", cancellationToken: ct))).ToList();
    }

    // ---- CX code ----

    public async Task<CxCodeRow> SetCxCodeAsync(IReadOnlyList<CodeDriverRow> drivers, string actor, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        await write.Connection.ExecuteAsync(new CommandDefinition("lock table cx_codes in exclusive mode", transaction: write.Transaction, cancellationToken: ct));
        var previous = await write.Connection.QuerySingleOrDefaultAsync<CxCodeRow>(new CommandDefinition(
            "select version, drivers::text as drivers, set_by as setby, set_at as setat from cx_codes order by version desc limit 1", transaction: write.Transaction, cancellationToken: ct));
        var now = clock.GetUtcNow().UtcDateTime;
        var json = JsonSerializer.Serialize(drivers, Json);
        var row = await write.Connection.QuerySingleAsync<CxCodeRow>(new CommandDefinition(
            """
            insert into cx_codes (version, drivers, set_by, set_at) values (@version, @json::jsonb, @actor, @now)
            returning version, drivers::text as drivers, set_by as setby, set_at as setat
            """, new { version = (previous?.Version ?? 0) + 1, json, actor, now }, write.Transaction, cancellationToken: ct));
        await AuditLog.AppendAsync(write, AuditLog.CxCodeChanged, $"cx-code/v{row.Version}", actor, new
        {
            previousVersion = previous?.Version,
            previousThemes = previous?.DriverList.Select(d => d.ThemeKey),
            drivers,
        }, now, ct);
        await write.CommitAsync(ct);
        return row;
    }

    public async Task<CxCodeRow?> CxCodeAsync(int version, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<CxCodeRow>(new CommandDefinition(
            "select version, drivers::text as drivers, set_by as setby, set_at as setat from cx_codes where @version = 0 or version = @version order by version desc limit 1",
            new { version }, cancellationToken: ct));
    }

    // ---- Sprints ----

    public async Task<SprintRow> CreateSprintAsync(SprintRow sprint, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        for (var i = 0; i < sprint.Priorities.Count; i++)
        {
            await PeopleStore.RequireMemberAsync(write, sprint.Priorities[i].OwnerId, $"sprint.priorities[{i}].owner_id", ct);
        }
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "insert into sprints (id, name, start_date, end_date) values (@Id, @Name, @StartDate, @EndDate)", sprint, write.Transaction, cancellationToken: ct));
        foreach (var p in sprint.Priorities)
        {
            await write.Connection.ExecuteAsync(new CommandDefinition(
                """
                insert into priorities (id, sprint_id, position, title, owner_id, scope, metric, question_id, target_change)
                values (@Id, @SprintId, @Position, @Title, @OwnerId, @Scope::jsonb, @Metric, @QuestionId, @TargetChange)
                """, p, write.Transaction, cancellationToken: ct));
        }
        await write.CommitAsync(ct);
        return (await SprintAsync(write.Connection, sprint.Id, ct))!;
    }

    public async Task<SprintRow> SprintAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await SprintAsync(connection, id, ct) ?? throw new NotFoundException("sprint", id.ToString());
    }

    public async Task<IReadOnlyList<SprintRow>> SprintsAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await SprintsAsync(connection, null, ct);
    }

    private static async Task<SprintRow?> SprintAsync(NpgsqlConnection connection, Guid id, CancellationToken ct) =>
        (await SprintsAsync(connection, id, ct)).SingleOrDefault();

    /// <summary>One sprint, or the 200 latest, with their priorities: two queries whatever the count.</summary>
    private static async Task<IReadOnlyList<SprintRow>> SprintsAsync(NpgsqlConnection connection, Guid? id, CancellationToken ct)
    {
        var sprints = (await connection.QueryAsync<SprintRow>(new CommandDefinition(
            """
            select id, name, start_date as startdate, end_date as enddate, created_at as createdat from sprints
            where @id::uuid is null or id = @id
            order by start_date desc, created_at desc limit 200
            """, new { id }, cancellationToken: ct))).ToList();
        var byId = sprints.ToDictionary(s => s.Id);
        foreach (var priority in await connection.QueryAsync<PriorityRow>(new CommandDefinition(
            """
            select id, sprint_id as sprintid, position, title, owner_id as ownerid, scope::text as scope, metric, question_id as questionid,
                   target_change as targetchange, action_ids as actionids, idea_ids as ideaids
            from priorities where sprint_id = any(@ids) order by sprint_id, position
            """, new { ids = byId.Keys.ToArray() }, cancellationToken: ct)))
        {
            byId[priority.SprintId].Priorities.Add(priority);
        }
        return sprints;
    }

    /// <summary>A new priority at the end of a sprint holding fewer than the maximum; with an idea, linked to it.</summary>
    public async Task<SprintRow> AddPriorityAsync(PriorityRow priority, Guid? ideaId, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        // The sprint row's lock orders concurrent additions, so two cannot both take the sixth place.
        if (await write.Connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
            "select id from sprints where id = @SprintId for update", priority, write.Transaction, cancellationToken: ct)) is null)
        {
            throw new NotFoundException("sprint", priority.SprintId.ToString());
        }
        var count = await write.Connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "select count(*) from priorities where sprint_id = @SprintId", priority, write.Transaction, cancellationToken: ct));
        if (SprintRules.PriorityCountProblem(count + 1) is { } problem)
        {
            throw new PreconditionFailedException("SPRINT_PRIORITY_COUNT", "The sprint rule: " + problem, "priority", new Dictionary<string, string>
            { ["rule"] = $"{SprintRules.MinPriorities}-{SprintRules.MaxPriorities} priorities", ["count"] = (count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }
        await PeopleStore.RequireMemberAsync(write, priority.OwnerId, "priority.owner_id", ct);
        var ideas = Array.Empty<Guid>();
        if (ideaId is { } i)
        {
            await RequireAcceptedIdeaAsync(write, i, ct);
            ideas = [i];
        }
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into priorities (id, sprint_id, position, title, owner_id, scope, metric, question_id, target_change, idea_ids)
            values (@Id, @SprintId, @count, @Title, @OwnerId, @Scope::jsonb, @Metric, @QuestionId, @TargetChange, @ideas)
            """, new { priority.Id, priority.SprintId, count, priority.Title, priority.OwnerId, priority.Scope, priority.Metric, priority.QuestionId, priority.TargetChange, ideas },
            write.Transaction, cancellationToken: ct));
        await write.CommitAsync(ct);
        return (await SprintAsync(write.Connection, priority.SprintId, ct))!;
    }

    private static async Task RequireAcceptedIdeaAsync(WriteScope write, Guid i, CancellationToken ct)
    {
        var state = await write.Connection.ExecuteScalarAsync<string?>(new CommandDefinition("select state from ideas where id = @i", new { i }, write.Transaction, cancellationToken: ct))
            ?? throw new FieldViolationException("idea_id", $"idea '{i}' does not exist.");
        if (state is IdeaFlow.Proposed or IdeaFlow.Rejected)
        {
            throw new PreconditionFailedException("IDEA_NOT_ACCEPTED", $"idea '{i}' is {state}; only accepted ideas join a sprint.", "idea_id", new Dictionary<string, string> { ["state"] = state });
        }
    }

    /// <summary>Links an action, or an accepted (or later) idea, to a priority of the sprint; linking twice changes nothing.</summary>
    public async Task<SprintRow> LinkAsync(Guid sprintId, Guid priorityId, Guid? actionId, Guid? ideaId, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        if (!await write.Connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from priorities where id = @priorityId and sprint_id = @sprintId)", new { sprintId, priorityId }, write.Transaction, cancellationToken: ct)))
        {
            throw new NotFoundException("priority", $"{sprintId}/{priorityId}");
        }
        if (actionId is { } a)
        {
            if (!await write.Connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from actions where id = @a)", new { a }, write.Transaction, cancellationToken: ct)))
            {
                throw new FieldViolationException("action_id", $"action '{a}' does not exist.");
            }
            await write.Connection.ExecuteAsync(new CommandDefinition(
                "update priorities set action_ids = array_append(action_ids, @a) where id = @priorityId and not (@a = any(action_ids))", new { a, priorityId }, write.Transaction, cancellationToken: ct));
        }
        if (ideaId is { } i)
        {
            await RequireAcceptedIdeaAsync(write, i, ct);
            await write.Connection.ExecuteAsync(new CommandDefinition(
                "update priorities set idea_ids = array_append(idea_ids, @i) where id = @priorityId and not (@i = any(idea_ids))", new { i, priorityId }, write.Transaction, cancellationToken: ct));
        }
        await write.CommitAsync(ct);
        return (await SprintAsync(write.Connection, sprintId, ct))!;
    }

    // ---- Ideas ----

    public async Task<IdeaRow> SubmitIdeaAsync(IdeaRow idea, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await PeopleStore.RequireMemberAsync(connection, null, idea.SubmittedBy, "idea.submitted_by", ct);
        return await connection.QuerySingleAsync<IdeaRow>(new CommandDefinition(
            $"""
            insert into ideas (id, title, description, theme_key, journey_key, touchpoint_key, effort, submitted_by, created_at)
            values (@Id, @Title, @Description, @ThemeKey, @JourneyKey, @TouchpointKey, @Effort, @SubmittedBy, @CreatedAt)
            returning {IdeaColumns}
            """, idea, cancellationToken: ct));
    }

    /// <summary>One vote per member: a second is ALREADY_EXISTS, and the count never moves twice.</summary>
    public async Task<IdeaRow> VoteAsync(Guid ideaId, string memberId, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        await PeopleStore.RequireMemberAsync(write, memberId, "member_id", ct);
        var state = await write.Connection.ExecuteScalarAsync<string?>(new CommandDefinition("select state from ideas where id = @ideaId for update", new { ideaId }, write.Transaction, cancellationToken: ct))
            ?? throw new NotFoundException("idea", ideaId.ToString());
        if (state == IdeaFlow.Rejected)
        {
            throw new PreconditionFailedException("IDEA_REJECTED", $"idea '{ideaId}' was rejected; it takes no more votes.", "idea_id", new Dictionary<string, string> { ["state"] = state });
        }
        if (await write.Connection.ExecuteAsync(new CommandDefinition(
            "insert into idea_votes (idea_id, member_id) values (@ideaId, @memberId) on conflict do nothing", new { ideaId, memberId }, write.Transaction, cancellationToken: ct)) == 0)
        {
            throw new AlreadyExistsException($"member {memberId} has voted for idea {ideaId} already.");
        }
        var idea = await write.Connection.QuerySingleAsync<IdeaRow>(new CommandDefinition(
            $"update ideas set votes = votes + 1 where id = @ideaId returning {IdeaColumns}", new { ideaId }, write.Transaction, cancellationToken: ct));
        await write.CommitAsync(ct);
        return idea;
    }

    public async Task<IdeaRow> AdvanceIdeaAsync(Guid ideaId, string to, string? note, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var state = await write.Connection.ExecuteScalarAsync<string?>(new CommandDefinition("select state from ideas where id = @ideaId for update", new { ideaId }, write.Transaction, cancellationToken: ct))
            ?? throw new NotFoundException("idea", ideaId.ToString());
        if (!IdeaFlow.CanMove(state, to))
        {
            throw new PreconditionFailedException("IDEA_TRANSITION", $"idea '{ideaId}' is {state}; it cannot move to {to}.", "to", new Dictionary<string, string> { ["from"] = state, ["to"] = to });
        }
        var idea = await write.Connection.QuerySingleAsync<IdeaRow>(new CommandDefinition(
            $"""
            update ideas set state = @to,
                measured_result = case when @to = 'measured' then @note else measured_result end,
                decision_note = case when @to in ('accepted', 'rejected') then @note else decision_note end
            where id = @ideaId returning {IdeaColumns}
            """, new { ideaId, to, note }, write.Transaction, cancellationToken: ct));
        await write.CommitAsync(ct);
        return idea;
    }

    /// <summary>Quick wins first (accepted and low effort), then by votes, then oldest first.</summary>
    /// <summary>
    /// Where an idea stands in the backlog's order (accepted quick wins first, then by votes, then oldest), as a keyset:
    /// every part ascending, so one row comparison finds the ideas after it.
    /// </summary>
    public sealed record IdeaPosition(int Rank, int NegativeVotes, DateTime CreatedAt, Guid Id)
    {
        public static IdeaPosition Of(IdeaRow idea) => new(idea.State == "accepted" && idea.Effort == 1 ? 0 : 1, -idea.Votes, idea.CreatedAt, idea.Id);

        public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Rank}|{NegativeVotes}|{CreatedAt.Ticks}|{Id}");

        public static IdeaPosition? Parse(string text)
        {
            var parts = text.Split('|');
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            return parts.Length == 4 && int.TryParse(parts[0], inv, out var rank) && rank is 0 or 1 && int.TryParse(parts[1], System.Globalization.NumberStyles.AllowLeadingSign, inv, out var votes)
                && long.TryParse(parts[2], System.Globalization.NumberStyles.None, inv, out var ticks) && ticks <= DateTime.MaxValue.Ticks && Guid.TryParse(parts[3], out var id)
                ? new IdeaPosition(rank, votes, new DateTime(ticks, DateTimeKind.Utc), id)
                : null;
        }
    }

    public async Task<IReadOnlyList<IdeaRow>> IdeasAsync(IReadOnlyList<string> states, string? themeKey, string? journeyKey, IdeaPosition? after, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<IdeaRow>(new CommandDefinition(
            $"""
            select {IdeaColumns} from ideas
            where (cardinality(@states) = 0 or state = any(@states))
              and (@themeKey::text is null or theme_key = @themeKey) and (@journeyKey::text is null or journey_key = @journeyKey)
              and (not @paged or ((case when state = 'accepted' and effort = 1 then 0 else 1 end), -votes, created_at, id) > (@rank, @negativeVotes, @createdAt, @id))
            order by (case when state = 'accepted' and effort = 1 then 0 else 1 end), -votes, created_at, id
            limit @limit
            """, new
            {
                states = states.ToArray(),
                themeKey,
                journeyKey,
                limit,
                paged = after is not null,
                rank = after?.Rank ?? 0,
                negativeVotes = after?.NegativeVotes ?? 0,
                createdAt = after?.CreatedAt ?? DateTime.UnixEpoch,
                id = after?.Id ?? Guid.Empty,
            }, cancellationToken: ct))).ToList();
    }

    // ---- Culture ----

    public async Task<CultureRow> RecordCultureAsync(CultureRow row, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await PeopleStore.RequireTeamAsync(connection, null, row.TeamId, "assessment.team_id", ct);
        return await connection.QuerySingleAsync<CultureRow>(new CommandDefinition(
            """
            insert into culture_assessments (team_id, period, period_start, conscience, communication, consistency, credibility, note, recorded_by, recorded_at)
            values (@TeamId, @Period, @PeriodStart, @Conscience, @Communication, @Consistency, @Credibility, @Note, @RecordedBy, @RecordedAt)
            on conflict (team_id, period) do update set conscience = excluded.conscience, communication = excluded.communication,
                consistency = excluded.consistency, credibility = excluded.credibility, note = excluded.note,
                recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at
            returning team_id as teamid, period, period_start as periodstart, conscience, communication, consistency, credibility, note,
                      recorded_by as recordedby, recorded_at as recordedat
            """, row, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<CultureRow>> CultureAsync(string? teamId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CultureRow>(new CommandDefinition(
            """
            select team_id as teamid, period, period_start as periodstart, conscience, communication, consistency, credibility, note,
                   recorded_by as recordedby, recorded_at as recordedat
            from culture_assessments where @teamId::text is null or team_id = @teamId
            order by team_id, period_start, period
            """, new { teamId }, cancellationToken: ct))).ToList();
    }

    /// <summary>The state of an idea, or null when there is none.</summary>
    public static Task<string?> IdeaStateAsync(WriteScope write, Guid idea, CancellationToken ct) =>
        write.Connection.ExecuteScalarAsync<string?>(new CommandDefinition("select state from ideas where id = @idea", new { idea }, write.Transaction, cancellationToken: ct));
}
