using System.Net.Http.Headers;
using System.Reflection;
using CxMesh.Feedback;
using CxMesh.Governance;
using CxMesh.Host;
using CxMesh.Journey;
using CxMesh.Partner;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Clients;
using CxMesh.Platform.Hosting;
using CxMesh.Scoring;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace CxMesh.TestKit;

/// <summary>What a test host runs against. Anything left unset gets a fresh database, the shared Redis and a unique key prefix.</summary>
public sealed class TestHostSettings
{
    public string Services { get; set; } = "all";
    /// <summary>Connection strings by service; services missing here get a fresh migrated database.</summary>
    public Dictionary<string, string> Databases { get; } = new();
    public string? Redis { get; set; }
    public string RedisKeyPrefix { get; set; } = $"test-{Guid.NewGuid():N}";
    public Dictionary<string, string?> Settings { get; } = new();
    public Action<IServiceCollection>? ConfigureServices { get; set; }
    /// <summary>
    /// Listen on real loopback ports (gRPC <see cref="CxMeshTestHost.GrpcAddress"/>) for a client in another process (the
    /// CLI); the in-memory clients of the host are not available then.
    /// </summary>
    public bool ListenOnLoopback { get; set; }

    /// <summary>
    /// Lifts the per-caller limits (<c>RateLimits:&lt;limit&gt;</c>) for a host whose one caller makes thousands of calls
    /// on purpose (the fuzzer); <paramref name="only"/> names the limits, all three when empty.
    /// </summary>
    public TestHostSettings LiftCallerLimits(params string[] only)
    {
        foreach (var limit in only.Length > 0 ? only : ["ingest", "import", "download"])
        {
            Settings[$"RateLimits:{limit}:Permits"] = "1000000";
            Settings[$"RateLimits:{limit}:Burst"] = "1000000";
            Settings[$"RateLimits:{limit}:Concurrent"] = "64";
        }
        return this;
    }

    /// <summary>The HMAC secret of <see cref="ShippedConnectors"/>' zendesk source, and the token of its review sources.</summary>
    public const string ZendeskSecret = "zendesk-webhook-secret-0123456789";
    public const string SourceToken = "source-token-0123456789abcdef";

    /// <summary>
    /// The three shipped connectors as an operator configures them: zendesk (zendesk-ticket, signed with
    /// <see cref="ZendeskSecret"/>), reviews (trustpilot-review) and appstore (app-store-review), both with <see cref="SourceToken"/>.
    /// </summary>
    public TestHostSettings ShippedConnectors()
    {
        Settings["Feedback:Sources:zendesk:Mapping"] = "zendesk-ticket";
        Settings["Feedback:Sources:zendesk:Secret"] = ZendeskSecret;
        Settings["Feedback:Sources:reviews:Mapping"] = "trustpilot-review";
        Settings["Feedback:Sources:reviews:Token"] = SourceToken;
        Settings["Feedback:Sources:appstore:Mapping"] = "app-store-review";
        Settings["Feedback:Sources:appstore:Token"] = SourceToken;
        return this;
    }
}

/// <summary>cxmesh-server on a TestServer (no ports), with real Postgres and Redis.</summary>
public sealed class CxMeshTestHost : IAsyncDisposable
{
    public const string SigningKey = "cxmesh-test-signing-key-0123456789abcdef";
    /// <summary>The Dapr sidecar's app API token of test hosts (event routes need it with Dapr delivery).</summary>
    public const string AppApiToken = "cxmesh-test-app-api-token";
    /// <summary>AES-256 key for contact details in tests (32 bytes, base64).</summary>
    public const string ContactKey = "Y3htZXNoLXRlc3QtY29udGFjdC1rZXktMzJieXRlcyE=";

    /// <summary>The test key of pseudonymous customer ids (32 bytes, base64).</summary>
    public const string PseudonymKey = "Y3htZXNoLXRlc3QtcHNldWRvbnltLWtleS0zMmJ5dGU=";

    public static readonly IReadOnlyDictionary<string, Assembly> MigrationAssemblies = new Dictionary<string, Assembly>
    {
        [JourneyModule.Name] = typeof(JourneyModule).Assembly,
        [FeedbackModule.Name] = typeof(FeedbackModule).Assembly,
        [ScoringModule.Name] = typeof(ScoringModule).Assembly,
        [PartnerModule.Name] = typeof(PartnerModule).Assembly,
        [GovernanceModule.Name] = typeof(GovernanceModule).Assembly,
        [CxMesh.Notifications.NotificationsModule.Name] = typeof(CxMesh.Notifications.NotificationsModule).Assembly,
    };

    private CxMeshTestHost(WebApplication app, TestHostSettings settings)
    {
        App = app;
        Settings = settings;
        Server = settings.ListenOnLoopback ? null! : app.GetTestServer();
    }

    /// <summary>With <see cref="TestHostSettings.ListenOnLoopback"/>: the gRPC address a client in another process uses.</summary>
    public string? GrpcAddress { get; private init; }

    public WebApplication App { get; }
    public TestServer Server { get; }
    public TestHostSettings Settings { get; }
    public IServiceProvider Services => App.Services;

    public static async Task<CxMeshTestHost> StartAsync(Action<TestHostSettings>? configure = null)
    {
        // Tests import and download many times a second as one caller; CallerLimitTests sets its own limits.
        var settings = new TestHostSettings().LiftCallerLimits("import", "download");
        configure?.Invoke(settings);
        var wanted = settings.Services == "all" ? MigrationAssemblies.Keys : settings.Services.Split(',', StringSplitOptions.TrimEntries);
        foreach (var service in wanted.Where(s => !settings.Databases.ContainsKey(s)))
        {
            settings.Databases[service] = await TestServers.Postgres.CreateDatabaseAsync(service, MigrationAssemblies[service]);
        }
        settings.Redis ??= TestServers.Redis.Endpoint;

        var config = new Dictionary<string, string?>
        {
            ["CxMesh:Services"] = settings.Services,
            ["Auth:SigningKey"] = SigningKey,
            ["CxMesh:AppApiToken"] = AppApiToken,
            ["Feedback:ActiveContactKey"] = "test1",
            ["Feedback:ContactKeys:test1"] = ContactKey,
            ["Feedback:PseudonymKey"] = PseudonymKey,
            ["Partner:ActiveSecretKey"] = "test1",
            ["Partner:SecretKeys:test1"] = ContactKey,
            ["ConnectionStrings:redis"] = settings.Redis,
            ["Redis:KeyPrefix"] = settings.RedisKeyPrefix,
            // A re-tag settles in a moment here: one replica, which reloads its taxonomy at once after a change.
            ["Feedback:Retag:Settle"] = "00:00:00.2",
            ["Feedback:Retag:TaxonomyRefresh"] = "00:00:00.5",
            ["Feedback:Retag:PollInterval"] = "00:00:00.2",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:CxMesh"] = "Warning",
        };
        foreach (var (service, cs) in settings.Databases) config[$"ConnectionStrings:{service}"] = cs;
        // Services calling services not hosted here reach this test server (which answers UNIMPLEMENTED for them)
        // unless a test points them elsewhere.
        foreach (var service in MigrationAssemblies.Keys) config[$"{ServiceClients.EndpointsSection}:{service}"] = TestServerCalls.Address;
        int? grpcPort = null;
        if (settings.ListenOnLoopback)
        {
            grpcPort = Ports.Free();
            config["CxMesh:BindAddress"] = "127.0.0.1";
            config["CxMesh:GrpcPort"] = grpcPort.ToString();
            config["CxMesh:HttpPort"] = Ports.Free().ToString();
            // As the one binary runs: its services call each other over its own loopback port.
            foreach (var service in MigrationAssemblies.Keys) config[$"{ServiceClients.EndpointsSection}:{service}"] = $"http://127.0.0.1:{grpcPort}";
        }
        foreach (var (key, value) in settings.Settings) config[key] = value;

        var app = CxMeshServer.Build([], Modules.All, builder =>
        {
            if (!settings.ListenOnLoopback) builder.WebHost.UseTestServer();
            builder.Configuration.AddInMemoryCollection(config);
            builder.Services.AddSingleton<IServiceCallHandlerFactory, TestServerCalls>();
        }, builder => settings.ConfigureServices?.Invoke(builder.Services));
        await app.StartAsync();
        var host = new CxMeshTestHost(app, settings) { GrpcAddress = grpcPort is { } port ? $"http://127.0.0.1:{port}" : null };
        if (!settings.ListenOnLoopback) TestServerCalls.Hosts[host.Address] = host.Server;
        return host;
    }

    /// <summary>
    /// This host's address for another test host's <c>CxMesh:Endpoints:&lt;service&gt;</c>: calls to it go through this
    /// TestServer in memory, as to a separate Deployment.
    /// </summary>
    public string Address { get; } = $"http://cxmesh-test-{Guid.NewGuid():N}";

    public string Token(string role, string? partnerId = null, string? subject = null) =>
        DevelopmentTokens.Create(new AuthOptions { SigningKey = SigningKey }, role, subject ?? $"test-{role}", partnerId);

    /// <summary>
    /// A token built by hand, as an attacker or a misconfigured issuer would: any claims, HMAC algorithm (HS256/384/512,
    /// with keys a library would call too short), key and lifetime. Claims of one type repeated become an array.
    /// </summary>
    public static string ForgedToken(IEnumerable<(string Type, string Value)> claims, string algorithm = "HS256",
        string signingKey = SigningKey, TimeSpan? lifetime = null, string issuer = AuthOptions.DevelopmentIssuer)
    {
        var now = DateTimeOffset.UtcNow;
        var expires = now + (lifetime ?? TimeSpan.FromHours(1));
        var payload = new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["aud"] = AuthOptions.DefaultAudience,
            ["iat"] = (expires < now ? expires.AddHours(-1) : now).ToUnixTimeSeconds(),
            ["nbf"] = (expires < now ? expires.AddHours(-1) : now.AddMinutes(-1)).ToUnixTimeSeconds(),
            ["exp"] = expires.ToUnixTimeSeconds(),
        };
        foreach (var group in claims.GroupBy(c => c.Type))
        {
            payload[group.Key] = group.Count() == 1 ? group.Single().Value : group.Select(c => c.Value).ToArray();
        }
        static string Part(byte[] bytes) => Base64UrlEncoder.Encode(bytes);
        var unsigned = Part(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { alg = algorithm, typ = "JWT" })) + "." +
            Part(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(payload));
        var key = System.Text.Encoding.UTF8.GetBytes(signingKey);
        var data = System.Text.Encoding.ASCII.GetBytes(unsigned);
        var signature = algorithm switch
        {
            "HS256" => System.Security.Cryptography.HMACSHA256.HashData(key, data),
            "HS384" => System.Security.Cryptography.HMACSHA384.HashData(key, data),
            "HS512" => System.Security.Cryptography.HMACSHA512.HashData(key, data),
            _ => throw new ArgumentException($"no HMAC for {algorithm}", nameof(algorithm)),
        };
        return unsigned + "." + Part(signature);
    }

    /// <summary>A client whose every call carries this bearer token.</summary>
    public T ClientWithToken<T>(string token) where T : Grpc.Core.ClientBase<T> =>
        (T)Activator.CreateInstance(typeof(T), ChannelOf(new BearerHandler(token, Handler())))!;

    /// <summary>A gRPC channel to this host (in memory, or over loopback when it listens there); with a role, every call carries that role's bearer token.</summary>
    public GrpcChannel Channel(string? role = Roles.Admin) => ChannelOf(role is null ? Handler() : new BearerHandler(Token(role), Handler()));

    private HttpMessageHandler Handler() => GrpcAddress is null ? Server.CreateHandler() : new SocketsHttpHandler();

    private GrpcChannel ChannelOf(HttpMessageHandler handler) =>
        GrpcChannel.ForAddress(GrpcAddress ?? Server.BaseAddress.ToString(), new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });

    public T Client<T>(string? role = Roles.Admin) where T : Grpc.Core.ClientBase<T> =>
        (T)Activator.CreateInstance(typeof(T), Channel(role))!;

    /// <summary>A client calling as a partner: role partner with the given partner_id claim.</summary>
    public T PartnerClient<T>(string partnerId) where T : Grpc.Core.ClientBase<T> => ClientWithToken<T>(Token(Roles.Partner, partnerId));

    public HttpClient Http() => Server.CreateClient();

    /// <summary>An HTTP client calling as this host's Dapr sidecar does: with the app API token.</summary>
    public HttpClient SidecarHttp()
    {
        var client = Server.CreateClient();
        client.DefaultRequestHeaders.Add("dapr-api-token", AppApiToken);
        return client;
    }

    /// <summary>
    /// The drain probe: waits until every event the host's services published has been delivered and applied. With the
    /// in-process transport the relay marks an event sent only once every consumer's transaction committed, so no
    /// unsent, unparked outbox row in any service (seen twice in a row, as a consumer may publish in turn) means
    /// nothing is in flight. Use it instead of waiting a while before asserting that something did not happen.
    /// </summary>
    public async Task DrainAsync(TimeSpan? timeout = null)
    {
        var settledOnce = false;
        await Eventually.Until(async () =>
        {
            long pending = 0;
            foreach (var cs in Settings.Databases.Values)
            {
                await using var connection = new Npgsql.NpgsqlConnection(cs);
                await connection.OpenAsync();
                await using var count = new Npgsql.NpgsqlCommand("select count(*) from outbox where sent_at is null and parked_at is null", connection);
                pending += (long)(await count.ExecuteScalarAsync())!;
            }
            var settled = pending == 0 && settledOnce;
            settledOnce = pending == 0;
            return (pending, settled);
        }, p => p.settled, timeout, because: "every published event is delivered (the outboxes drain)");
    }

    public async ValueTask DisposeAsync()
    {
        TestServerCalls.Hosts.TryRemove(Address, out _);
        await App.StopAsync();
        await App.DisposeAsync();
    }

    private sealed class BearerHandler(string token, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>Calls between services hosted by the same test server go through it in memory, like the test's own calls.</summary>
internal sealed class TestServerCalls(IServiceProvider services, IConfiguration configuration) : IServiceCallHandlerFactory
{
    public const string Address = "http://test-server";

    /// <summary>Every running test host by its <see cref="CxMeshTestHost.Address"/>.</summary>
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TestServer> Hosts = new();

    public HttpMessageHandler? Create(string service) => configuration[$"{ServiceClients.EndpointsSection}:{service}"] switch
    {
        null or "" or Address => ((TestServer)services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()).CreateHandler(),
        var other when Hosts.TryGetValue(other, out var server) => server.CreateHandler(),
        _ => null,
    };
}
