using System.Diagnostics;
using System.Text;
using CxMesh.Partner.Data;
using CxMesh.Partner.Domain;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CxMesh.Partner.Workers;

/// <summary>Sends due webhook notifications, signed with every live secret of the partner; retries with backoff.</summary>
public sealed class WebhookSender(WebhookStore store, IHttpClientFactory http, TimeProvider clock, IOptions<WebhookOptions> options, ILogger<WebhookSender> logger)
    : BackgroundService
{
    public const string Client = "partner-webhooks";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (await store.SealLegacySecretsAsync(stoppingToken) is > 0 and var sealedCount) logger.LogInformation("Sealed {Count} webhook secret(s) stored in plaintext", sealedCount);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Sealing plaintext webhook secrets failed; they keep working and are sealed at the next start");
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await store.SendDueAsync(SendAsync, stoppingToken) > 0) continue;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Sending webhooks failed; retrying");
            }
            try
            {
                await Task.Delay(options.Value.PollInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<(int? Status, string? Error, TimeSpan Elapsed)> SendAsync(DeliveryRow delivery, IReadOnlyList<string> secrets)
    {
        var stopwatch = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url) { Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json") };
            request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(secrets, clock.GetUtcNow(), delivery.Payload));
            request.Headers.Add(WebhookSignature.DeliveryHeader, delivery.DeliveryId.ToString());
            using var timeout = new CancellationTokenSource(options.Value.Timeout);
            using var response = await http.CreateClient(Client).SendAsync(request, timeout.Token);
            return ((int)response.StatusCode, null, stopwatch.Elapsed);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            return (null, ex is TaskCanceledException ? $"no answer within {options.Value.Timeout.TotalSeconds:0} s" : ex.Message, stopwatch.Elapsed);
        }
    }
}
