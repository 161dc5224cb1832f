using CxMesh.Governance.UseCases;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CxMesh.Governance.Workers;

/// <summary>
/// Marks actions past their due time overdue, publishes action.overdue once each and escalates to the journey's sponsor.
/// Safe with any number of replicas: rows are claimed with SKIP LOCKED and marked in the same statement.
/// </summary>
public sealed class OverdueSweeper(SweepOverdueActions sweep, IOptions<GovernanceOptions> options, TimeProvider clock, ILogger<OverdueSweeper> logger)
    : BackgroundService
{
    private const int Batch = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                int swept;
                do
                {
                    swept = await sweep.SweepAsync(Batch, stoppingToken);
                    if (swept > 0) logger.LogInformation("{Count} action(s) became overdue and were escalated", swept);
                } while (swept == Batch);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Overdue sweep failed; retrying next round");
            }
            try
            {
                await Task.Delay(options.Value.OverdueSweepInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
