using System.Text.Json;
using CxMesh.Governance.Domain;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CxMesh.Governance.Data;

/// <summary>
/// The append-only, hash-chained audit log. Entries are appended inside the transaction of the change they record,
/// so a change and its entry commit together or not at all; appends take a transaction-scoped advisory lock, so the
/// chain stays one line however many replicas write. A trigger refuses UPDATE, DELETE and TRUNCATE.
/// </summary>
public sealed class AuditLog([FromKeyedServices(GovernanceModule.Name)] ServiceDatabase database)
{
    public const string SharingDecided = "sharing.decided";
    public const string ReportDisclosed = "report.disclosed";
    public const string CustomerErased = "customer.erased";
    public const string CxCodeChanged = "cx-code.changed";
    public const string OwnershipChanged = "ownership.changed";
    public const string PartnerContactChanged = "partner-contact.changed";
    public const string VisionPublished = "vision.published";
    public const string PartnerStatusChanged = "partner.status.changed";
    public const string PartnerAcknowledged = "partner.acknowledged";

    // Any fixed number: the key of the advisory lock that orders appends.
    private const long ChainLock = 0x6175646974_6c6f67;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<AuditChain.Entry> AppendAsync(WriteScope write, string kind, string subject, string actor,
        object details, DateTime now, CancellationToken ct)
    {
        await write.Connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(@ChainLock)", new { ChainLock }, write.Transaction, cancellationToken: ct));
        var last = await write.Connection.QuerySingleOrDefaultAsync<(long Sequence, string? Hash)>(new CommandDefinition(
            "select sequence, hash from audit_log order by sequence desc limit 1", transaction: write.Transaction, cancellationToken: ct));
        var sequence = last.Sequence + 1;
        var previous = last.Hash ?? AuditChain.Genesis;
        var at = AuditChain.ToStoredPrecision(now);
        var text = JsonSerializer.Serialize(details, Json);
        var entry = new AuditChain.Entry(sequence, at, kind, subject, actor, text, previous,
            AuditChain.Hash(sequence, at, kind, subject, actor, text, previous));
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into audit_log (sequence, occurred_at, kind, subject, actor, details, previous_hash, hash)
            values (@Sequence, @OccurredAt, @Kind, @Subject, @Actor, @Details, @PreviousHash, @Hash)
            """, entry, write.Transaction, cancellationToken: ct));
        return entry;
    }

    public async Task<IReadOnlyList<AuditChain.Entry>> ListAsync(string? kind, long afterSequence, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<AuditChain.Entry>(new CommandDefinition(
            """
            select sequence, occurred_at as occurredat, kind, subject, actor, details, previous_hash as previoushash, hash from audit_log
            where sequence > @afterSequence and (@kind::text is null or kind = @kind)
            order by sequence limit @limit
            """, new { kind, afterSequence, limit }, cancellationToken: ct))).ToList();
    }

    /// <summary>Streams the whole log in order through the verifier: memory stays flat however long the log is.</summary>
    public async Task<AuditChain.Verdict> VerifyAsync(CancellationToken ct)
    {
        await using var snapshot = await database.BeginSnapshotAsync(ct);
        var verifier = new AuditChain.Verifier();
        await using var command = new NpgsqlCommand(
            "select sequence, occurred_at, kind, subject, actor, details, previous_hash, hash from audit_log order by sequence", snapshot.Connection, snapshot.Transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var entry = new AuditChain.Entry(reader.GetInt64(0), reader.GetDateTime(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetString(7));
            if (!verifier.Check(entry)) break;
        }
        return verifier.Result();
    }
}
