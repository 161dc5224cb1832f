using System.Reflection;
using CxMesh.Platform.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CxMesh.Platform.Postgres;

public static class DatabaseSetup
{
    /// <summary>
    /// Registers the service's database, keyed by <paramref name="service"/>: data source, migrations,
    /// readiness check and outbox relay. The connection string is <c>ConnectionStrings:&lt;service&gt;</c>.
    /// </summary>
    public static void AddServiceDatabase(this WebApplicationBuilder builder, string service, Assembly migrationsAssembly)
    {
        var key = ServiceDatabase.ConnectionStringKey(service);
        var connectionString = builder.Configuration[key];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ConfigurationException(key, "is required: the Npgsql connection string of the service's own database.");
        }
        try
        {
            var csb = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrEmpty(csb.Host)) throw new ArgumentException("Host is missing.");
            if (string.IsNullOrEmpty(csb.Database)) throw new ArgumentException("Database is missing.");
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new ConfigurationException(key, $"is not a valid Npgsql connection string: {ex.Message}");
        }

        builder.Services.AddKeyedSingleton(service, (sp, _) =>
            new ServiceDatabase(service, connectionString, migrationsAssembly, sp.GetService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger($"CxMesh.{service}.Writes")));
        builder.Services.AddSingleton<ServiceDatabaseRegistration>(new ServiceDatabaseRegistration(service));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            $"postgres-{service}",
            sp => new PostgresHealthCheck(sp.GetRequiredKeyedService<ServiceDatabase>(service)),
            HealthStatus.Unhealthy,
            [HealthTags.Ready],
            TimeSpan.FromSeconds(3)));
    }
}

/// <summary>Marks that a service database is hosted in this process (one per module).</summary>
public sealed record ServiceDatabaseRegistration(string Service);

internal sealed class PostgresHealthCheck(ServiceDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var cmd = database.DataSource.CreateCommand("select 1");
            await cmd.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Postgres of {database.Service} unreachable: {ex.GetType().Name}");
        }
    }
}
