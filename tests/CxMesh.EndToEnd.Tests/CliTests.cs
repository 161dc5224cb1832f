using System.Diagnostics;
using CxMesh.Cli;
using CxMesh.Common.V1;
using CxMesh.Scoring.V1;

namespace CxMesh.EndToEnd.Tests;

/// <summary>The command line as a person meets it.</summary>
public sealed class CliTests
{
    /// <summary>The CLI as built, from its own output folder (with its own dependencies, as a person runs it).</summary>
    private static readonly string CliDll = TestKit.RepoFiles.Built("CxMesh.Cli", "cxmesh.dll");

    private static (int Exit, string Output) Cli(IDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "cxmesh did not finish");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    [Theory]
    [InlineData("score", "--jorney", "x")]
    [InlineData("--help")]
    [InlineData("import", "--help")]
    public void Help_and_mistyped_options_never_print_the_token(params string[] args)
    {
        const string secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.do-not-print-me";
        var (_, output) = Cli(new Dictionary<string, string> { ["CXMESH_TOKEN"] = secret }, args);
        Assert.DoesNotContain("do-not-print-me", output);
        Assert.DoesNotContain("c2VjcmV0", output);
        if (output.Contains("--token", StringComparison.Ordinal)) Assert.Contains("$CXMESH_TOKEN, set", output);
    }

    [Fact]
    public void A_score_without_responses_reads_no_responses_and_a_thin_one_says_it_is_thin()
    {
        var none = new Score { N = 0, HasValue = false, StartDate = "2026-11-01", EndDate = "2026-11-30", Source = "store", LowConfidence = true, LowConfidenceReason = "no responses" };
        Assert.Equal("NPS: no responses 2026-11-01..2026-11-30 [store]", ScoreLine.Of(Metric.Nps, none));

        var one = new Score
        {
            N = 1,
            HasValue = true,
            HasMargin = false,
            Value = 100,
            Promoters = 1,
            StartDate = "2026-11-01",
            EndDate = "2026-11-30",
            Source = "store",
            LowConfidence = true,
            LowConfidenceReason = "too few responses: 1, fewer than the 30 a figure needs to stand on its own"
        };
        var line = ScoreLine.Of(Metric.Nps, one);
        Assert.StartsWith("NPS +100.0 (n=1:", line); // no "± 0.0": one response has no spread
        Assert.Contains("too few responses to read on its own", line);
    }

    [Fact]
    public void A_usage_mistake_exits_64_and_points_at_help_a_bad_address_too()
    {
        var (exit, output) = Cli(new Dictionary<string, string>(), "score", "--jorney", "x");
        Assert.Equal(64, exit);
        Assert.Contains("See 'cxmesh score --help'.", output);
        (exit, output) = Cli(new Dictionary<string, string>(), "feedback", "get", "x", "--grpc", "ftp://example.com");
        Assert.Equal(64, exit);
        Assert.Contains("--grpc: 'ftp://example.com' is not an address", output);
        (exit, _) = Cli(new Dictionary<string, string>(), "score", "--output", "yaml");
        Assert.Equal(64, exit);
    }

    [Theory]
    [InlineData("http")]
    [InlineData("https")]
    public void A_server_that_is_not_there_is_named_and_exits_69_without_a_stack_trace(string scheme)
    {
        var address = $"{scheme}://127.0.0.1:{TestKit.Ports.Free()}";
        var (exit, output) = Cli(new Dictionary<string, string> { ["CXMESH_GRPC"] = address }, "feedback", "list");
        Assert.Equal(69, exit);
        Assert.Contains($"Cannot reach cxmesh-server at {address}", output);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Unhandled exception", output);
    }

    [Fact]
    public async Task Against_a_server_json_output_auth_failures_and_missing_items_are_clear_and_sysexits()
    {
        await using var host = await TestKit.CxMeshTestHost.StartAsync(s => { s.Services = "feedback"; s.ListenOnLoopback = true; });
        var app = new Dictionary<string, string> { ["CXMESH_GRPC"] = host.GrpcAddress!, ["CXMESH_TOKEN"] = host.Token(Platform.Auth.Roles.Admin) };

        var (exit, output) = Cli(app, "submit", "--nps", "3", "--verbatim", "Late again.", "--output", "json");
        Assert.True(exit == 0, output);
        var id = System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("item").GetProperty("id").GetString()!;
        (exit, output) = Cli(app, "feedback", "get", id, "-o", "json");
        Assert.True(exit == 0, output);
        var item = System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("item");
        Assert.Equal((id, "Late again."), (item.GetProperty("id").GetString(), item.GetProperty("redactedVerbatim").GetString()));
        (exit, output) = Cli(app, "feedback", "list", "--limit", "5");
        Assert.True(exit == 0, output);
        Assert.Contains(id, output);
        Assert.Contains("1 items.", output);

        (exit, output) = Cli(app, "feedback", "get", Guid.NewGuid().ToString());
        Assert.Equal(66, exit);
        Assert.Contains("reason: NOT_FOUND, trace id ", output);

        var anonymous = new Dictionary<string, string> { ["CXMESH_GRPC"] = host.GrpcAddress! };
        (exit, output) = Cli(anonymous, "feedback", "list");
        Assert.Equal(77, exit);
        Assert.Contains($"cxmesh-server at {host.GrpcAddress} refused the call", output);
        Assert.Contains("no token was sent", output);

        var analyst = new Dictionary<string, string> { ["CXMESH_GRPC"] = host.GrpcAddress!, ["CXMESH_TOKEN"] = host.Token(Platform.Auth.Roles.Analyst, subject: "ana") };
        (exit, output) = Cli(analyst, "profile", "delete", "any");
        Assert.Equal(77, exit);
        Assert.Contains("needs the role admin; the token has analyst", output);
        Assert.Contains("you sent a token with role analyst for ana", output);
    }

    [Fact]
    public async Task Value_and_stages_print_their_tables_and_json_and_refuse_a_bad_month_naming_it()
    {
        await using var host = await TestKit.CxMeshTestHost.StartAsync(s => { s.Services = "scoring"; s.ListenOnLoopback = true; });
        var analyst = new Dictionary<string, string> { ["CXMESH_GRPC"] = host.GrpcAddress!, ["CXMESH_TOKEN"] = host.Token(Platform.Auth.Roles.Analyst) };

        var (exit, output) = Cli(analyst, "value");
        Assert.True(exit == 0, output);
        Assert.Contains("each customer followed through the month after", output);
        Assert.Contains("detractor", output);
        Assert.Contains("Journey vs touchpoint: no answers about a journey or a touchpoint in these months.", output);
        (exit, output) = Cli(analyst, "value", "--journey", "coffee-club", "-o", "json");
        Assert.True(exit == 0, output);
        Assert.Equal(3, System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("classes").GetArrayLength());

        (exit, output) = Cli(analyst, "stages");
        Assert.True(exit == 0, output);
        Assert.Contains("prospect", output);
        Assert.Contains("partner", output);
        Assert.Contains("(model version 1)", output);
        (exit, output) = Cli(analyst, "stages", "paths", "--stage", "repeat");
        Assert.True(exit == 0, output);
        Assert.Contains("0 of 0 active customer-months moved up", output);
        (exit, output) = Cli(analyst, "stages", "customer", "nobody-known");
        Assert.True(exit == 0, output);
        Assert.Contains("nobody-known: not known to scoring.", output);

        (exit, output) = Cli(analyst, "value", "--from", "2026-13", "--to", "2026-12");
        Assert.Equal(65, exit);
        Assert.Contains("start_month", output);
        (exit, output) = Cli(analyst, "stages", "paths", "--stage", "no-such-stage");
        Assert.Equal(66, exit);
    }

    [Fact]
    public async Task Bench_loads_a_server_from_outside_and_reports_its_figures_with_the_servers_CPU()
    {
        await using var host = await TestKit.CxMeshTestHost.StartAsync(s => { s.Services = "feedback,scoring"; s.ListenOnLoopback = true; s.Settings["CxMesh:Delivery"] = "InProcess"; });
        var app = new Dictionary<string, string> { ["CXMESH_GRPC"] = host.GrpcAddress!, ["CXMESH_TOKEN"] = host.Token(Platform.Auth.Roles.App) };
        // The host runs in this test's process: that is the server whose CPU is read.
        var pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        static System.Text.Json.JsonElement Json(string output) => System.Text.Json.JsonDocument.Parse(output).RootElement;

        var (exit, output) = Cli(app, "bench", "ingest", "--items", "300", "--batch", "100", "--streams", "2", "--server-pid", pid, "-o", "json");
        Assert.True(exit == 0, output);
        var ingest = Json(output);
        Assert.Equal((300, 300, 0), (ingest.GetProperty("items").GetInt32(), ingest.GetProperty("stored").GetInt32(), ingest.GetProperty("refused").GetInt32()));
        Assert.True(ingest.GetProperty("items_per_second").GetDouble() > 0);
        Assert.True(ingest.GetProperty("server_cpu_us_per_item").GetDouble() > 0, output);
        Assert.True(ingest.GetProperty("client_cpu_us_per_item").GetDouble() > 0, output);
        var scoring = host.Client<ScoringService.ScoringServiceClient>(Platform.Auth.Roles.Analyst);
        var stored = await TestKit.Eventually.Until(
            async () => (await scoring.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Journey, Value = "bench-coffee" } } }, Window = new Window { LastDays = 60 } })).Score,
            s => s.N == 300);
        Assert.Equal(300, stored.N);

        (exit, output) = Cli(app, "bench", "read", "--journey", "bench-coffee", "--seconds", "1", "--concurrency", "4", "-o", "json");
        Assert.True(exit == 0, output);
        var read = Json(output);
        Assert.True(read.GetProperty("calls").GetInt64() > 0 && read.GetProperty("p99_ms").GetDouble() > 0, output);
        Assert.Equal(read.GetProperty("calls_per_second").GetDouble(), read.GetProperty("scores_per_second").GetDouble(), 3);

        (exit, output) = Cli(app, "bench", "read", "--batch", "5", "--seconds", "1", "--concurrency", "2", "-o", "json");
        Assert.True(exit == 0, output);
        read = Json(output);
        Assert.Equal(5 * read.GetProperty("calls_per_second").GetDouble(), read.GetProperty("scores_per_second").GetDouble(), 1);

        (exit, output) = Cli(app, "bench", "freshness", "--rate", "100", "--seconds", "2", "-o", "json");
        Assert.True(exit == 0, output);
        var freshness = Json(output);
        Assert.True(freshness.GetProperty("probes").GetInt32() >= 1, output);
        Assert.True(freshness.GetProperty("ack_to_hot_score_p99_ms").GetDouble() > 0, output);

        (exit, output) = Cli(app, "bench", "ingest", "--items", "0");
        Assert.Equal(64, exit);
        Assert.Contains("--items must be 1 to 10,000,000.", output);
        (exit, output) = Cli(app, "bench", "read", "--server-pid", "999999999", "--seconds", "1");
        Assert.Equal(64, exit);
        Assert.Contains("--server-pid: no process 999999999", output);
    }

    [Fact]
    public async Task Units_are_saved_compared_and_scored_and_praise_is_listed_from_the_command_line()
    {
        await using var host = await TestKit.CxMeshTestHost.StartAsync(s => { s.Services = "feedback,scoring"; s.ListenOnLoopback = true; s.Settings["CxMesh:Delivery"] = "InProcess"; });
        var admin = new Dictionary<string, string> { ["CXMESH_GRPC"] = host.GrpcAddress!, ["CXMESH_TOKEN"] = host.Token(Platform.Auth.Roles.Admin) };

        var (exit, output) = Cli(admin, "units", "save", "cli-shop", "--kind", "store", "--name", "CLI shop");
        Assert.True(exit == 0, output);
        Assert.Contains("Registered store cli-shop (CLI shop).", output);
        (exit, output) = Cli(admin, "units", "save", "cli-shop-ana", "--kind", "agent", "--name", "Ana Lima", "--parent", "cli-shop", "--alias", "Ana");
        Assert.True(exit == 0, output);
        (exit, output) = Cli(admin, "units", "save", "cli-shop-2", "--kind", "agent", "--name", "Bo", "--parent", "cli-shop-ana");
        Assert.Equal(65, exit);
        Assert.Contains("unit.parent_key", output);
        (exit, output) = Cli(admin, "units", "list", "--parent", "cli-shop", "-o", "json");
        Assert.True(exit == 0, output);
        Assert.Equal("cli-shop-ana", System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("units")[0].GetProperty("key").GetString());

        var feedback = host.Client<CxMesh.Feedback.V1.FeedbackService.FeedbackServiceClient>(Platform.Auth.Roles.App);
        await feedback.SubmitFeedbackAsync(new CxMesh.Feedback.V1.SubmitFeedbackRequest
        {
            IdempotencyKey = "cli-units-1",
            Channel = CxMesh.Common.V1.Channel.Survey,
            Verbatim = "Ana was wonderful, thank you!",
            Ratings = { new CxMesh.Feedback.V1.Rating { QuestionId = "nps", Value = 10 } },
            Links = new CxMesh.Feedback.V1.Links { UnitKey = "cli-shop-ana" },
        });
        (exit, output) = Cli(admin, "praise", "--unit", "cli-shop", "--below");
        Assert.True(exit == 0, output);
        Assert.Contains("Ana Lima (cli-shop-ana), from a customer: “Ana was wonderful, thank you!”", output);

        var scorecard = "";
        for (var i = 0; i < 50 && !scorecard.Contains("n=1", StringComparison.Ordinal); i++)
        {
            await Task.Delay(200);
            (exit, scorecard) = Cli(admin, "units", "scorecard", "cli-shop");
        }
        Assert.True(exit == 0, scorecard);
        Assert.Contains("store cli-shop (CLI shop)", scorecard);
        Assert.Contains("NPS +100.0 (n=1", scorecard);
        Assert.Contains("Praise: 1 in the window (with the unit under it).", scorecard);
        (exit, output) = Cli(admin, "units", "compare");
        Assert.True(exit == 0, output);
        Assert.Contains("cli-shop (CLI shop)", output);
        Assert.Contains("Correlation: needs at least 4 units", output);
        (exit, output) = Cli(admin, "units", "scorecard", "no-such-unit");
        Assert.Equal(66, exit);
    }
}
