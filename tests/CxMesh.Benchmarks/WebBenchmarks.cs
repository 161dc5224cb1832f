using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;

namespace CxMesh.Benchmarks;

/// <summary>
/// The CX console's server render time: each page requested as a signed-in admin (the server renders it with every
/// service call it makes before the first byte goes out), with the demo data and with the demo data times each scale.
/// Baseline in the same run: the sign-in page, which calls no service. Pages read aggregates, so they must not slow
/// down with the data: the figure to watch is p50 at scale N over p50 at scale 1.
/// </summary>
internal static partial class WebBenchmarks
{
    private static readonly string[] Pages =
    [
        "/", "/journeys/coffee-subscription", "/feedback", "/actions", "/sprints", "/ideas", "/case-studies",
        "/governance/sharing", "/governance/audit", "/governance/vision",
    ];

    public static async Task PagesAsync(int[] scales, int requests)
    {
        Console.WriteLine($"# CX console pages: server render time, {requests} requests each, demo data x {string.Join(", x", scales)}");
        var results = new Dictionary<int, Dictionary<string, (double P50, double P95)>>();
        foreach (var scale in scales)
        {
            await using var host = await BenchHost.StartAsync("journey,feedback,scoring,partner,governance,web", new Dictionary<string, string?>
            {
                ["Web:DevelopmentSignIn"] = "true",
            });
            var seed = Stopwatch.StartNew();
            await SeedAsync(host, 600 * scale, 3000 * scale);
            Console.WriteLine($"x{scale}: demo data ({600 * scale:N0} feedback items, {3000 * scale:N0} customers) seeded in {seed.Elapsed.TotalSeconds:N0} s");
            // The services go on after the seed (projections, scores, outbox): pages are timed once the host is quiet.
            var settled = await QuietAsync(TimeSpan.FromMinutes(15));
            Console.WriteLine($"x{scale}: host quiet after {settled.TotalSeconds:N0} s more");

            using var http = await SignInAsync(host.HttpAddress);
            // Warmed up until the JIT has tiered the hot paths (a fresh process renders its first hundred pages slower), then
            // timed in rounds over every page, so a noisy moment of the shared machine falls on all pages alike.
            var all = Pages.Prepend("/signin").ToList();
            for (var round = 0; round < 40; round++)
            {
                foreach (var path in all) await GetAsync(http, path);
            }
            var times = all.ToDictionary(p => p, _ => new List<double>(requests));
            for (var round = 0; round < requests; round++)
            {
                foreach (var path in all)
                {
                    var watch = Stopwatch.StartNew();
                    await GetAsync(http, path);
                    times[path].Add(watch.Elapsed.TotalMilliseconds);
                }
            }
            results[scale] = times.ToDictionary(t => t.Key, t =>
            {
                t.Value.Sort();
                return (t.Value[t.Value.Count / 2], t.Value[(int)Math.Ceiling(t.Value.Count * 0.95) - 1]);
            });
        }

        var first = scales[0];
        Console.WriteLine();
        Console.WriteLine($"| page | {string.Join(" | ", scales.Select(s => $"x{s} p50 / p95 ms"))} | {string.Join(" | ", scales.Skip(1).Select(s => $"p50 x{s} / x{first}"))} | p50 / sign-in (x{scales[^1]}) |");
        Console.WriteLine($"| --- |{string.Concat(Enumerable.Repeat(" ---: |", scales.Length * 2))} ---: |");
        foreach (var path in Pages.Prepend("/signin"))
        {
            var cells = scales.Select(s => $"{results[s][path].P50:N1} / {results[s][path].P95:N1}");
            var ratios = scales.Skip(1).Select(s => $"{results[s][path].P50 / results[first][path].P50:N2}");
            var baseline = results[scales[^1]][path].P50 / results[scales[^1]]["/signin"].P50;
            Console.WriteLine($"| {path} | {string.Join(" | ", cells)} | {string.Join(" | ", ratios)} | {baseline:N1} |");
        }
    }

    /// <summary>Waits until this process (the host) uses under 5 % of a core for 5 s in a row, or the limit passes.</summary>
    private static async Task<TimeSpan> QuietAsync(TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        var quietFor = 0;
        while (watch.Elapsed < limit && quietFor < 5)
        {
            var before = Process.GetCurrentProcess().TotalProcessorTime;
            await Task.Delay(1000);
            var used = (Process.GetCurrentProcess().TotalProcessorTime - before).TotalMilliseconds;
            quietFor = used < 50 ? quietFor + 1 : 0;
        }
        return watch.Elapsed;
    }

    private static async Task GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead);
        if (response.StatusCode != HttpStatusCode.OK || response.RequestMessage?.RequestUri?.AbsolutePath != path)
        {
            throw new InvalidOperationException($"{path}: {(int)response.StatusCode} at {response.RequestMessage?.RequestUri}");
        }
        var body = await response.Content.ReadAsStringAsync();
        if (body.Contains("data-testid=\"error\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{path} rendered a service error: {ErrorText().Match(body).Value}");
        }
    }

    /// <summary>The demo data set, loaded by the CLI as ./run.sh loads it.</summary>
    private static async Task SeedAsync(BenchHost host, int count, int customers)
    {
        var configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))) ?? "Release";
        var cli = Path.Combine(RepositoryRoot(), "services/CxMesh.Cli/bin", configuration, "net10.0/cxmesh.dll");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { cli, "seed-demo", "--count", count.ToString(), "--customers", customers.ToString() }) info.ArgumentList.Add(a);
        info.Environment["CXMESH_GRPC"] = host.GrpcAddress;
        info.Environment["CXMESH_TOKEN"] = DevelopmentTokens.Create(new AuthOptions { SigningKey = CxMeshTestHost.SigningKey }, Roles.Admin, "mei.chen");
        info.Environment["CXMESH_APPROVER_TOKEN"] = DevelopmentTokens.Create(new AuthOptions { SigningKey = CxMeshTestHost.SigningKey }, Roles.Admin, "tom.reyes");
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"seed-demo failed:\n{await output}\n{await errors}");
    }

    /// <summary>A cookie-keeping client signed in as the demo admin through the development sign-in form.</summary>
    private static async Task<HttpClient> SignInAsync(string address)
    {
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true }) { BaseAddress = new Uri(address) };
        var form = await http.GetStringAsync("/signin");
        var antiforgery = ValueOf().Match(AntiforgeryField().Match(form).Value).Groups[1].Value;
        using var response = await http.PostAsync("/signin/development", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(antiforgery),
            ["person"] = "admin",
            ["returnUrl"] = "/",
        }));
        if (response.RequestMessage?.RequestUri?.AbsolutePath != "/") throw new InvalidOperationException($"sign-in failed: {response.StatusCode} at {response.RequestMessage?.RequestUri}");
        return http;
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CxMesh.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("run from the repository");
    }

    [GeneratedRegex("<input[^>]*name=\"__RequestVerificationToken\"[^>]*>")]
    private static partial Regex AntiforgeryField();

    [GeneratedRegex("value=\"([^\"]+)\"")]
    private static partial Regex ValueOf();

    [GeneratedRegex("data-testid=\"error\"[^<]*<[^<]*<[^<]*")]
    private static partial Regex ErrorText();
}
