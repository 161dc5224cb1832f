using Microsoft.Extensions.Logging;
using Npgsql;

namespace CxMesh.Platform.Postgres;

/// <summary>
/// Wakes a background worker when Postgres sends a NOTIFY on <paramref name="channel"/>; the worker's own
/// poll covers the time the LISTEN connection is down. Used by the outbox relay and the journey projector.
/// </summary>
public sealed class NotificationSignal(ServiceDatabase database, string channel, ILogger logger)
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Start(CancellationToken ct) => _ = Task.Run(() => ListenAsync(ct), ct);

    /// <summary>Returns when notified or after <paramref name="timeout"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            await _signal.WaitAsync(timeout, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    public void Wake()
    {
        try
        {
            if (_signal.CurrentCount == 0) _signal.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.OpenConnectionAsync(ct);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"listen {channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }
                failures = 0;
                Wake(); // work may have arrived while nobody listened
                while (!ct.IsCancellationRequested) await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                logger.LogDebug(ex, "LISTEN {Channel} of {Service} lost; the poll covers until it is back", channel, database.Service);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(failures, 5)))), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
