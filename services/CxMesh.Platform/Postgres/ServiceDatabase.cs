using System.Reflection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CxMesh.Platform.Postgres;

/// <summary>
/// A service's own Postgres database: its data source and the assembly holding its
/// <c>Data/Migrations/NNNN_name.sql</c> scripts. Registered keyed by service name.
/// </summary>
public sealed class ServiceDatabase(string service, string connectionString, Assembly migrationsAssembly,
    TimeProvider? clock = null, ILogger? logger = null) : IAsyncDisposable
{
    public string Service { get; } = service;
    /// <summary>As configured, password included (the data source's own copy drops it).</summary>
    public string ConnectionString { get; } = connectionString;
    public NpgsqlDataSource DataSource { get; } = CreateDataSource(service, connectionString);
    public Assembly MigrationsAssembly { get; } = migrationsAssembly;

    public TimeProvider Clock { get; } = clock ?? TimeProvider.System;

    /// <summary>A connection for reading (writes go through <see cref="BeginWriteAsync"/>).</summary>
    public ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken ct = default) => DataSource.OpenConnectionAsync(ct);

    /// <summary>
    /// A read-only transaction at one snapshot (repeatable read), for reads that must see a single state of the database
    /// however long they stream. Nothing can be written through it; dispose it when done.
    /// </summary>
    public async Task<Snapshot> BeginSnapshotAsync(CancellationToken ct = default)
    {
        var connection = await DataSource.OpenConnectionAsync(ct);
        try
        {
            var snapshot = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
            await using (var readOnly = new NpgsqlCommand("set transaction read only", connection, snapshot))
            {
                await readOnly.ExecuteNonQueryAsync(ct);
            }
            return new Snapshot(connection, snapshot);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Begins a write: a connection with an open transaction, the write's clock and its outbox. Commit it with
    /// <see cref="WriteScope.CommitAsync"/>; disposing it uncommitted rolls everything back.
    /// </summary>
    public async Task<WriteScope> BeginWriteAsync(CancellationToken ct = default)
    {
        var connection = await DataSource.OpenConnectionAsync(ct);
        try
        {
            var transaction = await connection.BeginTransactionAsync(ct);
            return new WriteScope(Service, connection, transaction, Clock, owned: true, logger);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <paramref name="write"/> in a write and commits it.</summary>
    public async Task WriteAsync(Func<WriteScope, Task> write, CancellationToken ct = default)
    {
        await using var context = await BeginWriteAsync(ct);
        await write(context);
        await context.CommitAsync(ct);
    }

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

/// <summary>A read-only transaction at one snapshot (<see cref="ServiceDatabase.BeginSnapshotAsync"/>).</summary>
public sealed record Snapshot(NpgsqlConnection Connection, NpgsqlTransaction Transaction) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
