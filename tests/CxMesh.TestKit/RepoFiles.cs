namespace CxMesh.TestKit;

/// <summary>Files of the repository the tests run from (samples, protos), found above the test's directory.</summary>
public static class RepoFiles
{
    public static string Root { get; } = FindRoot();

    /// <summary>A file of <c>samples/</c>, as bytes (exports are read as a client would send them).</summary>
    public static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(Root, "samples", name));

    /// <summary>
    /// A program of the repository as built for this test run (same configuration), from its own output folder with
    /// its own dependencies, as a person runs it: e.g. <c>Built("CxMesh.Cli", "cxmesh.dll")</c>.
    /// </summary>
    public static string Built(string project, string dll) => Path.Combine(Root, "services", project, "bin",
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug",
        "net10.0", dll);

    /// <summary>Runs a built program with <c>dotnet</c>, the given environment added; its exit code and everything it printed.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string FindRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "CxMesh.sln"))) root = root.Parent ?? throw new InvalidOperationException("CxMesh.sln not found above the test's directory.");
        return root.FullName;
    }
}
