using System.Text.Json;
using CxMesh.Events.V1;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Dapper;
using Google.Protobuf.WellKnownTypes;
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

    /// <summary>Suspends the partner and its active agreements: nothing more is copied for it or reported to it.</summary>
    /// <summary>Suspends a partner and its active agreements; governance hears of it (partner.status.changed) for its audit log.</summary>
    public async Task<PartnerRow> SuspendAsync(string id, string actor, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var partner = await write.Connection.QuerySingleOrDefaultAsync<PartnerRow>(new CommandDefinition(
            $"update partners set status = 'suspended', updated_at = now() where id = @id returning {PartnerColumns}", new { id }, write.Transaction, cancellationToken: ct))
            ?? throw new NotFoundException("partner", id);
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "update agreements set state = 'suspended' where partner_id = @id and state = 'active'", new { id }, write.Transaction, cancellationToken: ct));
        await StatusChangedAsync(write, id, "suspended", actor, "", ct);
        await write.CommitAsync(ct);
        return partner;
    }

    /// <summary>
    /// Makes a suspended partner active again. Its suspended agreements stay suspended: sharing resumes only with a new
    /// version approved again. FAILED_PRECONDITION when the partner is not suspended.
    /// </summary>
    public async Task<PartnerRow> ReactivateAsync(string id, string actor, string reason, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var status = await write.Connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select status from partners where id = @id for update", new { id }, write.Transaction, cancellationToken: ct)) ?? throw new NotFoundException("partner", id);
        if (status != "suspended")
        {
            throw new PreconditionFailedException("PARTNER_NOT_SUSPENDED", $"partner {id} is {status}, not suspended.", "id");
        }
        var partner = await write.Connection.QuerySingleAsync<PartnerRow>(new CommandDefinition(
            $"update partners set status = 'active', updated_at = now() where id = @id returning {PartnerColumns}", new { id }, write.Transaction, cancellationToken: ct));
        await StatusChangedAsync(write, id, "active", actor, reason, ct);
        await write.CommitAsync(ct);
        return partner;
    }

    private static Task StatusChangedAsync(WriteScope write, string partnerId, string status, string actor, string reason, CancellationToken ct)
    {
        var evt = new PartnerStatusChanged
        {
            OccurredAt = Timestamp.FromDateTimeOffset(write.Now),
            PartnerId = partnerId,
            Status = status,
            ChangedBy = actor,
            Reason = reason,
        };
        return write.PublishAsync(Topics.PartnerStatusChanged, evt, ct);
    }

    public async Task AddMappingAsync(MappingRow mapping, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        if (!await write.Connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from partners where id = @PartnerId)", mapping, write.Transaction, cancellationToken: ct)))
        {
            throw new NotFoundException("partner", mapping.PartnerId);
        }
        await ChangeMappingAsync(write, mapping, mapped: true,
            "insert into mappings (partner_id, kind, value) values (@PartnerId, @Kind, @Value) on conflict do nothing", ct);
    }

    public async Task RemoveMappingAsync(MappingRow mapping, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        if (!await ChangeMappingAsync(write, mapping, mapped: false,
            "delete from mappings where partner_id = @PartnerId and kind = @Kind and value = @Value", ct))
        {
            throw new NotFoundException("mapping", $"{mapping.PartnerId} {mapping.Kind} {mapping.Value}");
        }
    }

    /// <summary>Applies a mapping change and tells scoring (partner.mapping.changed) in one transaction; false when nothing changed.</summary>
    private static async Task<bool> ChangeMappingAsync(WriteScope write, MappingRow mapping, bool mapped, string sql, CancellationToken ct)
    {
        if (await write.Connection.ExecuteAsync(new CommandDefinition(sql, mapping, write.Transaction, cancellationToken: ct)) == 0) return false;
        var evt = new CxMesh.Events.V1.PartnerMappingChanged
        {
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(write.Now),
            PartnerId = mapping.PartnerId,
            Kind = mapping.Kind,
            Value = mapping.Value,
            Mapped = mapped,
        };
        await write.PublishAsync(Topics.PartnerMappingChanged, evt, ct);
        await write.CommitAsync(ct);
        return true;
    }

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

    /// <summary>
    /// Draft → pending approval, and partner.agreement.submitted for governance in the same transaction: a version is
    /// never pending without governance having been asked.
    /// </summary>
    public async Task<AgreementRow> SubmitForApprovalAsync(Guid agreementId, int version, string submittedBy, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var moved = await write.Connection.QuerySingleOrDefaultAsync<AgreementRow>(new CommandDefinition(
            $"update agreements set state = 'pending_approval' where agreement_id = @agreementId and version = @version and state = 'draft' returning {AgreementColumns}",
            new { agreementId, version }, write.Transaction, cancellationToken: ct));
        if (moved is null)
        {
            await write.RollbackAsync(ct);
            var current = await AgreementAsync(agreementId, version, ct);
            if (current is null || current.Version != version) throw new NotFoundException("agreement", $"{agreementId} version {version}");
            throw new PreconditionFailedException("AGREEMENT_STATE", $"agreement version {version} is {current.State}, not draft.", "agreement_id", new Dictionary<string, string> { ["state"] = current.State });
        }
        var partnerName = await write.Connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "select name from partners where id = @PartnerId", moved, write.Transaction, cancellationToken: ct)) ?? "";
        var evt = new CxMesh.Events.V1.PartnerAgreementSubmitted
        {
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(write.Now),
            PartnerId = moved.PartnerId,
            PartnerName = partnerName,
            AgreementId = agreementId.ToString(),
            Version = version,
            Fields = { moved.Fields },
            Scope = { moved.ScopeList.Select(s => $"{s.Kind}={s.Value}") },
            MinGroupSize = moved.MinGroupSize,
            Cadence = moved.Cadence,
            RetentionDays = moved.RetentionDays,
            ExpiresOn = moved.ExpiresOn?.ToString("yyyy-MM-dd") ?? "",
            SubmittedBy = submittedBy,
        };
        await write.PublishAsync(Topics.PartnerAgreementSubmitted, evt, $"{agreementId}/{version}", ct);
        await write.CommitAsync(ct);
        return moved;
    }

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
