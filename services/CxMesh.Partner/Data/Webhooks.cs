using System.Security.Cryptography;
using System.Text;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using CxMesh.Platform.Security;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CxMesh.Partner.Data;

public sealed class DeliveryRow
{
    public Guid DeliveryId { get; set; }
    public string PartnerId { get; set; } = "";
    public Guid? ReportId { get; set; }
    public string? Type { get; set; }
    public string Url { get; set; } = "";
    public string Payload { get; set; } = "";
    public string State { get; set; } = "";
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? DeliveredAt { get; set; }
    public DateTime NextAttemptAt { get; set; }
}

/// <summary>Webhook secrets and deliveries.</summary>
public sealed class WebhookStore(
    [FromKeyedServices(PartnerModule.Name)] ServiceDatabase database, TimeProvider clock, IOptions<WebhookOptions> options, IOptions<PartnerOptions> partner)
{
    private readonly KeyRing _keys = new(partner.Value.SecretKeys, partner.Value.ActiveSecretKey, "Partner:SecretKeys", "Partner:ActiveSecretKey");

    /// <summary>A secret is bound to its partner and creation time: a sealed secret moved to another row does not open.</summary>
    private static byte[] Binding(string partnerId, DateTime createdAt) =>
        Encoding.UTF8.GetBytes($"webhook-secret|{partnerId}|{createdAt.Ticks - createdAt.Ticks % 10}");

    private const string Columns =
        "delivery_id as deliveryid, partner_id as partnerid, report_id as reportid, type, url, payload, state, attempts, last_error as lasterror, " +
        "created_at as createdat, delivered_at as deliveredat, next_attempt_at as nextattemptat";

    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Stores a new secret; the previous ones retire after the overlap. Returns the secret and when the previous retires.</summary>
    public async Task<(string Secret, DateTime PreviousRetiresAt)> RotateAsync(string partnerId, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        if (!await write.Connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from partners where id = @partnerId)", new { partnerId }, write.Transaction, cancellationToken: ct)))
        {
            throw new NotFoundException("partner", partnerId);
        }
        var (secret, retires) = await AddSecretAsync(write, partnerId, ct);
        await write.CommitAsync(ct);
        return (secret, retires);
    }

    public async Task<(string Secret, DateTime PreviousRetiresAt)> AddSecretAsync(WriteScope write, string partnerId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var retires = now + options.Value.SecretOverlap;
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "update webhook_secrets set retired_at = @retires where partner_id = @partnerId and (retired_at is null or retired_at > @retires)",
            new { partnerId, retires }, write.Transaction, cancellationToken: ct));
        var secret = NewSecret();
        // Postgres keeps microseconds: bind to the time as it will be read back.
        var created = new DateTime(now.Ticks - now.Ticks % 10, DateTimeKind.Utc);
        var sealedSecret = _keys.Seal(Encoding.UTF8.GetBytes(secret), Binding(partnerId, created));
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into webhook_secrets (partner_id, key_id, nonce, ciphertext, tag, created_at)
            values (@partnerId, @KeyId, @Nonce, @Ciphertext, @Tag, @created)
            """, new { partnerId, sealedSecret.KeyId, sealedSecret.Nonce, sealedSecret.Ciphertext, sealedSecret.Tag, created }, write.Transaction, cancellationToken: ct));
        return (secret, retires);
    }

    /// <summary>Queues a notification (of a report, a response, or a test), in the caller's transaction.</summary>
    public static Task EnqueueAsync(WriteScope write, Guid deliveryId, string partnerId, Guid? reportId, string type, string url, string payload, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            "insert into webhook_deliveries (delivery_id, partner_id, report_id, type, url, payload) values (@deliveryId, @partnerId, @reportId, @type, @url, @payload)",
            new { deliveryId, partnerId, reportId, type, url, payload }, write.Transaction, cancellationToken: ct));

    /// <summary>Queues a signed test notification to the partner's endpoint. Returns the delivery.</summary>
    public async Task<DeliveryRow> EnqueueTestAsync(string partnerId, string url, CancellationToken ct)
    {
        var deliveryId = Guid.CreateVersion7();
        var payload = System.Text.Json.JsonSerializer.Serialize(new
        {
            type = "test",
            delivery_id = deliveryId.ToString(),
            partner_id = partnerId,
            sent_at = clock.GetUtcNow().UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        });
        await using var write = await database.BeginWriteAsync(ct);
        await EnqueueAsync(write, deliveryId, partnerId, null, "test", url, payload, ct);
        var row = await write.Connection.QuerySingleAsync<DeliveryRow>(new CommandDefinition(
            $"select {Columns} from webhook_deliveries where delivery_id = @deliveryId", new { deliveryId }, write.Transaction, cancellationToken: ct));
        await write.CommitAsync(ct);
        return row;
    }

    /// <summary>Newest first; <paramref name="before"/>: the page starts below that delivery (the last of the previous page).</summary>
    public async Task<IReadOnlyList<DeliveryRow>> ListAsync(string partnerId, (DateTime At, Guid Id)? before, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<DeliveryRow>(new CommandDefinition(
            $"""
            select {Columns} from webhook_deliveries
            where partner_id = @partnerId and (not @paged or (created_at, delivery_id) < (@at, @id))
            order by created_at desc, delivery_id desc limit @limit
            """, new { partnerId, limit, paged = before is not null, at = before?.At ?? DateTime.UnixEpoch, id = before?.Id ?? Guid.Empty }, cancellationToken: ct))).ToList();
    }

    public async Task<DeliveryRow> RedeliverAsync(Guid deliveryId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<DeliveryRow>(new CommandDefinition(
            $"""
            update webhook_deliveries set state = 'pending', next_attempt_at = now(), created_at = now(), delivered_at = null
            where delivery_id = @deliveryId returning {Columns}
            """, new { deliveryId }, cancellationToken: ct)) ?? throw new NotFoundException("webhook delivery", deliveryId.ToString());
    }

    private const string SecretColumns = "partner_id as partnerid, secret, key_id as keyid, nonce, ciphertext, tag, created_at as createdat";

    private sealed class SecretRow
    {
        public string PartnerId { get; set; } = "";
        public string? Secret { get; set; }
        public string? KeyId { get; set; }
        public byte[]? Nonce { get; set; }
        public byte[]? Ciphertext { get; set; }
        public byte[]? Tag { get; set; }
        public DateTime CreatedAt { get; set; }
    }

    private string Open(SecretRow row) => row.Secret ?? Encoding.UTF8.GetString(_keys.Open(
        new SealedValue(row.KeyId!, row.Nonce!, row.Ciphertext!, row.Tag!), Binding(row.PartnerId, row.CreatedAt), $"A webhook secret of partner {row.PartnerId}"));

    /// <summary>Seals secrets stored in plaintext before they were sealed at rest (once, at start-up). Returns how many.</summary>
    public async Task<int> SealLegacySecretsAsync(CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var legacy = (await write.Connection.QueryAsync<SecretRow>(new CommandDefinition(
            $"select {SecretColumns} from webhook_secrets where secret is not null for update skip locked", transaction: write.Transaction, cancellationToken: ct))).ToList();
        foreach (var row in legacy)
        {
            var sealedSecret = _keys.Seal(Encoding.UTF8.GetBytes(row.Secret!), Binding(row.PartnerId, row.CreatedAt));
            await write.Connection.ExecuteAsync(new CommandDefinition(
                """
                update webhook_secrets set secret = null, key_id = @KeyId, nonce = @Nonce, ciphertext = @Ciphertext, tag = @Tag
                where partner_id = @partnerId and created_at = @createdAt
                """, new { sealedSecret.KeyId, sealedSecret.Nonce, sealedSecret.Ciphertext, sealedSecret.Tag, partnerId = row.PartnerId, createdAt = row.CreatedAt },
                write.Transaction, cancellationToken: ct));
        }
        await write.CommitAsync(ct);
        return legacy.Count;
    }

    /// <summary>
    /// Claims due deliveries for a lease (safe with several replicas: a claimed row is not due for the others), sends
    /// each outside any transaction, and records the outcome of every attempt.
    /// </summary>
    public async Task<int> SendDueAsync(Func<DeliveryRow, IReadOnlyList<string>, Task<(int? Status, string? Error, TimeSpan Elapsed)>> send, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var lease = now + options.Value.Timeout + TimeSpan.FromSeconds(30);
        var due = (await connection.QueryAsync<DeliveryRow>(new CommandDefinition(
            $"""
            update webhook_deliveries set next_attempt_at = @lease
            where delivery_id in (select delivery_id from webhook_deliveries where state = 'pending' and next_attempt_at <= @now
                                  order by next_attempt_at limit 20 for update skip locked)
            returning {Columns}
            """, new { now, lease }, cancellationToken: ct))).ToList();
        foreach (var delivery in due)
        {
            var secrets = (await connection.QueryAsync<SecretRow>(new CommandDefinition(
                $"select {SecretColumns} from webhook_secrets where partner_id = @PartnerId and (retired_at is null or retired_at > @now) order by created_at desc",
                new { delivery.PartnerId, now }, cancellationToken: ct))).Select(Open).ToList();
            var (status, error, elapsed) = await send(delivery, secrets);
            var attempt = delivery.Attempts + 1;
            var ok = status is >= 200 and < 300;
            var at = clock.GetUtcNow().UtcDateTime;
            var backoff = TimeSpan.FromTicks(Math.Min(options.Value.InitialBackoff.Ticks * (1L << Math.Min(attempt - 1, 20)), options.Value.MaxBackoff.Ticks));
            var giveUp = !ok && at + backoff - delivery.CreatedAt > options.Value.GiveUpAfter;
            await connection.ExecuteAsync(new CommandDefinition(
                """
                insert into webhook_attempts (delivery_id, attempt, status_code, error, elapsed_ms) values (@id, @attempt, @status, @error, @elapsed);
                update webhook_deliveries set attempts = @attempt, last_error = @error, state = @state,
                    delivered_at = case when @ok then now() end, next_attempt_at = @next
                where delivery_id = @id
                """,
                new
                {
                    id = delivery.DeliveryId,
                    attempt,
                    status,
                    error = ok ? null : error ?? $"HTTP {status}",
                    elapsed = (int)elapsed.TotalMilliseconds,
                    state = ok ? "delivered" : giveUp ? "failed" : "pending",
                    ok,
                    next = at + backoff,
                }, cancellationToken: ct));
            PartnerMetrics.WebhookAttempts.Add(1, new KeyValuePair<string, object?>("outcome", ok ? "delivered" : giveUp ? "gave_up" : "failed"));
        }
        return due.Count;
    }
}

