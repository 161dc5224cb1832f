using System.Text.Json;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Partner.Data;

public sealed record ContactRow(string Name, string Email, string Role);

public sealed class PartnerRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Contacts { get; set; } = "[]";
    public string? WebhookUrl { get; set; }
    public string Status { get; set; } = "active";
    public DateTime CreatedAt { get; set; }
}

public sealed record MappingRow(string PartnerId, string Kind, string Value);

public sealed class AgreementRow
{
    public Guid AgreementId { get; set; }
    public int Version { get; set; }
    public string PartnerId { get; set; } = "";
    public string Scope { get; set; } = "[]";
    public string[] Fields { get; set; } = [];
    public int MinGroupSize { get; set; }
    public string Cadence { get; set; } = "";
    public int RetentionDays { get; set; }
    public string State { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime? DecidedAt { get; set; }
    public DateOnly? ExpiresOn { get; set; }

    public IReadOnlyList<(string Kind, string Value)> ScopeList =>
        JsonSerializer.Deserialize<List<ScopeEntry>>(Scope, PartnerStore.Json)!.Select(e => (e.Kind, e.Value)).ToList();

    public sealed record ScopeEntry(string Kind, string Value);
}

/// <summary>Partners, their mappings and their sharing agreements.</summary>
public sealed class PartnerStore([FromKeyedServices(PartnerModule.Name)] ServiceDatabase database)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string PartnerColumns = "id, name, kind, contacts::text as contacts, webhook_url as webhookurl, status, created_at as createdat";
    private const string AgreementColumns =
        "agreement_id as agreementid, version, partner_id as partnerid, scope::text as scope, fields, min_group_size as mingroupsize, cadence, " +
        "retention_days as retentiondays, state, created_at as createdat, decided_at as decidedat, expires_on as expireson";

    public async Task<PartnerRow> RegisterAsync(PartnerRow partner, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var created = await connection.QuerySingleOrDefaultAsync<PartnerRow>(new CommandDefinition(
            $"""
            insert into partners (id, name, kind, contacts, webhook_url) values (@Id, @Name, @Kind, @Contacts::jsonb, @WebhookUrl)
            on conflict (id) do nothing
            returning {PartnerColumns}
            """, partner, cancellationToken: ct));
        return created ?? throw new AlreadyExistsException($"partner {partner.Id} is registered already.");
    }

    public async Task<PartnerRow?> GetAsync(string id, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<PartnerRow>(new CommandDefinition(
            $"select {PartnerColumns} from partners where id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<PartnerRow>> ListAsync(string? kind, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<PartnerRow>(new CommandDefinition(
            $"select {PartnerColumns} from partners where @kind::text is null or kind = @kind order by id", new { kind }, cancellationToken: ct))).ToList();
    }

    public async Task<PartnerRow> UpdateAsync(PartnerRow partner, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<PartnerRow>(new CommandDefinition(
            $"""
            update partners set name = @Name, kind = @Kind, contacts = @Contacts::jsonb, webhook_url = @WebhookUrl, updated_at = now()
            where id = @Id returning {PartnerColumns}
            """, partner, cancellationToken: ct)) ?? throw new NotFoundException("partner", partner.Id);
    }

    /// <summary>Sets or clears the partner's webhook endpoint only.</summary>
    public async Task<PartnerRow> SetWebhookAsync(string id, string? url, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<PartnerRow>(new CommandDefinition(
            $"update partners set webhook_url = @url, updated_at = now() where id = @id returning {PartnerColumns}", new { id, url }, cancellationToken: ct))
            ?? throw new NotFoundException("partner", id);
    }

    /// <summary>Suspends the partner and its active agreements: nothing more is copied for it or reported to it.</summary>
    public static async Task<PartnerRow> SuspendAsync(WriteScope write, string id, CancellationToken ct)
    {
        var partner = await write.Connection.QuerySingleOrDefaultAsync<PartnerRow>(new CommandDefinition(
            $"update partners set status = 'suspended', updated_at = now() where id = @id returning {PartnerColumns}", new { id }, write.Transaction, cancellationToken: ct))
            ?? throw new NotFoundException("partner", id);
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "update agreements set state = 'suspended' where partner_id = @id and state = 'active'", new { id }, write.Transaction, cancellationToken: ct));
        return partner;
    }

    /// <summary>The partner's status, locked for the write; null when there is no such partner.</summary>
    public static Task<string?> LockStatusAsync(WriteScope write, string id, CancellationToken ct) =>
        write.Connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select status from partners where id = @id for update", new { id }, write.Transaction, cancellationToken: ct));

    public static Task<PartnerRow> ActivateAsync(WriteScope write, string id, CancellationToken ct) =>
        write.Connection.QuerySingleAsync<PartnerRow>(new CommandDefinition(
            $"update partners set status = 'active', updated_at = now() where id = @id returning {PartnerColumns}", new { id }, write.Transaction, cancellationToken: ct));

    public static Task<bool> ExistsAsync(WriteScope write, string id, CancellationToken ct) =>
        write.Connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from partners where id = @id)", new { id }, write.Transaction, cancellationToken: ct));

    /// <summary>Adds a mapping; false when it was there already.</summary>
    public static async Task<bool> AddMappingAsync(WriteScope write, MappingRow mapping, CancellationToken ct) =>
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "insert into mappings (partner_id, kind, value) values (@PartnerId, @Kind, @Value) on conflict do nothing", mapping, write.Transaction, cancellationToken: ct)) > 0;

    /// <summary>Removes a mapping; false when there was none.</summary>
    public static async Task<bool> RemoveMappingAsync(WriteScope write, MappingRow mapping, CancellationToken ct) =>
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "delete from mappings where partner_id = @PartnerId and kind = @Kind and value = @Value", mapping, write.Transaction, cancellationToken: ct)) > 0;

    public async Task<IReadOnlyList<MappingRow>> MappingsAsync(string partnerId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<MappingRow>(new CommandDefinition(
            "select partner_id as partnerid, kind, value from mappings where partner_id = @partnerId order by kind, value", new { partnerId }, cancellationToken: ct))).ToList();
    }

    /// <summary>A new agreement (version 1) or the next version of an existing one, as a draft.</summary>
    public async Task<AgreementRow> ProposeAsync(AgreementRow agreement, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        if (!await write.Connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from partners where id = @PartnerId)", agreement, write.Transaction, cancellationToken: ct)))
        {
            throw new NotFoundException("partner", agreement.PartnerId);
        }
        await write.Connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtextextended(@id, 0))",
            new { id = agreement.AgreementId.ToString() }, write.Transaction, cancellationToken: ct));
        var latest = await write.Connection.QuerySingleOrDefaultAsync<(int Version, string PartnerId)?>(new CommandDefinition(
            "select version, partner_id from agreements where agreement_id = @AgreementId order by version desc limit 1", agreement, write.Transaction, cancellationToken: ct));
        if (latest is { } l && l.PartnerId != agreement.PartnerId) throw new NotFoundException("agreement", agreement.AgreementId.ToString());
        agreement.Version = (latest?.Version ?? 0) + 1;
        var created = await write.Connection.QuerySingleAsync<AgreementRow>(new CommandDefinition(
            $"""
            insert into agreements (agreement_id, version, partner_id, scope, fields, min_group_size, cadence, retention_days, state, expires_on)
            values (@AgreementId, @Version, @PartnerId, @Scope::jsonb, @Fields, @MinGroupSize, @Cadence, @RetentionDays, 'draft', @ExpiresOn)
            returning {AgreementColumns}
            """, agreement, write.Transaction, cancellationToken: ct));
        await write.CommitAsync(ct);
        return created;
    }

    public async Task<AgreementRow?> AgreementAsync(Guid agreementId, int version, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<AgreementRow>(new CommandDefinition(
            $"select {AgreementColumns} from agreements where agreement_id = @agreementId and (@version = 0 or version = @version) order by version desc limit 1",
            new { agreementId, version }, cancellationToken: ct));
    }

    /// <summary>The partner's active agreement version, if any.</summary>
    public async Task<AgreementRow?> ActiveAsync(string partnerId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<AgreementRow>(new CommandDefinition(
            $"select {AgreementColumns} from agreements where partner_id = @partnerId and state = 'active' order by created_at desc limit 1",
            new { partnerId }, cancellationToken: ct));
    }

    /// <summary>Active versions past their last day become expired; returns how many.</summary>
    public async Task<int> ExpireAsync(DateOnly today, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "update agreements set state = 'expired' where state = 'active' and expires_on < @today", new { today }, cancellationToken: ct));
    }

    /// <summary>
    /// Active agreements of active partners, each with the occurrence of its last scheduled report (since its approval)
    /// and the last day any report of the partner covers.
    /// </summary>
    public async Task<IReadOnlyList<(AgreementRow Agreement, DateTime? LastScheduled, DateOnly? ReportedUntil)>> ScheduledAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var agreements = (await connection.QueryAsync<AgreementRow>(new CommandDefinition(
            $"select {AgreementColumns} from agreements a where state = 'active' and exists (select 1 from partners p where p.id = a.partner_id and p.status = 'active')",
            cancellationToken: ct))).ToList();
        var last = (await connection.QueryAsync<(string PartnerId, DateTime? Last, DateOnly Until)>(new CommandDefinition(
            "select partner_id, max(scheduled_for), max(end_date) from reports group by partner_id", cancellationToken: ct)))
            .ToDictionary(r => r.PartnerId);
        return agreements.Select(a =>
        {
            var found = last.TryGetValue(a.PartnerId, out var l);
            return (a, found && l.Last >= (a.DecidedAt ?? a.CreatedAt) ? l.Last : null, found ? l.Until : (DateOnly?)null);
        }).ToList();
    }

    /// <summary>Moves a draft version to pending approval; null when it is not a draft (or does not exist).</summary>
    public static Task<AgreementRow?> MarkPendingAsync(WriteScope write, Guid agreementId, int version, CancellationToken ct) =>
        write.Connection.QuerySingleOrDefaultAsync<AgreementRow?>(new CommandDefinition(
            $"update agreements set state = 'pending_approval' where agreement_id = @agreementId and version = @version and state = 'draft' returning {AgreementColumns}",
            new { agreementId, version }, write.Transaction, cancellationToken: ct));

    public static async Task<string> NameAsync(WriteScope write, string id, CancellationToken ct) =>
        await write.Connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "select name from partners where id = @id", new { id }, write.Transaction, cancellationToken: ct)) ?? "";

    /// <summary>
    /// Applies governance's decision to a pending version, in the handler's transaction: approved makes it active and
    /// supersedes the partner's previously active version; rejected closes it. A decision about another state is ignored.
    /// </summary>
    public static async Task<bool> ApplyDecisionAsync(WriteScope write, Guid agreementId, int version, bool approved,
        string decidedBy, string reason, DateTime decidedAt, CancellationToken ct)
    {
        var partnerId = await write.Connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            """
            update agreements set state = @state, decided_at = @decidedAt, decided_by = @decidedBy, decision_reason = @reason
            where agreement_id = @agreementId and version = @version and state = 'pending_approval'
            returning partner_id
            """,
            new { agreementId, version, state = approved ? "active" : "rejected", decidedAt, decidedBy, reason }, write.Transaction, cancellationToken: ct));
        if (partnerId is null) return false;
        if (approved)
        {
            await write.Connection.ExecuteAsync(new CommandDefinition(
                "update agreements set state = 'superseded' where partner_id = @partnerId and state = 'active' and not (agreement_id = @agreementId and version = @version)",
                new { partnerId, agreementId, version }, write.Transaction, cancellationToken: ct));
        }
        return true;
    }
}
