using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace CxMesh.Deploy.Tests;

/// <summary>The Dockerfile against the code: it restores exactly cxmesh-server's project graph, from pinned images.</summary>
public sealed partial class ImageTests
{
    private static readonly string Dockerfile = File.ReadAllText(Path.Combine(Yaml.RepoRoot, "Dockerfile"));

    private static IEnumerable<string> ProjectGraph(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>([Path.GetFullPath(project)]);
        while (queue.Count > 0)
        {
            var current = queue.Dequeue();
            if (!seen.Add(current)) continue;
            foreach (var reference in XDocument.Load(current).Descendants("ProjectReference"))
            {
                queue.Enqueue(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(current)!, reference.Attribute("Include")!.Value)));
            }
        }
        return seen.Select(p => Path.GetRelativePath(Yaml.RepoRoot, p).Replace('\\', '/'));
    }

    [GeneratedRegex(@"^COPY (services/\S+\.csproj) ", RegexOptions.Multiline)]
    private static partial Regex CopiedProject();

    [Fact]
    public void The_restore_stage_copies_exactly_the_servers_project_graph()
    {
        var graph = ProjectGraph(Path.Combine(Yaml.RepoRoot, "services", "CxMesh.Host", "CxMesh.Host.csproj")).Order().ToList();
        var copied = CopiedProject().Matches(Dockerfile).Select(m => m.Groups[1].Value).Order().ToList();
        Assert.Equal(graph, copied);
    }

    [Fact]
    public void Base_images_are_pinned_by_digest_and_the_runtime_is_not_the_sdk()
    {
        var images = Regex.Matches(Dockerfile, @"^ARG (\w+_IMAGE)=(\S+)$", RegexOptions.Multiline).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.Equal(2, images.Count);
        Assert.All(images.Values, i => Assert.Matches(@"@sha256:[0-9a-f]{64}$", i));
        Assert.Contains("/dotnet/aspnet:", images["RUNTIME_IMAGE"]);
        Assert.Matches(@"FROM \$\{RUNTIME_IMAGE\} AS runtime[\s\S]*USER \$APP_UID", Dockerfile);
        var ignored = File.ReadAllLines(Path.Combine(Yaml.RepoRoot, ".dockerignore"));
        Assert.Contains("tests/", ignored);
        Assert.Contains("charts/", ignored);
        Assert.Contains("**/bin/", ignored);
    }
}
