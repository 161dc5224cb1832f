using System.Diagnostics;
using CxMesh.Feedback.Data;
using CxMesh.Feedback.UseCases;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CxMesh.Feedback.Workers;

/// <summary>
/// Runs <see cref="RetagHistory"/> batch after batch while a re-tag runs, at most <c>Feedback:Retag:ItemsPerSecond</c>
/// items a second; idle, it looks every <c>Feedback:Retag:PollInterval</c>, or at once when a change commits here.
/// </summary>
public sealed class Retagger(RetagHistory retag, ThemeCatalog themes, IOptions<FeedbackOptions> options, TimeProvider clock, ILogger<Retagger> logger) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        themes.Changed += Wake;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var settings = options.Value.Retag;
                var started = Stopwatch.GetTimestamp();
                RetagHistory.Batch? batch;
                try
                {
                    batch = await retag.RunBatchAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "A re-tag batch failed; retrying from the same item");
                    batch = null;
                }
                if (batch is { Finished: true })
                {
                    logger.LogInformation("Re-tag to taxonomy version {Version} finished", batch.Version);
                    continue;
                }
                try
                {
                    if (batch is not { Scanned: > 0 })
                    {
                        await _wake.WaitAsync(settings.PollInterval, stoppingToken);
                        continue;
                    }
                    // Throttled: a batch of n items takes at least n / ItemsPerSecond.
                    if (settings.ItemsPerSecond > 0)
                    {
                        var rest = TimeSpan.FromSeconds((double)batch.Scanned / settings.ItemsPerSecond) - Stopwatch.GetElapsedTime(started);
                        if (rest > TimeSpan.Zero) await Task.Delay(rest, clock, stoppingToken);
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        finally
        {
            themes.Changed -= Wake;
        }
    }

    private void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0) _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Woken already.
        }
    }
}
