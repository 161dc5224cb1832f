using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CxMesh.Host;
using NJsonSchema;
using NJsonSchema.Validation;

namespace CxMesh.Deploy.Tests;

/// <summary>The chart's values against its schema, and its templates against its values.</summary>
public sealed partial class ChartValuesTests
{
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromJsonAsync(File.ReadAllText(Yaml.Chart("values.schema.json"))).GetAwaiter().GetResult());

    private static JsonNode Defaults => Yaml.Load(Yaml.Chart("values.yaml"))!;

    private static ICollection<ValidationError> Validate(JsonNode values) => Schema.Value.Validate(values.ToJsonString());

    private static IEnumerable<ValidationError> Flatten(IEnumerable<ValidationError> errors) =>
        errors.SelectMany(e => e is ChildSchemaValidationError child
            ? new[] { e }.Concat(Flatten(child.Errors.SelectMany(kv => kv.Value)))
            : [e]);

    private static string Describe(IEnumerable<ValidationError> errors) => string.Join("; ", Flatten(errors).Select(e => $"{e.Path}: {e.Kind}"));

    [Fact]
    public void The_default_values_satisfy_the_schema()
    {
        var errors = Validate(Defaults);
        Assert.True(errors.Count == 0, Describe(errors));
    }

    [Fact]
    public void The_dev_values_merged_over_the_defaults_satisfy_the_schema()
    {
        var errors = Validate(Yaml.Merge(Defaults, Yaml.Load(Yaml.Chart("values-dev.yaml")))!);
        Assert.True(errors.Count == 0, Describe(errors));
    }

    public static TheoryData<string> BadValueFiles =>
        new(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "BadValues"), "*.yaml").Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(BadValueFiles))]
    public void The_schema_rejects_wrong_values_naming_the_key(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "BadValues", file);
        var expected = Regex.Match(File.ReadLines(path).First(), "^# rejects: (.+)$").Groups[1].Value.Trim();
        Assert.False(string.IsNullOrEmpty(expected), $"{file} must start with '# rejects: <key>'");
        var errors = Flatten(Validate(Yaml.Merge(Defaults, Yaml.Load(path))!)).ToList();
        Assert.NotEmpty(errors);
        Assert.Contains(errors, e => e.Path is not null && e.Path.TrimStart('#', '/').Replace('/', '.').Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_service_the_server_hosts_has_values_and_a_template()
    {
        var services = Defaults["services"]!.AsObject();
        foreach (var module in Modules.All)
        {
            Assert.True(services.ContainsKey(module.Name), $"values.yaml has no services.{module.Name}");
            var template = File.ReadAllText(Yaml.Chart("templates", $"{module.Name}.yaml"));
            Assert.Contains($"\"name\" \"{module.Name}\"", template);
        }
        // The services that own data (databases, migrations, Dapr): every module but the web one.
        Assert.Equal(Modules.All.Select(m => m.Name).Where(n => n != CxMesh.Web.WebModule.Name), File.ReadAllText(Yaml.Chart("templates", "_helpers.tpl"))
            .Split("define \"cxmesh.serviceNames\" -}}")[1].Split("{{-")[0].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [GeneratedRegex(@"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")]
    private static partial Regex ValuesPath();

    [GeneratedRegex(@"\$(\w+)\s*:=\s*(?:\$\w*)?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")]
    private static partial Regex VariableFromValues();

    [GeneratedRegex(@"\$(\w+)\s*:=\s*index\s+\$\w*\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s+\$\w+")]
    private static partial Regex VariableFromIndexedValues();

    [GeneratedRegex(@"range\s+\$\w+\s*,\s*\$(\w+)\s*:=\s*(?:\$\w*)?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")]
    private static partial Regex VariableFromRangedValues();

    [GeneratedRegex(@"\$(\w+)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")]
    private static partial Regex VariablePath();

    private static bool Exists(JsonNode? node, IEnumerable<string> path)
    {
        foreach (var part in path)
        {
            if (node is not JsonObject o || !o.TryGetPropertyValue(part, out node)) return false;
        }
        return true;
    }

    [Fact]
    public void Every_value_a_template_reads_is_defined_in_values_yaml()
    {
        var values = Defaults;
        var missing = new List<string>();
        var checkedPaths = 0;
        foreach (var file in Directory.GetFiles(Yaml.Chart("templates")))
        {
            var text = File.ReadAllText(file);
            foreach (Match m in ValuesPath().Matches(text))
            {
                checkedPaths++;
                if (!Exists(values, m.Groups[1].Value.TrimStart('.').Split('.'))) missing.Add($"{Path.GetFileName(file)}: .Values{m.Groups[1].Value}");
            }
            // Variables bound to a part of the values ($np := $root.Values.networkPolicy; $svc := index $root.Values.services $name).
            var bound = new Dictionary<string, IReadOnlyList<JsonNode?>>();
            foreach (Match m in VariableFromValues().Matches(text))
            {
                var path = m.Groups[2].Value.TrimStart('.').Split('.');
                bound[m.Groups[1].Value] = [path.Aggregate((JsonNode?)values, (n, p) => n?[p])];
            }
            foreach (Match m in VariableFromIndexedValues().Matches(text))
            {
                var parent = m.Groups[2].Value.TrimStart('.').Split('.').Aggregate((JsonNode?)values, (n, p) => n?[p]) as JsonObject;
                bound[m.Groups[1].Value] = parent?.Select(kv => kv.Value).ToList() ?? [];
            }
            // A variable ranging over a map the operator fills ($name, $connector := .Values.connectors.sources, empty by
            // default): its keys are those the schema gives the map's entries.
            var entries = new Dictionary<string, ICollection<string>>();
            foreach (Match m in VariableFromRangedValues().Matches(text))
            {
                var schema = m.Groups[2].Value.TrimStart('.').Split('.').Aggregate((JsonSchema?)Schema.Value, (n, p) => n?.ActualProperties.TryGetValue(p, out var child) == true ? child.ActualSchema : null);
                entries[m.Groups[1].Value] = schema?.AdditionalPropertiesSchema?.ActualProperties.Keys.ToList() ?? [];
                bound.Remove(m.Groups[1].Value);
            }
            foreach (Match m in VariablePath().Matches(text))
            {
                if (entries.TryGetValue(m.Groups[1].Value, out var keys))
                {
                    checkedPaths++;
                    if (!keys.Contains(m.Groups[2].Value.TrimStart('.').Split('.')[0])) missing.Add($"{Path.GetFileName(file)}: ${m.Groups[1].Value}{m.Groups[2].Value} (not in the schema of the map's entries)");
                    continue;
                }
                if (!bound.TryGetValue(m.Groups[1].Value, out var roots)) continue;
                checkedPaths++;
                var path = m.Groups[2].Value.TrimStart('.').Split('.');
                if (roots.Count == 0 || roots.Any(r => !Exists(r, path))) missing.Add($"{Path.GetFileName(file)}: ${m.Groups[1].Value}{m.Groups[2].Value}");
            }
        }
        Assert.True(checkedPaths > 50, $"only {checkedPaths} value references found: is the scan broken?");
        Assert.True(missing.Count == 0, "not in values.yaml: " + string.Join(", ", missing.Distinct()));
    }

    [Fact]
    public void Values_yaml_documents_every_key()
    {
        // Every key has a comment on the line above or at its end; the services after the first repeat its keys and
        // are documented once, on their own line ("keys as for journey").
        var lines = File.ReadAllLines(Yaml.Chart("values.yaml"));
        var undocumented = new List<string>();
        string? previous = null;
        var inRepeatedService = false;
        foreach (var line in lines)
        {
            var key = Regex.Match(line, @"^(\s*)([A-Za-z][\w-]*):");
            if (key.Success)
            {
                var indent = key.Groups[1].Value.Length;
                if (indent <= 2) inRepeatedService = indent == 2 && previous?.Contains("keys as for journey", StringComparison.Ordinal) == true;
                var documented = line.Contains('#') || previous?.TrimStart().StartsWith('#') == true;
                if (!documented && !(inRepeatedService && indent > 2)) undocumented.Add(line.Trim());
            }
            if (line.Trim().Length > 0) previous = line;
        }
        Assert.True(undocumented.Count == 0, "keys without a comment: " + string.Join(", ", undocumented));
    }
}
