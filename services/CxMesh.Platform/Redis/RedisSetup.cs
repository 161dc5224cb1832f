using CxMesh.Platform.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace CxMesh.Platform.Redis;

internal static class RedisSetup
{
    public static void AddCxMeshRedis(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration[RedisOptions.ConnectionStringKey];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ConfigurationException(RedisOptions.ConnectionStringKey, "is required: a StackExchange.Redis configuration string such as 127.0.0.1:6379.");
        }
        ConfigurationOptions config;
        try
        {
            config = ConfigurationOptions.Parse(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            throw new ConfigurationException(RedisOptions.ConnectionStringKey, $"is not a valid Redis configuration string: {ex.Message}");
        }
        if (config.EndPoints.Count == 0)
        {
            throw new ConfigurationException(RedisOptions.ConnectionStringKey, "names no endpoint.");
        }
        // Start even when Redis is down, and fail fast while it is: Redis only ever makes things faster.
        config.AbortOnConnectFail = false;
        config.ConnectTimeout = Math.Min(config.ConnectTimeout, 2000);
        config.SyncTimeout = Math.Min(config.SyncTimeout, 1000);
        config.AsyncTimeout = Math.Min(config.AsyncTimeout, 1000);
        config.ClientName ??= "cxmesh";

        builder.Services.AddValidatedOptions<RedisOptions>(RedisOptions.Section);
        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(config));
        builder.Services.AddSingleton<HotCache>();
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            "redis", sp => new RedisHealthCheck(sp.GetRequiredService<IConnectionMultiplexer>()),
            // Degraded, not Unhealthy: without Redis every read still answers (from Postgres), so the pod stays ready.
            HealthStatus.Degraded,
            [HealthTags.Ready], TimeSpan.FromSeconds(3)));
    }

    private sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await redis.GetDatabase().PingAsync();
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, $"Redis unreachable: {ex.GetType().Name}");
            }
        }
    }
}
