using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Deque.AxeCore.Playwright;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Playwright;

namespace CxMesh.Web.Tests;

/// <summary>
/// The one binary, all-in-one with the web module, on loopback ports against the test Postgres and Redis, seeded with
/// the demo data by the CLI (as ./run.sh does), and a headless Chromium to drive it.
/// </summary>
public sealed class ConsoleHost : IAsyncLifetime
{
    public const string SigningKey = "cxmesh-web-test-signing-key-0123456789abcdef";
    private Process? _server;
    private readonly List<string> _log = [];

    public string BaseUrl { get; private set; } = "";
    public string GrpcUrl { get; private set; } = "";
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where screenshots go: a test artefact folder beside the results.</summary>
    public static string Artefacts { get; } = Path.Combine(Environment.GetEnvironmentVariable("CXMESH_TEST_ARTEFACTS") ?? Path.Combine(AppContext.BaseDirectory, "artefacts"), "screenshots");

    public string Token(string role, string subject, string? partnerId = null) => DevelopmentTokens.Create(new AuthOptions { SigningKey = SigningKey }, role, subject, partnerId);

    public T Client<T>(string role, string subject, string? partnerId = null) where T : ClientBase<T>
    {
        var token = Token(role, subject, partnerId);
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add("Authorization", "Bearer " + token);
            return Task.CompletedTask;
        });
        var channel = GrpcChannel.ForAddress(GrpcUrl, new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, credentials),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
        return (T)Activator.CreateInstance(typeof(T), channel)!;
    }

    public async Task InitializeAsync()
    {
        var root = RepositoryRoot();
        var configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))) ?? "Debug";
        var server = Path.Combine(root, "services/CxMesh.Host/bin", configuration, "net10.0/cxmesh-server.dll");
        var cli = Path.Combine(root, "services/CxMesh.Cli/bin", configuration, "net10.0/cxmesh.dll");
        var (grpcPort, httpPort) = (FreePort(), FreePort());
        (GrpcUrl, BaseUrl) = ($"http://127.0.0.1:{grpcPort}", $"http://127.0.0.1:{httpPort}");

        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["CxMesh__BindAddress"] = "127.0.0.1",
            ["CxMesh__GrpcPort"] = grpcPort.ToString(),
            ["CxMesh__HttpPort"] = httpPort.ToString(),
            ["Auth__SigningKey"] = SigningKey,
            ["Web__DevelopmentSignIn"] = "true",
            // Sessions the tests shorten end within seconds, not a minute after.
            ["Auth__ClockSkew"] = "00:00:02",
            ["Feedback__ActiveContactKey"] = "test1",
            ["Feedback__ContactKeys__test1"] = CxMeshTestHost.ContactKey,
            ["Feedback__PseudonymKey"] = CxMeshTestHost.PseudonymKey,
            ["Partner__ActiveSecretKey"] = "test1",
            ["Partner__SecretKeys__test1"] = CxMeshTestHost.ContactKey,
            ["ConnectionStrings__redis"] = TestServers.Redis.Endpoint,
            ["Redis__KeyPrefix"] = $"web-{Guid.NewGuid():N}",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var service in CxMeshTestHost.MigrationAssemblies.Keys)
        {
            environment[$"ConnectionStrings__{service}"] = await TestServers.Postgres.CreateEmptyDatabaseAsync();
        }
        _server = Start(server, ["--services", "all"], environment);
        await WaitReadyAsync();

        // The demo data set, by the CLI, as ./run.sh loads it (fewer customers and items: the pages read aggregates).
        var seed = Start(cli, ["seed-demo", "--count", "600", "--customers", "300", "--club-members", "300"], new Dictionary<string, string>
        {
            ["CXMESH_GRPC"] = GrpcUrl,
            ["CXMESH_TOKEN"] = Token(Roles.Admin, "mei.chen"),
            ["CXMESH_APPROVER_TOKEN"] = Token(Roles.Admin, "tom.reyes"),
        });
        if (!seed.WaitForExit(TimeSpan.FromMinutes(4)) || seed.ExitCode != 0)
        {
            throw new InvalidOperationException($"seed-demo failed ({(seed.HasExited ? seed.ExitCode : "timed out")}):\n{string.Join('\n', _log.TakeLast(40))}");
        }

        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("CXMESH_CHROMIUM") ?? "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Directory.CreateDirectory(Artefacts);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }
    }

    /// <summary>A fresh browser context (no cookies), signed in as one of the demo's people by the development sign-in page.</summary>
    public async Task<IPage> SignInAsync(string person, int width = 1280, string? locale = "en-US", bool shortSession = false)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = 900 }, Locale = locale });
        // A generous upper bound for any wait, not a performance figure: on two shared cores a navigation that calls the
        // services while the demo's events are still being scored has taken over Playwright's default 30 s.
        context.SetDefaultTimeout(90_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(BaseUrl + "/");
        if (shortSession) await page.Locator("[data-testid=session-length]").SelectOptionAsync("15");
        await page.Locator($"button[data-person='{person}']").ClickAsync();
        await page.WaitForURLAsync(u => !u.Contains("/signin", StringComparison.Ordinal));
        await Interactive(page);
        return page;
    }

    /// <summary>Empty when the page does not scroll sideways, else the first elements that stick out (wide tables scroll in their own region).</summary>
    private const string SidewaysScript =
        "() => document.documentElement.scrollWidth <= window.innerWidth + 1 ? '' : [...document.querySelectorAll('body *')]" +
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-scroll'))" +
        ".slice(0, 5).map(e => e.tagName + '.' + e.className).join(', ')";

    private readonly Dictionary<(string Person, int Width), IPage> _signedIn = [];

    /// <summary>
    /// A page at a desktop and at a phone's width: no serious or critical axe violation at either, and nothing that makes
    /// the page scroll sideways. One signed-in tab per person and width serves every page checked (signing in is not
    /// what is checked here); a screenshot of each is kept.
    /// </summary>
    public async Task AssertUsableAsync(string person, string path, string name)
    {
        foreach (var width in new[] { 1280, 390 })
        {
            if (!_signedIn.TryGetValue((person, width), out var page)) _signedIn[(person, width)] = page = await SignInAsync(person, width);
            await GoAsync(page, path);
            var result = await page.RunAxe();
            var serious = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
            Assert.True(serious.Count == 0, $"{path} at {width} px: " + string.Join("\n", serious.Select(v => $"{v.Id} ({v.Impact}): {v.Help} — {string.Join(", ", v.Nodes.Take(3).Select(n => n.Html))}")));
            await ScreenshotAsync(page, $"{name}-{width}");
            var wider = await page.EvaluateAsync<string>(SidewaysScript);
            Assert.True(wider.Length == 0, $"{path} scrolls sideways at {width} px: {wider}");
        }
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artefacts, $"{name}.png"), FullPage = true });

    /// <summary>Goes to a page of the console and waits for its circuit.</summary>
    public async Task GoAsync(IPage page, string path)
    {
        await page.GotoAsync(BaseUrl + path);
        await Interactive(page);
    }

    /// <summary>A value a service has once an event went through (20 s at most).</summary>
    public static async Task<T> Eventually<T>(Func<Task<T?>> read) where T : class
    {
        for (var i = 0; i < 100; i++)
        {
            if (await read() is { } value) return value;
            await Task.Delay(200);
        }
        throw new TimeoutException("the value did not arrive in 20 s.");
    }

    /// <summary>Waits until the page's Blazor circuit is up, so clicks reach the server.</summary>
    public static async Task Interactive(IPage page)
    {
        await page.WaitForFunctionAsync("() => window.Blazor !== undefined && document.querySelector('.mud-layout') !== null");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    private Process Start(string dll, string[] args, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        var process = new Process { StartInfo = info };
        void Log(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (_log) _log.Add(e.Data);
        }
        process.OutputDataReceived += Log;
        process.ErrorDataReceived += Log;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient();
        for (var i = 0; i < 240; i++)
        {
            if (_server!.HasExited) throw new InvalidOperationException($"cxmesh-server exited:\n{string.Join('\n', _log.TakeLast(40))}");
            try
            {
                if ((await http.GetAsync(BaseUrl + "/healthz/ready")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"cxmesh-server did not become ready:\n{string.Join('\n', _log.TakeLast(40))}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CxMesh.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("CxMesh.sln not found above the test's folder.");
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleHost>
{
    public const string Name = "console";
}
