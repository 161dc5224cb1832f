using System.Diagnostics;

namespace CxMesh.Deploy.Tests;

/// <summary>The real tools the chart is checked with: Helm, promtool and the offline manifest validator (see scripts/servers.sh).</summary>
internal static class Tools
{
    public static string Helm => Located("CXMESH_HELM", "cx_ensure_helm");
    public static string Promtool => Located("CXMESH_PROMTOOL", "cx_ensure_promtool");
    public static string ManifestValidator => Located("CXMESH_MANIFEST_VALIDATOR", "cx_ensure_manifest_validator");

    private static string Located(string variable, string function)
    {
        var path = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new InvalidOperationException(
                $"{variable} is not set to an existing file: run ./test.sh, or `source scripts/servers.sh && {function}` and export it.");
        }
        return path;
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stderr + Stdout;
    }

    public static Result Run(string file, IEnumerable<string> args, string? stdin = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = stdin is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Yaml.RepoRoot,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(120_000))
        {
            process.Kill(true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 120 s");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a command that must succeed, returning its output.</summary>
    public static string Succeed(string file, params string[] args)
    {
        var result = Run(file, args);
        Assert.True(result.ExitCode == 0, $"{Path.GetFileName(file)} {string.Join(' ', args)} exited {result.ExitCode}: {result.Output}");
        return result.Stdout;
    }
}
