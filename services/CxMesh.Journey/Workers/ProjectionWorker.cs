using CxMesh.Journey.UseCases;
using CxMesh.Platform.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CxMesh.Journey.Workers;

/// <summary>
/// Runs the projector (woken by <c>LISTEN cxmesh_journey_pending</c> and a poll) and the abandonment sweeper,
/// which queues pairs whose open instance ran past its timeout. Safe with several replicas.
/// </summary>
public sealed class ProjectionWorker(
    ProjectInstances projector, [FromKeyedServices(JourneyModule.Name)] ServiceDatabase database,
    IOptions<JourneyOptions> options, ILogger<ProjectionWorker> logger) : BackgroundService
{
    private readonly NotificationSignal _notified = new(database, "cxmesh_journey_pending", logger);
    private DateTime _lastSweep = DateTime.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.ProjectorEnabled)
        {
            logger.LogWarning("Journey projector disabled (Journey:ProjectorEnabled=false)");
            return;
        }
        _notified.Start(stoppingToken);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (DateTime.UtcNow - _lastSweep >= o.SweepInterval)
                {
                    await SweepAsync(stoppingToken);
                    _lastSweep = DateTime.UtcNow;
                }
                while (await projector.ProjectBatchAsync(o.ProjectorBatchSize, stoppingToken) > 0)
                {
                }
                failures = 0;
                await _notified.WaitAsync(o.ProjectorPollInterval < o.SweepInterval ? o.ProjectorPollInterval : o.SweepInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                failures++;
                var delay = TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, Math.Min(failures, 6))));
                logger.LogWarning(ex, "Journey projection failed; retrying in {Delay}", delay);
                await _notified.WaitAsync(delay, stoppingToken);
            }
        }
    }

    /// <summary>Queues every pair whose open instance is past its inactivity timeout (<see cref="ProjectInstances.QueueIdleAsync"/>).</summary>
    public Task<int> SweepAsync(CancellationToken ct) => projector.QueueIdleAsync(ct);
}
