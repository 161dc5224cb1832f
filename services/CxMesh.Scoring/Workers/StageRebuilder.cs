using CxMesh.Scoring.UseCases;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CxMesh.Scoring.Workers;

/// <summary>
/// Brings every customer's stage part up to the current model (<see cref="RebuildStages"/>): woken at once by a model
/// change in this process, and every 15 seconds for one made through another replica.
/// </summary>
public sealed class StageRebuilder(RebuildStages rebuild, ILogger<StageRebuilder> logger) : BackgroundService
{
    private const int Batch = 500;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);
    private readonly SemaphoreSlim _wake = new(0);

    public void Wake() => _wake.Release();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                long total = 0;
                int rebuilt;
                do
                {
                    rebuilt = await rebuild.RebuildAsync(Batch, stoppingToken);
                    total += rebuilt;
                } while (rebuilt == Batch);
                if (total > 0) logger.LogInformation("Recomputed the relationship stages of {Count} customer(s) under the current stage model", total);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Stage rebuild failed; retrying next round");
            }
            try
            {
                await _wake.WaitAsync(Interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
