using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CxMesh.Deploy.Tests;

/// <summary>YAML as Helm reads it (plain scalars typed as YAML 1.1 core types), turned into JSON, and Helm's values merge.</summary>
internal static partial class Yaml
{
    public static string RepoRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CxMesh.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("CxMesh.sln not found above the test's directory.");
    }

    public static string Chart(params string[] parts) => Path.Combine([RepoRoot, "charts", "cxmesh", .. parts]);

    public static IReadOnlyList<JsonNode?> LoadAll(string path)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(File.ReadAllText(path));
        stream.Load(reader);
        return stream.Documents.Select(d => ToJson(d.RootNode)).ToList();
    }

    public static JsonNode? Load(string path) => LoadAll(path).Single();

    public static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv =>
            KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidOperationException($"unsupported YAML node {node.NodeType}"),
    };

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex Integer();

    [GeneratedRegex("^[-+]?([0-9]*\\.[0-9]+|[0-9]+\\.)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded) return JsonValue.Create(text);
        if (text is "" or "~" or "null" or "Null" or "NULL") return null;
        if (text is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (text is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (Integer().IsMatch(text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (Float().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
        return JsonValue.Create(text);
    }

    /// <summary>Helm's merge of a values file over the chart's: maps merge key by key, anything else replaces.</summary>
    public static JsonNode? Merge(JsonNode? baseValues, JsonNode? overlay)
    {
        if (baseValues is JsonObject b && overlay is JsonObject o)
        {
            var merged = (JsonObject)b.DeepClone();
            foreach (var (key, value) in o)
            {
                merged[key] = merged.TryGetPropertyValue(key, out var existing) ? Merge(existing, value) : value?.DeepClone();
            }
            return merged;
        }
        return overlay?.DeepClone();
    }
}
