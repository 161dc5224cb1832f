using CxMesh.Events.V1;
using CxMesh.Governance.Data;
using CxMesh.Governance.Domain;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Governance.UseCases;

/// <summary>
/// An admin other than the one who submitted it approves or rejects a pending sharing-agreement version: the decision,
/// its audit entry and governance.sharing.decided (which partner acts on) commit together.
/// </summary>
public sealed class DecideSharing([FromKeyedServices(GovernanceModule.Name)] ServiceDatabase database)
{
    public async Task<SharingApprovalRow> DecideAsync(Guid agreementId, int version, bool approved, string actor, string reason, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var (state, submittedBy) = await SharingStore.LockAsync(write, agreementId, version, ct)
            ?? throw new NotFoundException("sharing approval", $"{agreementId} version {version}");
        if (SharingRules.FourEyesProblem(submittedBy, actor) is { } problem)
        {
            throw new PreconditionFailedException("FOUR_EYES", problem, "agreement_id", new Dictionary<string, string> { ["submitted_by"] = submittedBy });
        }
        if (state != "pending")
        {
            throw new PreconditionFailedException("SHARING_DECIDED", $"agreement {agreementId} version {version} was {state} already.", "version",
                new Dictionary<string, string> { ["state"] = state });
        }
        var now = write.Now.UtcDateTime;
        var row = await SharingStore.RecordDecisionAsync(write, agreementId, version, approved, actor, reason, now, ct);
        await AuditLog.AppendAsync(write, AuditLog.SharingDecided, $"agreement/{agreementId}/v{version}", actor, new
        {
            partnerId = row.PartnerId,
            submittedBy = row.SubmittedBy,
            decidedBy = actor,
            approved,
            reason,
            fields = row.Fields,
            scope = row.Scope,
            minGroupSize = row.MinGroupSize,
        }, now, ct);
        await write.PublishAsync(Topics.SharingDecided, new SharingDecided
        {
            OccurredAt = Timestamp.FromDateTime(now),
            PartnerId = row.PartnerId,
            AgreementId = agreementId.ToString(),
            Version = version,
            Approved = approved,
            DecidedBy = actor,
            Reason = reason,
        }, $"{agreementId}/{version}", ct);
        await write.CommitAsync(ct);
        return row;
    }
}
