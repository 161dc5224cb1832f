using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Governance.Data;

public sealed class SharingApprovalRow
{
    public Guid AgreementId { get; init; }
    public int Version { get; init; }
    public string PartnerId { get; init; } = "";
    public string PartnerName { get; init; } = "";
    public string[] Fields { get; init; } = [];
    public string[] Scope { get; init; } = [];
    public int MinGroupSize { get; init; }
    public string Cadence { get; init; } = "";
    public int RetentionDays { get; init; }
    public string ExpiresOn { get; init; } = "";
    public string SubmittedBy { get; init; } = "";
    public DateTime SubmittedAt { get; init; }
    public string State { get; init; } = "pending";
    public string? DecidedBy { get; init; }
    public string? Reason { get; init; }
    public DateTime? DecidedAt { get; init; }
}

/// <summary>Sharing agreement versions awaiting (or given) governance's decision.</summary>
public sealed class SharingStore([FromKeyedServices(GovernanceModule.Name)] ServiceDatabase database)
{
    private const string Columns =
        """
        agreement_id as agreementid, version, partner_id as partnerid, partner_name as partnername, fields, scope, min_group_size as mingroupsize,
        cadence, retention_days as retentiondays, expires_on as expireson, submitted_by as submittedby, submitted_at as submittedat, state,
        decided_by as decidedby, reason, decided_at as decidedat
        """;

    /// <summary>Records a submission; a redelivered event changes nothing.</summary>
    public static Task SubmitAsync(WriteScope write, SharingApprovalRow row, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into sharing_approvals (agreement_id, version, partner_id, partner_name, fields, scope, min_group_size, cadence, retention_days,
                                           expires_on, submitted_by, submitted_at)
            values (@AgreementId, @Version, @PartnerId, @PartnerName, @Fields, @Scope, @MinGroupSize, @Cadence, @RetentionDays,
                    @ExpiresOn, @SubmittedBy, @SubmittedAt)
            on conflict (agreement_id, version) do nothing
            """, row, write.Transaction, cancellationToken: ct));

    public async Task<IReadOnlyList<SharingApprovalRow>> ListAsync(IReadOnlyList<string> states, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<SharingApprovalRow>(new CommandDefinition(
            $"select {Columns} from sharing_approvals where state = any(@states) order by submitted_at, agreement_id, version limit 1000",
            new { states = states.ToArray() }, cancellationToken: ct))).ToList();
    }

    /// <summary>The state of a version and who submitted it, locked for the write's decision; null when there is none.</summary>
    public static Task<(string State, string SubmittedBy)?> LockAsync(WriteScope write, Guid agreementId, int version, CancellationToken ct) =>
        write.Connection.QuerySingleOrDefaultAsync<(string State, string SubmittedBy)?>(new CommandDefinition(
            "select state, submitted_by from sharing_approvals where agreement_id = @agreementId and version = @version for update",
            new { agreementId, version }, write.Transaction, cancellationToken: ct));

    public static Task<SharingApprovalRow> RecordDecisionAsync(WriteScope write, Guid agreementId, int version, bool approved, string actor, string reason,
        DateTime now, CancellationToken ct) =>
        write.Connection.QuerySingleAsync<SharingApprovalRow>(new CommandDefinition(
            $"""
            update sharing_approvals set state = @decided, decided_by = @actor, reason = @reason, decided_at = @now
            where agreement_id = @agreementId and version = @version returning {Columns}
            """, new { agreementId, version, decided = approved ? "approved" : "rejected", actor, reason, now }, write.Transaction, cancellationToken: ct));
}
