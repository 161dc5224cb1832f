using Npgsql;

namespace CxMesh.TestKit;

/// <summary>A fresh migrated database of a service, reached through a <see cref="TcpFaultProxy"/> a test can cut.</summary>
public sealed class FaultyDatabase : IAsyncDisposable
{
    private FaultyDatabase(string direct, TcpFaultProxy proxy)
    {
        DirectConnectionString = direct;
        Proxy = proxy;
        ProxiedConnectionString = new NpgsqlConnectionStringBuilder(direct) { Port = proxy.Port }.ConnectionString;
    }

    /// <summary>Straight to Postgres: for the test's own checks, unaffected by the proxy.</summary>
    public string DirectConnectionString { get; }
    /// <summary>Through the proxy: give this to the host under test.</summary>
    public string ProxiedConnectionString { get; }
    public TcpFaultProxy Proxy { get; }

    public static async Task<FaultyDatabase> CreateAsync(string service)
    {
        var direct = await TestServers.Postgres.CreateDatabaseAsync(service, CxMeshTestHost.MigrationAssemblies[service]);
        var builder = new NpgsqlConnectionStringBuilder(direct);
        return new FaultyDatabase(direct, new TcpFaultProxy(builder.Host!, builder.Port));
    }

    public ValueTask DisposeAsync() => Proxy.DisposeAsync();
}
