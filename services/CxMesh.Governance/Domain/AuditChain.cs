using System.Security.Cryptography;
using System.Text;

namespace CxMesh.Governance.Domain;

/// <summary>
/// The audit log's hash chain: each entry's hash covers its sequence number, time, kind, subject, actor, details and
/// the previous entry's hash, so changing, removing or reordering any entry breaks every hash after it.
/// </summary>
public static class AuditChain
{
    public static readonly string Genesis = new('0', 64);

    public static string Hash(long sequence, DateTime occurredAtUtc, string kind, string subject, string actor, string details, string previousHash)
    {
        // Microseconds since the epoch: what Postgres keeps of a timestamp, so the stored row hashes the same.
        var micros = (occurredAtUtc.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        var content = new StringBuilder()
            .Append(sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n')
            .Append(micros.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n')
            .Append(kind).Append('\n').Append(subject).Append('\n').Append(actor).Append('\n').Append(details).Append('\n')
            .Append(previousHash).ToString();
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));
    }

    /// <summary>Postgres keeps microseconds: an entry is hashed with the time as it will be read back.</summary>
    public static DateTime ToStoredPrecision(DateTime utc) => new(utc.Ticks - utc.Ticks % 10, DateTimeKind.Utc);

    public sealed record Entry(long Sequence, DateTime OccurredAt, string Kind, string Subject, string Actor, string Details, string PreviousHash, string Hash);

    public sealed record Verdict(bool Intact, long Entries, long FirstBrokenSequence, string Problem, string HeadHash);

    /// <summary>Checks entries in sequence order, from the genesis: each must chain onto the one before.</summary>
    public sealed class Verifier
    {
        private string _previousHash = Genesis;
        private long _expected = 1;
        private long _count;

        public Verdict? Broken { get; private set; }

        public bool Check(Entry e)
        {
            if (Broken is not null) return false;
            _count++;
            string? problem = null;
            if (e.Sequence != _expected) problem = $"entry {_expected} is missing (next is {e.Sequence})";
            else if (e.PreviousHash != _previousHash) problem = $"entry {e.Sequence} does not point at the entry before it";
            else if (Hash(e.Sequence, e.OccurredAt, e.Kind, e.Subject, e.Actor, e.Details, e.PreviousHash) != e.Hash)
            {
                problem = $"entry {e.Sequence} was changed after it was written (its content does not match its hash)";
            }
            if (problem is not null)
            {
                Broken = new Verdict(false, _count, Math.Min(e.Sequence, _expected), problem, "");
                return false;
            }
            _previousHash = e.Hash;
            _expected++;
            return true;
        }

        public Verdict Result() => Broken ?? new Verdict(true, _count, 0, "", _count == 0 ? Genesis : _previousHash);
    }
}
