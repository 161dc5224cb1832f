using CxMesh.Governance.Domain;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CxMesh.Governance.Data;

public sealed class ActionRow
{
    public Guid Id { get; init; }
    public string Source { get; init; } = "manual";
    public string Title { get; init; } = "";
    public string? Detail { get; init; }
    public string State { get; init; } = ActionFlow.Open;
    public string? OwnerId { get; init; }
    public string? TeamId { get; init; }
    public string? JourneyKey { get; init; }
    public string? TouchpointKey { get; init; }
    public int Channel { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime DueAt { get; init; }
    public DateTime? FirstResponseAt { get; init; }
    public DateTime? ResolvedAt { get; init; }
    public DateTime? ClosedAt { get; init; }
    public string? RootCause { get; init; }
    public string? Resolution { get; init; }
    public string? CloseReason { get; init; }
    public DateTime? OverdueAt { get; init; }
    public string? EscalatedTo { get; init; }
    public string? AlertId { get; init; }
    public string? ResponseId { get; init; }
    public Guid? FeedbackId { get; init; }
    public string? CustomerId { get; init; }
    public string? PartnerId { get; init; }
    public Guid? CaseStudyId { get; init; }
    public Guid? IdeaId { get; init; }
}

public sealed record ActionComment(string Author, string Text, DateTime CreatedAt);

public sealed record ActionEvent(string Kind, string Actor, string? Detail, DateTime OccurredAt);

public sealed record ActionDetails(ActionRow Action, IReadOnlyList<ActionComment> Comments, IReadOnlyList<ActionEvent> History);

public sealed record ActionFilter(string? OwnerId, string? TeamId, string? JourneyKey, IReadOnlyList<string> States, bool OverdueOnly,
    (DateTime DueAt, Guid Id)? After, int Limit);

/// <summary>Closed-loop actions: created from alerts, partner commitments or by hand, moved through their states, swept when overdue.</summary>
public sealed class ActionStore(
    [FromKeyedServices(GovernanceModule.Name)] ServiceDatabase database, TimeProvider clock)
{
    public const string System = "system";

    private const string Columns =
        """
        id, source, title, detail, state, owner_id as ownerid, team_id as teamid, journey_key as journeykey, touchpoint_key as touchpointkey,
        channel, created_at as createdat, due_at as dueat, first_response_at as firstresponseat, resolved_at as resolvedat, closed_at as closedat,
        root_cause as rootcause, resolution, close_reason as closereason, overdue_at as overdueat, escalated_to as escalatedto, alert_id as alertid,
        response_id as responseid, feedback_id as feedbackid, customer_id as customerid, partner_id as partnerid, case_study_id as casestudyid,
        idea_id as ideaid
        """;

    /// <summary>
    /// Who answers for a journey or touchpoint: the touchpoint's owner, else the journey's owner (with their team), else
    /// the CX team (created when missing), so an action is never left with nobody.
    /// </summary>
    public static async Task<(string? OwnerId, string TeamId)> ResolveOwnerAsync(WriteScope write,
        string? journeyKey, string? touchpointKey, string cxTeam, CancellationToken ct)
    {
        var owner = await write.Connection.QuerySingleOrDefaultAsync<(string? OwnerId, string? TeamId)>(new CommandDefinition(
            """
            select m.id, m.team_id from (
                select owner_id, 1 as rank from touchpoint_owners where journey_key = @journeyKey and touchpoint_key = @touchpointKey
                union all
                select owner_id, 2 from journey_owners where journey_key = @journeyKey
            ) o join members m on m.id = o.owner_id
            order by o.rank limit 1
            """, new { journeyKey, touchpointKey }, write.Transaction, cancellationToken: ct));
        if (owner.OwnerId is not null) return (owner.OwnerId, owner.TeamId!);
        await EnsureTeamAsync(write, cxTeam, ct);
        return (null, cxTeam);
    }

    public static Task EnsureTeamAsync(WriteScope write, string teamId, CancellationToken ct, string name = "Customer experience") =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            "insert into teams (id, name) values (@teamId, @name) on conflict (id) do nothing", new { teamId, name }, write.Transaction, cancellationToken: ct));

    /// <summary>Inserts the action with its first history entry; null when an action for the same alert or partner response
    /// exists already (at most one each).</summary>
    public static async Task<ActionRow?> InsertAsync(WriteScope write, ActionRow action, string actor, CancellationToken ct)
    {
        var created = await write.Connection.QuerySingleOrDefaultAsync<ActionRow>(new CommandDefinition(
            $"""
            insert into actions (id, source, title, detail, owner_id, team_id, journey_key, touchpoint_key, channel, created_at, due_at,
                                 alert_id, response_id, feedback_id, customer_id, partner_id, case_study_id, idea_id)
            values (@Id, @Source, @Title, @Detail, @OwnerId, @TeamId, @JourneyKey, @TouchpointKey, @Channel, @CreatedAt, @DueAt,
                    @AlertId, @ResponseId, @FeedbackId, @CustomerId, @PartnerId, @CaseStudyId, @IdeaId)
            on conflict do nothing
            returning {Columns}
            """, action, write.Transaction, cancellationToken: ct));
        if (created is null) return null;
        await AddHistoryAsync(write, created.Id, "created", actor, created.Source, created.CreatedAt, ct);
        return created;
    }

    public static Task AddHistoryAsync(WriteScope write, Guid actionId, string kind, string actor, string? detail,
        DateTime at, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            "insert into action_history (action_id, kind, actor, detail, occurred_at) values (@actionId, @kind, @actor, @detail, @at)",
            new { actionId, kind, actor, detail, at }, write.Transaction, cancellationToken: ct));

    public static Task<bool> ExistsAsync(WriteScope write, string table, Guid id, CancellationToken ct) =>
        write.Connection.ExecuteScalarAsync<bool>(new CommandDefinition($"select exists (select 1 from {table} where id = @id)", new { id }, write.Transaction, cancellationToken: ct));

    public async Task<ActionDetails> GetAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await DetailsAsync(connection, id, ct) ?? throw new NotFoundException("action", id.ToString());
    }

    private static async Task<ActionDetails?> DetailsAsync(NpgsqlConnection connection, Guid id, CancellationToken ct)
    {
        var action = await connection.QuerySingleOrDefaultAsync<ActionRow>(new CommandDefinition($"select {Columns} from actions where id = @id", new { id }, cancellationToken: ct));
        if (action is null) return null;
        var comments = (await connection.QueryAsync<ActionComment>(new CommandDefinition(
            "select author, text, created_at as createdat from action_comments where action_id = @id order by id", new { id }, cancellationToken: ct))).ToList();
        var history = (await connection.QueryAsync<ActionEvent>(new CommandDefinition(
            "select kind, actor, detail, occurred_at as occurredat from action_history where action_id = @id order by id", new { id }, cancellationToken: ct))).ToList();
        return new ActionDetails(action, comments, history);
    }

    public async Task<IReadOnlyList<ActionRow>> ListAsync(ActionFilter filter, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var ownerOrTeam = (filter.OwnerId, filter.TeamId) switch
        {
            (not null, not null) => "and (owner_id = @OwnerId or team_id = @TeamId)",
            (not null, null) => "and owner_id = @OwnerId",
            (null, not null) => "and team_id = @TeamId",
            _ => "",
        };
        return (await connection.QueryAsync<ActionRow>(new CommandDefinition(
            $"""
            select {Columns} from actions
            where state = any(@States) {ownerOrTeam}
              and (@JourneyKey::text is null or journey_key = @JourneyKey)
              and (not @OverdueOnly or overdue_at is not null)
              and (@AfterDue::timestamptz is null or (due_at, id) > (@AfterDue, @AfterId))
            order by due_at, id limit @Limit
            """, new
            {
                filter.OwnerId,
                filter.TeamId,
                filter.JourneyKey,
                States = filter.States.ToArray(),
                filter.OverdueOnly,
                filter.Limit,
                AfterDue = filter.After?.DueAt,
                AfterId = filter.After?.Id ?? Guid.Empty,
            }, cancellationToken: ct))).ToList();
    }

    public static async Task<string> LockAsync(WriteScope write, Guid id, CancellationToken ct) =>
        await write.Connection.ExecuteScalarAsync<string?>(new CommandDefinition("select state from actions where id = @id for update", new { id }, write.Transaction, cancellationToken: ct))
        ?? throw new NotFoundException("action", id.ToString());

    /// <summary>A comment; a person's first comment on an action is its first response.</summary>
    internal static async Task AddCommentAsync(WriteScope write, Guid id, string author, string text, DateTime now, CancellationToken ct)
    {
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "insert into action_comments (action_id, author, text, created_at) values (@id, @author, @text, @now)", new { id, author, text, now }, write.Transaction, cancellationToken: ct));
        if (author != System)
        {
            await write.Connection.ExecuteAsync(new CommandDefinition(
                "update actions set first_response_at = @now where id = @id and first_response_at is null", new { id, now }, write.Transaction, cancellationToken: ct));
        }
    }

    public async Task<(long Created, long Open, long InProgress, long Resolved, long Closed, long Overdue, ActionMetrics.Summary Summary)> MetricsAsync(
        string? journeyKey, string? teamId, DateTime since, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var timings = (await connection.QueryAsync<(DateTime, DateTime, DateTime?, DateTime?, DateTime?, string, bool)>(new CommandDefinition(
            """
            select created_at, due_at, first_response_at, resolved_at, closed_at, state, overdue_at is not null from actions
            where created_at >= @since and (@journeyKey::text is null or journey_key = @journeyKey) and (@teamId::text is null or team_id = @teamId)
            """, new { since, journeyKey, teamId }, cancellationToken: ct))).ToList();
        var summary = ActionMetrics.Summarise(timings.Select(t => new ActionMetrics.Timing(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6)).ToList(),
            clock.GetUtcNow().UtcDateTime);
        return (timings.Count, timings.Count(t => t.Item6 == ActionFlow.Open), timings.Count(t => t.Item6 == ActionFlow.InProgress),
            timings.Count(t => t.Item6 == ActionFlow.Resolved), timings.Count(t => t.Item6 == ActionFlow.Closed), timings.Count(t => t.Item7), summary);
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> actions past their due time and marks them overdue, escalated to their
    /// journey's sponsor. Rows are claimed with SKIP LOCKED and only while not yet overdue, so with several replicas
    /// sweeping at once each action is claimed exactly once.
    /// </summary>
    public static async Task<IReadOnlyList<ActionRow>> ClaimOverdueAsync(WriteScope write, DateTime now, int limit, CancellationToken ct) =>
        (await write.Connection.QueryAsync<ActionRow>(new CommandDefinition(
            $"""
            with due as (
                select id from actions
                where overdue_at is null and state in ('open', 'in_progress') and due_at < @now
                order by due_at limit @limit
                for update skip locked
            )
            update actions a set overdue_at = @now,
                escalated_to = (select sponsor_id from journey_owners j where j.journey_key = a.journey_key)
            from due where a.id = due.id
            returning {string.Join(", ", Columns.Split(',').Select(c => "a." + c.Trim()))}
            """, new { now, limit }, write.Transaction, cancellationToken: ct))).ToList();

    /// <summary>Moves an action to a new state with the times and notes of the move.</summary>
    public static Task SetStateAsync(WriteScope write, Guid id, string to, DateTime now, string? rootCause, string? resolution, string? reason, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            update actions set state = @to, first_response_at = coalesce(first_response_at, @now),
                resolved_at = case when @to = 'resolved' then @now end, closed_at = case when @to = 'closed' then @now end,
                root_cause = coalesce(@rootCause, root_cause), resolution = coalesce(@resolution, resolution), close_reason = coalesce(@reason, close_reason)
            where id = @id
            """, new { id, to, now, rootCause, resolution, reason }, write.Transaction, cancellationToken: ct));

    /// <summary>The partner response an action answers, when it settles a partner's dispute.</summary>
    public static Task<(string? ResponseId, string? PartnerId)?> DisputeOfAsync(WriteScope write, Guid id, CancellationToken ct) =>
        write.Connection.QuerySingleOrDefaultAsync<(string? ResponseId, string? PartnerId)?>(new CommandDefinition(
            "select response_id, partner_id from actions where id = @id and source = @source", new { id, source = PartnerDisputes.Source }, write.Transaction, cancellationToken: ct));

    public static Task AssignAsync(WriteScope write, Guid id, string? ownerId, string? teamId, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            "update actions set owner_id = @ownerId, team_id = @teamId where id = @id", new { id, ownerId, teamId }, write.Transaction, cancellationToken: ct));

    /// <summary>The action of a partner response, if one was made.</summary>
    public static Task<Guid?> OfResponseAsync(WriteScope write, string responseId, CancellationToken ct) =>
        write.Connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
            "select id from actions where response_id = @responseId", new { responseId }, write.Transaction, cancellationToken: ct));

    /// <summary>The member a partner has as its internal contact, with their team.</summary>
    public static Task<(string? MemberId, string? TeamId)> PartnerContactAsync(WriteScope write, string partnerId, CancellationToken ct) =>
        write.Connection.QuerySingleOrDefaultAsync<(string? MemberId, string? TeamId)>(new CommandDefinition(
            "select m.id, m.team_id from partner_contacts c join members m on m.id = c.member_id where c.partner_id = @partnerId",
            new { partnerId }, write.Transaction, cancellationToken: ct));

    /// <summary>Details read inside a write (after its commit, on its connection).</summary>
    public static async Task<ActionDetails> DetailsAsync(WriteScope write, Guid id, CancellationToken ct) => (await DetailsAsync(write.Connection, id, ct))!;

    /// <summary>The customer's erasure: their id and words leave every action (the action itself, and what was done, stay).</summary>
    public static Task<int> EraseCustomerAsync(WriteScope write, string customerId, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            "update actions set customer_id = null, detail = case when source = 'alert' then null else detail end where customer_id = @customerId",
            new { customerId }, write.Transaction, cancellationToken: ct));
}
