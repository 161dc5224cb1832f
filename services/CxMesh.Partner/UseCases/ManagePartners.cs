using CxMesh.Events.V1;
using CxMesh.Partner.Data;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Partner.UseCases;

/// <summary>
/// A partner's status and mappings change, and an agreement version goes to governance for approval; each change and
/// the event that tells the other services (governance's audit, scoring's partner scopes) commit in one write.
/// </summary>
public sealed class ManagePartners([FromKeyedServices(PartnerModule.Name)] ServiceDatabase database, PartnerStore partners)
{
    /// <summary>Suspends a partner and its active agreements; governance hears of it (partner.status.changed) for its audit log.</summary>
    public async Task<PartnerRow> SuspendAsync(string id, string actor, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var partner = await PartnerStore.SuspendAsync(write, id, ct);
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
        var status = await PartnerStore.LockStatusAsync(write, id, ct) ?? throw new NotFoundException("partner", id);
        if (status != "suspended") throw new PreconditionFailedException("PARTNER_NOT_SUSPENDED", $"partner {id} is {status}, not suspended.", "id");
        var partner = await PartnerStore.ActivateAsync(write, id, ct);
        await StatusChangedAsync(write, id, "active", actor, reason, ct);
        await write.CommitAsync(ct);
        return partner;
    }

    private static Task StatusChangedAsync(WriteScope write, string partnerId, string status, string actor, string reason, CancellationToken ct) =>
        write.PublishAsync(Topics.PartnerStatusChanged, new PartnerStatusChanged
        {
            OccurredAt = Timestamp.FromDateTimeOffset(write.Now),
            PartnerId = partnerId,
            Status = status,
            ChangedBy = actor,
            Reason = reason,
        }, ct);

    public async Task AddMappingAsync(MappingRow mapping, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        if (!await PartnerStore.ExistsAsync(write, mapping.PartnerId, ct)) throw new NotFoundException("partner", mapping.PartnerId);
        if (!await PartnerStore.AddMappingAsync(write, mapping, ct)) return;
        await MappingChangedAsync(write, mapping, mapped: true, ct);
        await write.CommitAsync(ct);
    }

    public async Task RemoveMappingAsync(MappingRow mapping, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        if (!await PartnerStore.RemoveMappingAsync(write, mapping, ct)) throw new NotFoundException("mapping", $"{mapping.PartnerId} {mapping.Kind} {mapping.Value}");
        await MappingChangedAsync(write, mapping, mapped: false, ct);
        await write.CommitAsync(ct);
    }

    /// <summary>Scoring keeps partner scopes from the mappings: it hears of each change in the write that made it.</summary>
    private static Task MappingChangedAsync(WriteScope write, MappingRow mapping, bool mapped, CancellationToken ct) =>
        write.PublishAsync(Topics.PartnerMappingChanged, new PartnerMappingChanged
        {
            OccurredAt = Timestamp.FromDateTimeOffset(write.Now),
            PartnerId = mapping.PartnerId,
            Kind = mapping.Kind,
            Value = mapping.Value,
            Mapped = mapped,
        }, ct);

    /// <summary>
    /// Draft → pending approval, and partner.agreement.submitted for governance in the same write: a version is never
    /// pending without governance having been asked.
    /// </summary>
    public async Task<AgreementRow> SubmitForApprovalAsync(Guid agreementId, int version, string submittedBy, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var moved = await PartnerStore.MarkPendingAsync(write, agreementId, version, ct);
        if (moved is null)
        {
            await write.RollbackAsync(ct);
            var current = await partners.AgreementAsync(agreementId, version, ct);
            if (current is null || current.Version != version) throw new NotFoundException("agreement", $"{agreementId} version {version}");
            throw new PreconditionFailedException("AGREEMENT_STATE", $"agreement version {version} is {current.State}, not draft.", "agreement_id",
                new Dictionary<string, string> { ["state"] = current.State });
        }
        await write.PublishAsync(Topics.PartnerAgreementSubmitted, new PartnerAgreementSubmitted
        {
            OccurredAt = Timestamp.FromDateTimeOffset(write.Now),
            PartnerId = moved.PartnerId,
            PartnerName = await PartnerStore.NameAsync(write, moved.PartnerId, ct),
            AgreementId = agreementId.ToString(),
            Version = version,
            Fields = { moved.Fields },
            Scope = { moved.ScopeList.Select(s => $"{s.Kind}={s.Value}") },
            MinGroupSize = moved.MinGroupSize,
            Cadence = moved.Cadence,
            RetentionDays = moved.RetentionDays,
            ExpiresOn = moved.ExpiresOn?.ToString("yyyy-MM-dd") ?? "",
            SubmittedBy = submittedBy,
        }, $"{agreementId}/{version}", ct);
        await write.CommitAsync(ct);
        return moved;
    }
}
