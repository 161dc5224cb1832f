using System.Diagnostics;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CxMesh.Platform.Messaging;

/// <summary>Configuration section <c>Messaging</c>.</summary>
public sealed class RelayOptions : System.ComponentModel.DataAnnotations.IValidatableObject
{
    public const string Section = "Messaging";

    /// <summary>Off only in tests that simulate a crash between acknowledging and publishing.</summary>
    public bool RelayEnabled { get; set; } = true;
    /// <summary>The backstop poll when no NOTIFY arrives.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
    public int BatchSize { get; set; } = 500;
    /// <summary>After this many failed attempts a row is parked: kept, counted, replayable, no longer retried.</summary>
    public int MaxAttempts { get; set; } = 10;
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>Sent rows are deleted after this long.</summary>
    public TimeSpan SentRetention { get; set; } = TimeSpan.FromDays(1);

    public IEnumerable<System.ComponentModel.DataAnnotations.ValidationResult> Validate(System.ComponentModel.DataAnnotations.ValidationContext validationContext)
    {
        if (PollInterval <= TimeSpan.Zero) yield return new("Messaging:PollInterval must be positive.");
        if (BatchSize is < 1 or > 10_000) yield return new("Messaging:BatchSize must be 1 to 10000.");
        if (MaxAttempts < 1) yield return new("Messaging:MaxAttempts must be at least 1.");
        if (InitialBackoff <= TimeSpan.Zero) yield return new("Messaging:InitialBackoff must be positive.");
        if (MaxBackoff < InitialBackoff) yield return new("Messaging:MaxBackoff must not be below Messaging:InitialBackoff.");
        if (SentRetention < TimeSpan.Zero) yield return new("Messaging:SentRetention must not be negative.");
    }
}

/// <summary>
/// Publishes a service's outbox. Woken by <c>LISTEN cxmesh_outbox</c> and by a slow poll; claims rows
/// with <c>FOR UPDATE SKIP LOCKED</c> so replicas share the work; retries failures with exponential
/// backoff and parks a row after <see cref="RelayOptions.MaxAttempts"/>.
/// </summary>
public sealed class OutboxRelay(ServiceDatabase database, IEventTransport transport, IOptions<RelayOptions> options, ILogger<OutboxRelay> logger)
    : BackgroundService
{
    private readonly NotificationSignal _notified = new(database, "cxmesh_outbox", logger);
    private readonly RelayOptions _options = options.Value;
    private DateTime _lastCleanup = DateTime.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.RelayEnabled)
        {
            logger.LogWarning("Outbox relay of {Service} is disabled (Messaging:RelayEnabled=false)", database.Service);
            return;
        }
        _notified.Start(stoppingToken);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await RelayBatchAsync(stoppingToken) > 0)
                {
                }
                await CleanupAsync(stoppingToken);
                failures = 0;
                await _notified.WaitAsync(await NextDueInAsync(stoppingToken), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                failures++;
                var delay = Backoff(failures);
                logger.LogWarning(ex, "Outbox relay of {Service} failed; retrying in {Delay}", database.Service, delay);
                await _notified.WaitAsync(delay, stoppingToken);
            }
        }
    }

    /// <summary>Claims and publishes one batch. Returns the number of rows claimed.</summary>
    public async Task<int> RelayBatchAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var rows = (await connection.QueryAsync<OutboxRow>(new CommandDefinition(
            """
            select id, event_id as EventId, topic, event_type as EventType, payload, traceparent, attempts
            from outbox
            where sent_at is null and parked_at is null and next_attempt_at <= now()
            order by id
            limit @batch
            for update skip locked
            """, new { batch = _options.BatchSize }, tx, cancellationToken: ct))).ToList();
        if (rows.Count == 0)
        {
            await tx.CommitAsync(ct);
            return 0;
        }

        var sent = new List<long>(rows.Count);
        // Runs of the same topic go to the transport together (the in-process one applies them in one transaction).
        for (var start = 0; start < rows.Count;)
        {
            var end = start;
            while (end < rows.Count && rows[end].Topic == rows[start].Topic) end++;
            var run = rows.GetRange(start, end - start);
            var startedAt = DateTimeOffset.UtcNow;
            var (delivered, failure) = await transport.PublishManyAsync(
                run.Select(r => new OutgoingEvent(r.EventId, r.Topic, r.EventType, r.Payload, r.TraceParent, $"cxmesh/{database.Service}")).ToList(), ct);
            // One publish span per event, in the trace of the call that caused it, covering the run's publishing.
            for (var i = 0; i < run.Count && i <= delivered; i++)
            {
                using var activity = MessagingTelemetry.Source.StartActivity($"{run[i].Topic} publish", ActivityKind.Producer,
                    MessagingTelemetry.ParentFrom(run[i].TraceParent), startTime: startedAt);
                activity?.SetTag("messaging.destination.name", run[i].Topic);
                activity?.SetTag("messaging.message.id", run[i].EventId);
                activity?.SetTag("messaging.batch.message_count", run.Count);
                if (i == delivered && failure is not null)
                {
                    activity?.AddException(failure);
                    activity?.SetStatus(ActivityStatusCode.Error);
                }
            }
            sent.AddRange(run.Take(delivered).Select(r => r.Id));
            MessagingTelemetry.Published.Add(delivered, new KeyValuePair<string, object?>("topic", run[0].Topic));
            start += delivered;
            if (failure is null) continue;
            await RecordFailureAsync(connection, tx, rows[start], failure, ct);
            start++;
            // The consumer's database may be down: stop this batch rather than fail every row.
            if (TransientFailures.IsTransient(failure) || ct.IsCancellationRequested) break;
        }
        if (sent.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "update outbox set sent_at = now(), last_error = null where id = any(@ids)", new { ids = sent.ToArray() }, tx, cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition(
                "delete from outbox where id = any(@ids) and topic = any(@forget)", new { ids = sent.ToArray(), forget = ForgetWhenSent }, tx, cancellationToken: ct));
        }
        await tx.CommitAsync(ct);
        return sent.Count;
    }

    private async Task RecordFailureAsync(NpgsqlConnection connection, NpgsqlTransaction tx, OutboxRow row, Exception ex, CancellationToken ct)
    {
        var attempts = row.Attempts + 1;
        var park = attempts >= _options.MaxAttempts;
        // The whole chain: transports wrap the cause (DaprException around an RpcException).
        var error = string.Join(" <- ", Chain(ex).Select(e => $"{e.GetType().Name}: {e.Message}"));
        if (error.Length > 2000) error = error[..2000];
        await connection.ExecuteAsync(new CommandDefinition(
            """
            update outbox set attempts = @attempts, last_error = @error,
                next_attempt_at = now() + make_interval(secs => @delay),
                parked_at = case when @park then now() end
            where id = @id
            """, new { attempts, error, delay = Backoff(attempts).TotalSeconds, park, id = row.Id }, tx, cancellationToken: ct));
        MessagingTelemetry.PublishFailures.Add(1, new KeyValuePair<string, object?>("topic", row.Topic));
        if (park)
        {
            MessagingTelemetry.Parked.Add(1, new KeyValuePair<string, object?>("topic", row.Topic));
            logger.LogError(ex, "Parked outbox event {EventId} ({Topic}) of {Service} after {Attempts} attempts", row.EventId, row.Topic, database.Service, attempts);
        }
        else
        {
            logger.LogWarning(ex, "Publishing event {EventId} ({Topic}) of {Service} failed (attempt {Attempts})", row.EventId, row.Topic, database.Service, attempts);
        }
    }

    private static IEnumerable<Exception> Chain(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException) yield return e;
    }

    private TimeSpan Backoff(int attempts)
    {
        var seconds = _options.InitialBackoff.TotalSeconds * Math.Pow(2, Math.Min(attempts - 1, 20));
        return TimeSpan.FromSeconds(Math.Min(seconds, _options.MaxBackoff.TotalSeconds));
    }

    // Called when no row was due: what is left pending is waiting out a backoff (new rows arrive with a NOTIFY).
    /// <summary>
    /// How long to sleep when nothing is waiting: until the next retry is due, at most the poll interval. (SQL's
    /// greatest() ignores NULL, so the clamp happens here: with nothing to retry the answer is the poll interval,
    /// not zero, which would spin.)
    /// </summary>
    public async Task<TimeSpan> NextDueInAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var seconds = await connection.ExecuteScalarAsync<double?>(new CommandDefinition(
            """
            select extract(epoch from min(next_attempt_at) - now())::float8
            from outbox where sent_at is null and parked_at is null and attempts > 0
            """, cancellationToken: ct));
        if (seconds is null) return _options.PollInterval;
        var due = TimeSpan.FromSeconds(Math.Max(seconds.Value, 0));
        return due < _options.PollInterval ? due : _options.PollInterval;
    }

    private async Task CleanupAsync(CancellationToken ct)
    {
        if (DateTime.UtcNow - _lastCleanup < TimeSpan.FromMinutes(10)) return;
        _lastCleanup = DateTime.UtcNow;
        await using var connection = await database.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from outbox where sent_at < now() - make_interval(secs => @secs)",
            new { secs = _options.SentRetention.TotalSeconds }, cancellationToken: ct));
    }

    private static readonly string[] ForgetWhenSent = Topics.All.Where(t => t.ForgetWhenSent).Select(t => t.Name).ToArray();

    private sealed record OutboxRow(long Id, string EventId, string Topic, string EventType, string Payload, string? TraceParent, int Attempts);
}
