using CxMesh.Host;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Hosting;
using CxMesh.TestKit;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace CxMesh.Benchmarks;

/// <summary>cxmesh-server on real Kestrel ports (loopback HTTP/2), against the test kit's Postgres and Redis.</summary>
internal sealed class BenchHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchHost(WebApplication app, int grpcPort, int httpPort, Dictionary<string, string> databases)
    {
        _app = app;
        GrpcAddress = $"http://127.0.0.1:{grpcPort}";
        HttpAddress = $"http://127.0.0.1:{httpPort}";
        Databases = databases;
    }

    public string GrpcAddress { get; }
    public string HttpAddress { get; }
    public Dictionary<string, string> Databases { get; }
    public IServiceProvider Services => _app.Services;

    public static async Task<BenchHost> StartAsync(string services, IDictionary<string, string?>? extra = null, IReadOnlyDictionary<string, string>? databasesOf = null)
    {
        var databases = new Dictionary<string, string>();
        // The web module owns no database.
        foreach (var service in services.Split(',').Where(CxMeshTestHost.MigrationAssemblies.ContainsKey))
        {
            databases[service] = databasesOf?.GetValueOrDefault(service) ?? await TestServers.Postgres.CreateDatabaseAsync(service, CxMeshTestHost.MigrationAssemblies[service]);
        }
        var (grpcPort, httpPort) = (Ports.Free(), Ports.Free());
        var config = new Dictionary<string, string?>
        {
            ["CxMesh:Services"] = services,
            ["CxMesh:Delivery"] = "InProcess",
            ["CxMesh:BindAddress"] = "127.0.0.1",
            ["CxMesh:GrpcPort"] = grpcPort.ToString(),
            ["CxMesh:HttpPort"] = httpPort.ToString(),
            ["Auth:SigningKey"] = CxMeshTestHost.SigningKey,
            ["Feedback:ActiveContactKey"] = "bench",
            ["Feedback:ContactKeys:bench"] = CxMeshTestHost.ContactKey,
            ["Partner:ActiveSecretKey"] = "bench",
            ["Partner:SecretKeys:bench"] = CxMeshTestHost.ContactKey,
            ["ConnectionStrings:redis"] = TestServers.Redis.Endpoint,
            ["Redis:KeyPrefix"] = $"bench-{Guid.NewGuid():N}",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (service, cs) in databases) config[$"ConnectionStrings:{service}"] = cs;
        foreach (var service in CxMeshTestHost.MigrationAssemblies.Keys) config[$"CxMesh:Endpoints:{service}"] = $"http://127.0.0.1:{grpcPort}";
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) config[k] = v;
        var app = CxMeshServer.Build([], Modules.All, b => b.Configuration.AddInMemoryCollection(config));
        // The read benchmarks' anchor: a no-op RPC behind the same stack (never part of cxmesh-server).
        app.MapGrpcService<BaselineService>();
        await app.StartAsync();
        return new BenchHost(app, grpcPort, httpPort, databases);
    }

    /// <summary>A new channel (its own HTTP/2 connection) with a token for the role.</summary>
    public GrpcChannel Channel(string role = Roles.Admin, string subject = "bench")
    {
        var token = DevelopmentTokens.Create(new AuthOptions { SigningKey = CxMeshTestHost.SigningKey }, role, subject);
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add("Authorization", $"Bearer {token}");
            return Task.CompletedTask;
        });
        return GrpcChannel.ForAddress(GrpcAddress, new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, credentials),
            UnsafeUseInsecureChannelCallCredentials = true,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });
    }

    /// <summary>Stops at once, as a killed process would: calls in flight are aborted, not waited for.</summary>
    public async Task KillAsync()
    {
        await _app.StopAsync(new CancellationToken(canceled: true));
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
