using System.Reflection;
using DbUp;
using DbUp.Engine;
using DbUp.Engine.Output;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CxMesh.Platform.Postgres;

/// <summary>
/// Applies the platform's messaging scripts and the service's own <c>Data/Migrations/*.sql</c>
/// with DbUp. A Postgres advisory lock makes concurrent runs (several replicas, a Helm hook and a pod)
/// apply each script once.
/// </summary>
public static class Migrator
{
    private const long LockKey = 0x43784d657368; // "CxMesh"

    public static async Task MigrateAsync(ServiceDatabase database, ILogger logger, CancellationToken ct = default)
    {
        var scripts = Scripts(typeof(Migrator).Assembly, ".Messaging.Migrations.", "platform", 0)
            .Concat(Scripts(database.MigrationsAssembly, ".Data.Migrations.", database.Service, 1))
            .ToList();

        await using var lockConnection = await database.DataSource.OpenConnectionAsync(ct);
        await using (var take = new NpgsqlCommand($"select pg_advisory_lock({LockKey})", lockConnection))
        {
            await take.ExecuteNonQueryAsync(ct);
        }
        try
        {
            var connectionString = database.ConnectionString;
            var upgrader = DeployChanges.To.PostgresqlDatabase(connectionString)
                .WithScripts(scripts)
                .WithTransactionPerScript()
                .LogTo(new DbUpLog(logger, database.Service))
                .Build();
            var result = await Task.Run(upgrader.PerformUpgrade, ct);
            if (!result.Successful)
            {
                throw new InvalidOperationException(
                    $"Migration of the {database.Service} database failed at {result.ErrorScript?.Name}: {result.Error.Message}", result.Error);
            }
            logger.LogInformation("Database of {Service} is up to date ({Count} scripts applied now)", database.Service, result.Scripts.Count());
        }
        finally
        {
            await using var release = new NpgsqlCommand($"select pg_advisory_unlock({LockKey})", lockConnection);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static IEnumerable<SqlScript> Scripts(Assembly assembly, string folder, string prefix, int group) =>
        assembly.GetManifestResourceNames()
            .Where(n => n.Contains(folder, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                var fileName = n[(n.IndexOf(folder, StringComparison.Ordinal) + folder.Length)..];
                return new SqlScript($"{prefix}/{fileName}", reader.ReadToEnd(), new SqlScriptOptions { RunGroupOrder = group });
            });

    private sealed class DbUpLog(ILogger logger, string service) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) => logger.LogTrace("[{Service}] " + format, [service, .. args]);
        public void LogDebug(string format, params object[] args) => logger.LogDebug("[{Service}] " + format, [service, .. args]);
        public void LogInformation(string format, params object[] args) => logger.LogDebug("[{Service}] " + format, [service, .. args]);
        public void LogWarning(string format, params object[] args) => logger.LogWarning("[{Service}] " + format, [service, .. args]);
        public void LogError(string format, params object[] args) => logger.LogError("[{Service}] " + format, [service, .. args]);
        public void LogError(Exception ex, string format, params object[] args) => logger.LogError(ex, "[{Service}] " + format, [service, .. args]);
    }
}
