using System.Text.RegularExpressions;
using CxMesh.TestKit;

namespace CxMesh.Architecture.Tests;

/// <summary>
/// One style for the JSON API's routes (AIP-122/136): collections and fixed segments in kebab-case, custom methods after
/// a colon in lowerCamelCase. A deprecated spelling may stay as an additional binding, never as the primary route.
/// </summary>
public sealed partial class HttpRouteTests
{
    [Fact]
    public void Every_primary_route_is_kebab_case_with_lower_camel_custom_methods()
    {
        var problems = new List<string>();
        var routes = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(RepoFiles.Root, "protos", "cxmesh"), "*.proto", SearchOption.AllDirectories))
        {
            foreach (var line in File.ReadLines(file))
            {
                if (line.Contains("additional_bindings", StringComparison.Ordinal)) continue;
                foreach (Match m in Binding().Matches(line))
                {
                    routes++;
                    var path = m.Groups["path"].Value;
                    var verb = path.LastIndexOf(':') is var colon and > 0 && !path[colon..].Contains('}') ? path[(colon + 1)..] : null;
                    var segments = (verb is null ? path : path[..path.LastIndexOf(':')]).Split('/', StringSplitOptions.RemoveEmptyEntries);
                    foreach (var segment in segments.Where(s => !s.StartsWith('{')))
                    {
                        if (!Kebab().IsMatch(segment)) problems.Add($"{Path.GetFileName(file)}: {path}: segment '{segment}' is not kebab-case");
                    }
                    if (verb is not null && !LowerCamel().IsMatch(verb)) problems.Add($"{Path.GetFileName(file)}: {path}: custom method ':{verb}' is not lowerCamelCase");
                }
            }
        }
        Assert.True(routes > 100, $"only {routes} routes found");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [GeneratedRegex(@"\b(get|post|put|patch|delete): ""(?<path>[^""]+)""")]
    private static partial Regex Binding();

    [GeneratedRegex(@"^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex Kebab();

    [GeneratedRegex(@"^[a-z]+([A-Z][a-z0-9]*)*$")]
    private static partial Regex LowerCamel();
}
