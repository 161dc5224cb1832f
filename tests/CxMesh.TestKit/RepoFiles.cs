namespace CxMesh.TestKit;

/// <summary>Files of the repository the tests run from (samples, protos), found above the test's directory.</summary>
public static class RepoFiles
{
    public static string Root { get; } = FindRoot();

    /// <summary>A file of <c>samples/</c>, as bytes (exports are read as a client would send them).</summary>
    public static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(Root, "samples", name));

    private static string FindRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "CxMesh.sln"))) root = root.Parent ?? throw new InvalidOperationException("CxMesh.sln not found above the test's directory.");
        return root.FullName;
    }
}
