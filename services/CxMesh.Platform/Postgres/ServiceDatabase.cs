using System.Reflection;
using Npgsql;

namespace CxMesh.Platform.Postgres;

/// <summary>
/// A service's own Postgres database: its data source and the assembly holding its
/// <c>Data/Migrations/NNNN_name.sql</c> scripts. Registered keyed by service name.
/// </summary>
public sealed class ServiceDatabase(string service, string connectionString, Assembly migrationsAssembly) : IAsyncDisposable
{
    public string Service { get; } = service;
    /// <summary>As configured, password included (the data source's own copy drops it).</summary>
    public string ConnectionString { get; } = connectionString;
    public NpgsqlDataSource DataSource { get; } = CreateDataSource(service, connectionString);
    public Assembly MigrationsAssembly { get; } = migrationsAssembly;

    public ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken ct = default) => DataSource.OpenConnectionAsync(ct);

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    public static string ConnectionStringKey(string service) => $"ConnectionStrings:{service}";

    /// <summary>Applies the pool and timeout defaults CxMesh wants unless the connection string says otherwise.</summary>
    public static NpgsqlDataSource CreateDataSource(string service, string connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        var given = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Mentions(connectionString, "Maximum Pool Size", "Max Pool Size", "MaxPoolSize")) csb.MaxPoolSize = 20;
        if (!Mentions(connectionString, "Keepalive")) csb.KeepAlive = 30;
        if (!Mentions(connectionString, "Max Auto Prepare", "MaxAutoPrepare")) csb.MaxAutoPrepare = 32;
        if (!Mentions(connectionString, "Timeout")) csb.Timeout = 5;
        if (!Mentions(connectionString, "Command Timeout", "CommandTimeout")) csb.CommandTimeout = 30;
        if (string.IsNullOrEmpty(given.ApplicationName)) csb.ApplicationName = $"cxmesh-{service}";
        var builder = new NpgsqlDataSourceBuilder(csb.ConnectionString);
        builder.Name = service;
        return builder.Build();
    }

    private static bool Mentions(string connectionString, params string[] keys) =>
        connectionString.Split(';').Select(p => p.Split('=')[0].Trim())
            .Any(k => keys.Any(key => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)));
}
