using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Partner.Data;

public sealed class PartnerUserRow
{
    public string PartnerId { get; set; } = "";
    public string Subject { get; set; } = "";
    public string Name { get; set; } = "";
    public string? Email { get; set; }
    public bool Admin { get; set; }
    public DateTime AddedAt { get; set; }
    public string AddedBy { get; set; } = "";
    public DateTime? RemovedAt { get; set; }
}

/// <summary>The people of each partner who use the supplier portal, their admin right, and who was removed.</summary>
public sealed class PartnerUserStore([FromKeyedServices(PartnerModule.Name)] ServiceDatabase database)
{
    private const string Columns =
        "partner_id as partnerid, subject, name, email, admin, added_at as addedat, added_by as addedby, removed_at as removedat";

    public async Task<PartnerUserRow?> GetAsync(string partnerId, string subject, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<PartnerUserRow>(new CommandDefinition(
            $"select {Columns} from partner_users where partner_id = @partnerId and subject = @subject", new { partnerId, subject }, cancellationToken: ct));
    }

    /// <summary>Listed users first (admins first), then removed ones; by name.</summary>
    public async Task<IReadOnlyList<PartnerUserRow>> ListAsync(string partnerId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<PartnerUserRow>(new CommandDefinition(
            $"select {Columns} from partner_users where partner_id = @partnerId order by removed_at is not null, admin desc, name, subject limit 1000",
            new { partnerId }, cancellationToken: ct))).ToList();
    }

    /// <summary>Adds or changes a user (a removed one is listed again). NOT_FOUND for an unknown partner.</summary>
    public async Task<PartnerUserRow> UpsertAsync(PartnerUserRow user, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        if (!await PartnerStore.ExistsAsync(write, user.PartnerId, ct)) throw new NotFoundException("partner", user.PartnerId);
        var row = await write.Connection.QuerySingleAsync<PartnerUserRow>(new CommandDefinition(
            $"""
            insert into partner_users (partner_id, subject, name, email, admin, added_by)
            values (@PartnerId, @Subject, @Name, @Email, @Admin, @AddedBy)
            on conflict (partner_id, subject) do update set name = excluded.name, email = excluded.email, admin = excluded.admin,
                added_at = case when partner_users.removed_at is null then partner_users.added_at else now() end,
                added_by = case when partner_users.removed_at is null then partner_users.added_by else excluded.added_by end,
                removed_at = null, removed_by = null
            returning {Columns}
            """, user, write.Transaction, cancellationToken: ct));
        await write.CommitAsync(ct);
        return row;
    }

    /// <summary>Marks a listed user removed; null when there is no such listed user.</summary>
    public async Task<PartnerUserRow?> RemoveAsync(string partnerId, string subject, string removedBy, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var row = await write.Connection.QuerySingleOrDefaultAsync<PartnerUserRow>(new CommandDefinition(
            $"""
            update partner_users set removed_at = now(), removed_by = @removedBy
            where partner_id = @partnerId and subject = @subject and removed_at is null
            returning {Columns}
            """, new { partnerId, subject, removedBy }, write.Transaction, cancellationToken: ct));
        await write.CommitAsync(ct);
        return row;
    }
}
