using System.Text.Json;
using CxMesh.Events.V1;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Dapper;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

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
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var partner = await connection.QuerySingleOrDefaultAsync<PartnerRow>(new CommandDefinition(
            $"update partners set status = 'suspended', updated_at = now() where id = @id returning {PartnerColumns}", new { id }, tx, cancellationToken: ct))
            ?? throw new NotFoundException("partner", id);
        await connection.ExecuteAsync(new CommandDefinition(
            "update agreements set state = 'suspended' where partner_id = @id and state = 'active'", new { id }, tx, cancellationToken: ct));
        await StatusChangedAsync(connection, tx, id, "suspended", actor, "", ct);
        await tx.CommitAsync(ct);
        return partner;
    }

    /// <summary>
    /// Makes a suspended partner active again. Its suspended agreements stay suspended: sharing resumes only with a new
    /// version approved again. FAILED_PRECONDITION when the partner is not suspended.
    /// </summary>
    public async Task<PartnerRow> ReactivateAsync(string id, string actor, string reason, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var status = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select status from partners where id = @id for update", new { id }, tx, cancellationToken: ct)) ?? throw new NotFoundException("partner", id);
        if (status != "suspended")
        {
            throw new PreconditionFailedException("PARTNER_NOT_SUSPENDED", $"partner {id} is {status}, not suspended.", "id");
        }
        var partner = await connection.QuerySingleAsync<PartnerRow>(new CommandDefinition(
            $"update partners set status = 'active', updated_at = now() where id = @id returning {PartnerColumns}", new { id }, tx, cancellationToken: ct));
        await StatusChangedAsync(connection, tx, id, "active", actor, reason, ct);
        await tx.CommitAsync(ct);
        return partner;
    }

    private static Task StatusChangedAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string partnerId, string status, string actor, string reason, CancellationToken ct)
    {
        var evt = new PartnerStatusChanged
        {
            EventId = $"partner.status.changed/{Guid.CreateVersion7()}",
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
            PartnerId = partnerId,
            Status = status,
            ChangedBy = actor,
            Reason = reason,
        };
        return Outbox.EnqueueAsync(connection, tx, Topics.PartnerStatusChanged, evt.EventId, evt, ct);
    }

    public async Task AddMappingAsync(MappingRow mapping, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from partners where id = @PartnerId)", mapping, cancellationToken: ct)))
        {
            throw new NotFoundException("partner", mapping.PartnerId);
        }
        await ChangeMappingAsync(connection, mapping, mapped: true,
            "insert into mappings (partner_id, kind, value) values (@PartnerId, @Kind, @Value) on conflict do nothing", ct);
    }

    public async Task RemoveMappingAsync(MappingRow mapping, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        if (!await ChangeMappingAsync(connection, mapping, mapped: false,
            "delete from mappings where partner_id = @PartnerId and kind = @Kind and value = @Value", ct))
        {
            throw new NotFoundException("mapping", $"{mapping.PartnerId} {mapping.Kind} {mapping.Value}");
        }
    }

    /// <summary>Applies a mapping change and tells scoring (partner.mapping.changed) in one transaction; false when nothing changed.</summary>
    private static async Task<bool> ChangeMappingAsync(NpgsqlConnection connection, MappingRow mapping, bool mapped, string sql, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (await connection.ExecuteAsync(new CommandDefinition(sql, mapping, tx, cancellationToken: ct)) == 0) return false;
        var evt = new CxMesh.Events.V1.PartnerMappingChanged
        {
            EventId = $"partner.mapping.changed/{Guid.CreateVersion7()}",
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow),
            PartnerId = mapping.PartnerId,
            Kind = mapping.Kind,
            Value = mapping.Value,
            Mapped = mapped,
        };
        await Outbox.EnqueueAsync(connection, tx, Topics.PartnerMappingChanged, evt.EventId, evt, ct);
        await tx.CommitAsync(ct);
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
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from partners where id = @PartnerId)", agreement, tx, cancellationToken: ct)))
        {
            throw new NotFoundException("partner", agreement.PartnerId);
        }
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtextextended(@id, 0))",
            new { id = agreement.AgreementId.ToString() }, tx, cancellationToken: ct));
        var latest = await connection.QuerySingleOrDefaultAsync<(int Version, string PartnerId)?>(new CommandDefinition(
            "select version, partner_id from agreements where agreement_id = @AgreementId order by version desc limit 1", agreement, tx, cancellationToken: ct));
        if (latest is { } l && l.PartnerId != agreement.PartnerId) throw new NotFoundException("agreement", agreement.AgreementId.ToString());
        agreement.Version = (latest?.Version ?? 0) + 1;
        var created = await connection.QuerySingleAsync<AgreementRow>(new CommandDefinition(
            $"""
            insert into agreements (agreement_id, version, partner_id, scope, fields, min_group_size, cadence, retention_days, state, expires_on)
            values (@AgreementId, @Version, @PartnerId, @Scope::jsonb, @Fields, @MinGroupSize, @Cadence, @RetentionDays, 'draft', @ExpiresOn)
            returning {AgreementColumns}
            """, agreement, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
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
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var moved = await connection.QuerySingleOrDefaultAsync<AgreementRow>(new CommandDefinition(
            $"update agreements set state = 'pending_approval' where agreement_id = @agreementId and version = @version and state = 'draft' returning {AgreementColumns}",
            new { agreementId, version }, tx, cancellationToken: ct));
        if (moved is null)
        {
            await tx.RollbackAsync(ct);
            var current = await AgreementAsync(agreementId, version, ct);
            if (current is null || current.Version != version) throw new NotFoundException("agreement", $"{agreementId} version {version}");
            throw new PreconditionFailedException("AGREEMENT_STATE", $"agreement version {version} is {current.State}, not draft.", "agreement_id", new Dictionary<string, string> { ["state"] = current.State });
        }
        var partnerName = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "select name from partners where id = @PartnerId", moved, tx, cancellationToken: ct)) ?? "";
        var evt = new CxMesh.Events.V1.PartnerAgreementSubmitted
        {
            EventId = $"partner.agreement.submitted/{agreementId}/{version}",
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow),
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
        await Outbox.EnqueueAsync(connection, tx, Topics.PartnerAgreementSubmitted, evt.EventId, evt, ct);
        await tx.CommitAsync(ct);
        return moved;
    }

    /// <summary>
    /// Applies governance's decision to a pending version, in the handler's transaction: approved makes it active and
    /// supersedes the partner's previously active version; rejected closes it. A decision about another state is ignored.
    /// </summary>
    public static async Task<bool> ApplyDecisionAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid agreementId, int version, bool approved,
        string decidedBy, string reason, DateTime decidedAt, CancellationToken ct)
    {
        var partnerId = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            """
            update agreements set state = @state, decided_at = @decidedAt, decided_by = @decidedBy, decision_reason = @reason
            where agreement_id = @agreementId and version = @version and state = 'pending_approval'
            returning partner_id
            """,
            new { agreementId, version, state = approved ? "active" : "rejected", decidedAt, decidedBy, reason }, tx, cancellationToken: ct));
        if (partnerId is null) return false;
        if (approved)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "update agreements set state = 'superseded' where partner_id = @partnerId and state = 'active' and not (agreement_id = @agreementId and version = @version)",
                new { partnerId, agreementId, version }, tx, cancellationToken: ct));
        }
        return true;
    }
}
