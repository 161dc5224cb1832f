using System.Diagnostics;

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
}
