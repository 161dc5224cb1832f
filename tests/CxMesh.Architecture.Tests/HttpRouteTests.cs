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

/// <summary>Every List method pages the same way (AIP-158): page_size and page_token in, next_page_token out.</summary>
public sealed class PagingConventionTests
{
    [Fact]
    public void Every_list_method_takes_page_size_and_page_token_and_returns_next_page_token()
    {
        var services = typeof(CxMesh.Feedback.V1.FeedbackService).Assembly.GetTypes()
            .Select(t => t.GetProperty("Descriptor", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static))
            .Where(p => p?.PropertyType == typeof(Google.Protobuf.Reflection.ServiceDescriptor))
            .Select(p => (Google.Protobuf.Reflection.ServiceDescriptor)p!.GetValue(null)!)
            .ToList();
        var lists = services.SelectMany(s => s.Methods).Where(m => m.Name.StartsWith("List", StringComparison.Ordinal)).ToList();
        Assert.True(lists.Count >= 28, $"{lists.Count} List methods found");
        var problems = new List<string>();
        foreach (var method in lists)
        {
            var size = method.InputType.FindFieldByName("page_size");
            var token = method.InputType.FindFieldByName("page_token");
            var next = method.OutputType.FindFieldByName("next_page_token");
            if (size?.FieldType != Google.Protobuf.Reflection.FieldType.Int32) problems.Add($"{method.FullName}: no int32 page_size");
            if (token?.FieldType != Google.Protobuf.Reflection.FieldType.String) problems.Add($"{method.FullName}: no string page_token");
            if (next?.FieldType != Google.Protobuf.Reflection.FieldType.String) problems.Add($"{method.FullName}: no string next_page_token");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
