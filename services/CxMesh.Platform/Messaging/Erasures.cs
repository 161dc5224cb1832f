using System.Text.Json;
using CxMesh.Events.V1;
using CxMesh.Platform.Postgres;
using Dapper;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Platform.Messaging;

/// <summary>
/// What every service does with a customer's erasure besides its own tables: forget the sent events and dead letters
/// that name the customer (pending ones are still owed to their consumers), and report what it removed, by the
/// erasure's id, for the receipt feedback keeps.
/// </summary>
public static class Erasures
{
    /// <summary>Deletes sent outbox rows and dead letters whose payload holds the customer id as a JSON string. Returns how many.</summary>
    public static Task<int> ForgetMessagesAsync(WriteScope write, string customerId, CancellationToken ct) =>
        write.Connection.ExecuteScalarAsync<int>(new CommandDefinition(
            """
            with o as (delete from outbox where sent_at is not null and strpos(payload, @quoted) > 0 returning 1),
                 d as (delete from dead_letters where strpos(payload, @quoted) > 0 returning 1)
            select (select count(*) from o) + (select count(*) from d)
            """, new { quoted = JsonSerializer.Serialize(customerId) }, write.Transaction, cancellationToken: ct));

    /// <summary>Publishes customer.erasure.applied for <paramref name="erasure"/> with what <paramref name="service"/> removed.</summary>
    public static Task ReportAsync(EventContext context, FeedbackErased erasure, string service, IReadOnlyDictionary<string, long> removed, DateTimeOffset now, CancellationToken ct)
    {
        var applied = new ErasureApplied
        {
            OccurredAt = Timestamp.FromDateTimeOffset(now),
            ErasureId = erasure.EventId,
            Service = service,
            Removed = { removed.ToDictionary() },
        };
        return context.PublishAsync(Topics.ErasureApplied, applied, $"{erasure.EventId}/{service}", ct);
    }
}
