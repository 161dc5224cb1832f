using System.Collections.Concurrent;
using System.Reflection;
using CxMesh.Platform.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CxMesh.TestKit;

/// <summary>
/// A Postgres for tests: the one in <c>CXMESH_TEST_POSTGRES</c> (a connection string to a superuser
/// database) when set, otherwise a throwaway cluster started from the machine's binaries on a free port.
/// Every database is created from a template migrated once per process, so a test class gets a fresh,
/// migrated database in milliseconds.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string? _dataDir;
    private readonly string? _binDir;
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _templates = new();
    private readonly string _runId = $"{Environment.ProcessId}_{Guid.NewGuid():N}"[..16];

    private PostgresServer(string adminConnectionString, string? dataDir, string? binDir)
    {
        AdminConnectionString = adminConnectionString;
        _dataDir = dataDir;
        _binDir = binDir;
    }

    public string AdminConnectionString { get; }

    public static PostgresServer Start()
    {
        var external = Environment.GetEnvironmentVariable("CXMESH_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(external)) return new PostgresServer(external, null, null);

        var binDir = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderBy(d => d).LastOrDefault()
            : null;
        if (binDir is null)
        {
            throw new InvalidOperationException(
                "PostgreSQL binaries not found under /usr/lib/postgresql. Install them (apt-get install postgresql) or set CXMESH_TEST_POSTGRES.");
        }
        var dir = Path.Combine(Path.GetTempPath(), $"cxmesh-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        if (ProcessRunner.IsRoot) ProcessRunner.Run("chown", ["postgres:postgres", dir]);
        var data = Path.Combine(dir, "data");
        ProcessRunner.Run(Path.Combine(binDir, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], asPostgres: true);
        var port = Ports.Free();
        ProcessRunner.Run(Path.Combine(binDir, "pg_ctl"),
            ["-D", data, "-l", Path.Combine(dir, "log"), "-w", "-t", "60", "-o",
             $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400", "start"], asPostgres: true);
        var server = new PostgresServer($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres", data, binDir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        var pgCtl = Path.Combine(binDir, "pg_ctl");
        Watchdog.WhenProcessEnds(
            $"{(ProcessRunner.IsRoot ? "runuser -u postgres -- " : "")}{pgCtl} -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'");
        return server;
    }

    /// <summary>Creates a fresh database holding <paramref name="service"/>'s schema and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string service, Assembly migrations)
    {
        var template = await _templates.GetOrAdd(service, s => new Lazy<Task<string>>(() => CreateTemplateAsync(s, migrations))).Value;
        var name = $"t_{service}_{Guid.NewGuid():N}"[..40];
        await ExecuteAdminAsync($"create database \"{name}\" template \"{template}\"");
        return ConnectionString(name);
    }

    /// <summary>An empty database without any schema.</summary>
    public async Task<string> CreateEmptyDatabaseAsync()
    {
        var name = $"t_empty_{Guid.NewGuid():N}"[..40];
        await ExecuteAdminAsync($"create database \"{name}\"");
        return ConnectionString(name);
    }

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = database }.ConnectionString;

    private async Task<string> CreateTemplateAsync(string service, Assembly migrations)
    {
        var name = $"tpl_{_runId}_{service}";
        await ExecuteAdminAsync($"create database \"{name}\"");
        await using (var database = new ServiceDatabase(service, ConnectionString(name), migrations))
        {
            await Migrator.MigrateAsync(database, NullLogger.Instance);
        }
        NpgsqlConnection.ClearAllPools();
        return name;
    }

    private async Task ExecuteAdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private void Stop()
    {
        if (_dataDir is null || _binDir is null) return;
        try
        {
            ProcessRunner.Run(Path.Combine(_binDir, "pg_ctl"), ["-D", _dataDir, "-m", "immediate", "-w", "stop"], asPostgres: true, timeoutMs: 20_000);
            Directory.Delete(Path.GetDirectoryName(_dataDir)!, recursive: true);
        }
        catch (Exception)
        {
            // Best effort at process exit.
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }
}
