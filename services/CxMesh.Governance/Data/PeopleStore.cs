using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CxMesh.Governance.Data;

public sealed class TeamRow
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public DateTime CreatedAt { get; init; }
}

public sealed class MemberRow
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public string TeamId { get; init; } = "";
    public string[] Roles { get; init; } = [];
    public DateTime UpdatedAt { get; init; }
}

public sealed class OwnershipChangeRow
{
    public string Role { get; init; } = "";
    public string? TouchpointKey { get; init; }
    public string? PreviousMemberId { get; init; }
    public string? MemberId { get; init; }
    public string ChangedBy { get; init; } = "";
    public string? Reason { get; init; }
    public DateTime ChangedAt { get; init; }
}

public sealed record Ownership(string JourneyKey, string? SponsorId, string? OwnerId,
    IReadOnlyList<(string TouchpointKey, string OwnerId)> TouchpointOwners, IReadOnlyList<OwnershipChangeRow> History);

/// <summary>Teams, members, who owns and sponsors each journey and touchpoint (with history), and partner contacts.</summary>
public sealed class PeopleStore([FromKeyedServices(GovernanceModule.Name)] ServiceDatabase database, TimeProvider clock)
{
    private const string MemberColumns = "id, name, team_id as teamid, roles, updated_at as updatedat";

    public async Task<TeamRow> CreateTeamAsync(string id, string name, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<TeamRow>(new CommandDefinition(
            "insert into teams (id, name) values (@id, @name) on conflict (id) do nothing returning id, name, created_at as createdat",
            new { id, name }, cancellationToken: ct)) ?? throw new AlreadyExistsException($"team {id} exists already.");
    }

    public async Task<IReadOnlyList<TeamRow>> TeamsAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<TeamRow>(new CommandDefinition("select id, name, created_at as createdat from teams order by id", cancellationToken: ct))).ToList();
    }

    public async Task<MemberRow> SaveMemberAsync(MemberRow member, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await RequireTeamAsync(connection, null, member.TeamId, "member.team_id", ct);
        return await connection.QuerySingleAsync<MemberRow>(new CommandDefinition(
            $"""
            insert into members (id, name, team_id, roles) values (@Id, @Name, @TeamId, @Roles)
            on conflict (id) do update set name = excluded.name, team_id = excluded.team_id, roles = excluded.roles, updated_at = now()
            returning {MemberColumns}
            """, member, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<MemberRow>> MembersAsync(string? teamId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<MemberRow>(new CommandDefinition(
            $"select {MemberColumns} from members where @teamId::text is null or team_id = @teamId order by id", new { teamId }, cancellationToken: ct))).ToList();
    }

    public async Task<MemberRow?> MemberAsync(string id, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await MemberAsync(connection, null, id, ct);
    }

    internal static Task<MemberRow?> MemberAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string id, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<MemberRow>(new CommandDefinition($"select {MemberColumns} from members where id = @id", new { id }, tx, cancellationToken: ct));

    /// <summary>The member, or INVALID_ARGUMENT naming <paramref name="field"/>: a reference to nobody is the caller's mistake.</summary>
    /// <summary>The member, or INVALID_ARGUMENT naming <paramref name="field"/> when there is none.</summary>
    public static Task<MemberRow> RequireMemberAsync(WriteScope write, string id, string field, CancellationToken ct) =>
        RequireMemberAsync(write.Connection, write.Transaction, id, field, ct);

    /// <summary>INVALID_ARGUMENT naming <paramref name="field"/> when the team does not exist.</summary>
    public static Task RequireTeamAsync(WriteScope write, string id, string field, CancellationToken ct) =>
        RequireTeamAsync(write.Connection, write.Transaction, id, field, ct);

    internal static async Task<MemberRow> RequireMemberAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string id, string field, CancellationToken ct) =>
        await MemberAsync(connection, tx, id, ct) ?? throw new FieldViolationException(field, $"member '{id}' is not registered.");

    internal static async Task RequireTeamAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string id, string field, CancellationToken ct)
    {
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from teams where id = @id)", new { id }, tx, cancellationToken: ct)))
        {
            throw new FieldViolationException(field, $"team '{id}' does not exist.");
        }
    }

    public async Task<Ownership> AssignJourneyOwnersAsync(string journeyKey, string sponsorId, string ownerId, string actor, string? reason, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        await RequireMemberAsync(write, sponsorId, "sponsor_id", ct);
        await RequireMemberAsync(write, ownerId, "owner_id", ct);
        var before = await write.Connection.QuerySingleOrDefaultAsync<(string? SponsorId, string? OwnerId)>(new CommandDefinition(
            "select sponsor_id, owner_id from journey_owners where journey_key = @journeyKey for update", new { journeyKey }, write.Transaction, cancellationToken: ct));
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into journey_owners (journey_key, sponsor_id, owner_id) values (@journeyKey, @sponsorId, @ownerId)
            on conflict (journey_key) do update set sponsor_id = excluded.sponsor_id, owner_id = excluded.owner_id, updated_at = now()
            """, new { journeyKey, sponsorId, ownerId }, write.Transaction, cancellationToken: ct));
        var now = clock.GetUtcNow().UtcDateTime;
        if (before.SponsorId != sponsorId) await RecordChangeAsync(write, journeyKey, "sponsor", null, before.SponsorId, sponsorId, actor, reason, now, ct);
        if (before.OwnerId != ownerId) await RecordChangeAsync(write, journeyKey, "owner", null, before.OwnerId, ownerId, actor, reason, now, ct);
        await write.CommitAsync(ct);
        return await OwnershipAsync(write.Connection, journeyKey, ct);
    }

    public async Task<Ownership> AssignTouchpointOwnerAsync(string journeyKey, string touchpointKey, string? ownerId, string actor, string? reason, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        if (ownerId is not null) await RequireMemberAsync(write, ownerId, "owner_id", ct);
        var before = await write.Connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select owner_id from touchpoint_owners where journey_key = @journeyKey and touchpoint_key = @touchpointKey for update",
            new { journeyKey, touchpointKey }, write.Transaction, cancellationToken: ct));
        await write.Connection.ExecuteAsync(new CommandDefinition(ownerId is null
            ? "delete from touchpoint_owners where journey_key = @journeyKey and touchpoint_key = @touchpointKey"
            : """
              insert into touchpoint_owners (journey_key, touchpoint_key, owner_id) values (@journeyKey, @touchpointKey, @ownerId)
              on conflict (journey_key, touchpoint_key) do update set owner_id = excluded.owner_id, updated_at = now()
              """, new { journeyKey, touchpointKey, ownerId }, write.Transaction, cancellationToken: ct));
        if (before != ownerId)
        {
            await RecordChangeAsync(write, journeyKey, "touchpoint-owner", touchpointKey, before, ownerId, actor, reason, clock.GetUtcNow().UtcDateTime, ct);
        }
        await write.CommitAsync(ct);
        return await OwnershipAsync(write.Connection, journeyKey, ct);
    }

    private static async Task RecordChangeAsync(WriteScope write, string journeyKey, string role, string? touchpointKey,
        string? previous, string? member, string actor, string? reason, DateTime now, CancellationToken ct)
    {
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into ownership_history (journey_key, role, touchpoint_key, previous_member_id, member_id, changed_by, reason, changed_at)
            values (@journeyKey, @role, @touchpointKey, @previous, @member, @actor, @reason, @now)
            """, new { journeyKey, role, touchpointKey, previous, member, actor, reason, now }, write.Transaction, cancellationToken: ct));
        var subject = touchpointKey is null ? $"journey/{journeyKey}" : $"journey/{journeyKey}/touchpoint/{touchpointKey}";
        await AuditLog.AppendAsync(write, AuditLog.OwnershipChanged, subject, actor,
            new { role, previous, member, reason }, now, ct);
    }

    /// <summary>The journeys a member sponsors, owns or owns a touchpoint of; null when the id is no member.</summary>
    public async Task<IReadOnlySet<string>?> JourneysOfAsync(string memberId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var journeys = (await connection.QueryAsync<string>(new CommandDefinition(
            """
            select journey_key from journey_owners where sponsor_id = @memberId or owner_id = @memberId
            union select journey_key from touchpoint_owners where owner_id = @memberId
            union select '' from members where id = @memberId
            """, new { memberId }, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);
        // The '' row only says that the member exists.
        return journeys.Remove("") ? journeys : null;
    }

    public async Task<Ownership> OwnershipAsync(string journeyKey, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await OwnershipAsync(connection, journeyKey, ct);
    }

    private static async Task<Ownership> OwnershipAsync(NpgsqlConnection connection, string journeyKey, CancellationToken ct)
    {
        var owners = await connection.QuerySingleOrDefaultAsync<(string? SponsorId, string? OwnerId)>(new CommandDefinition(
            "select sponsor_id, owner_id from journey_owners where journey_key = @journeyKey", new { journeyKey }, cancellationToken: ct));
        var touchpoints = (await connection.QueryAsync<(string, string)>(new CommandDefinition(
            "select touchpoint_key, owner_id from touchpoint_owners where journey_key = @journeyKey order by touchpoint_key", new { journeyKey }, cancellationToken: ct))).ToList();
        var history = (await connection.QueryAsync<OwnershipChangeRow>(new CommandDefinition(
            """
            select role, touchpoint_key as touchpointkey, previous_member_id as previousmemberid, member_id as memberid, changed_by as changedby,
                   reason, changed_at as changedat
            from ownership_history where journey_key = @journeyKey order by id desc limit 200
            """, new { journeyKey }, cancellationToken: ct))).ToList();
        return new Ownership(journeyKey, owners.SponsorId, owners.OwnerId, touchpoints, history);
    }

    public async Task SetPartnerContactAsync(string partnerId, string memberId, string actor, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        await RequireMemberAsync(write, memberId, "member_id", ct);
        var previous = await write.Connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select member_id from partner_contacts where partner_id = @partnerId for update", new { partnerId }, write.Transaction, cancellationToken: ct));
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into partner_contacts (partner_id, member_id) values (@partnerId, @memberId)
            on conflict (partner_id) do update set member_id = excluded.member_id, updated_at = now()
            """, new { partnerId, memberId }, write.Transaction, cancellationToken: ct));
        if (previous != memberId)
        {
            await AuditLog.AppendAsync(write, AuditLog.PartnerContactChanged, $"partner/{partnerId}", actor,
                new { previous, member = memberId }, clock.GetUtcNow().UtcDateTime, ct);
        }
        await write.CommitAsync(ct);
    }
}
