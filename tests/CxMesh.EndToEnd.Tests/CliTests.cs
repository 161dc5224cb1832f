using System.Diagnostics;
using CxMesh.Cli;
using CxMesh.Common.V1;
using CxMesh.Scoring.V1;

namespace CxMesh.EndToEnd.Tests;

/// <summary>The command line as a person meets it.</summary>
public sealed class CliTests
{
    private static (int Exit, string Output) Cli(IDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cxmesh.dll"));
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
}
