using CxMesh.Feedback.UseCases;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CxMesh.Feedback.Workers;

/// <summary>Runs <see cref="ExpireIdempotencyKeys"/> every <c>Feedback:KeyExpiryInterval</c>, in batches until none is left.</summary>
public sealed class KeyExpiry(ExpireIdempotencyKeys expire, IOptions<FeedbackOptions> options, TimeProvider clock, ILogger<KeyExpiry> logger) : BackgroundService
{
    private const int Batch = 5_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                int forgotten;
                do
                {
                    forgotten = await expire.ExpireAsync(Batch, stoppingToken);
                    if (forgotten > 0) logger.LogInformation("Forgot {Count} expired idempotency key(s)", forgotten);
                } while (forgotten == Batch);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Expiring idempotency keys failed; retrying next round");
            }
            try
            {
                await Task.Delay(options.Value.KeyExpiryInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
