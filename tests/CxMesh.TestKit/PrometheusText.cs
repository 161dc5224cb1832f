using System.Globalization;
using System.Text.RegularExpressions;

namespace CxMesh.TestKit;

/// <summary>Reads samples from a Prometheus text exposition (what /metrics serves).</summary>
public static partial class PrometheusText
{
    /// <summary>The sum of the samples of <paramref name="name"/> whose labels include every one given (null when there is none).</summary>
    public static double? Value(string exposition, string name, params (string Label, string Value)[] labels)
    {
        double? sum = null;
        foreach (Match m in Sample().Matches(exposition))
        {
            if (m.Groups["name"].Value != name) continue;
            var found = Label().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value);
            if (labels.Any(l => !found.TryGetValue(l.Label, out var v) || v != l.Value)) continue;
            sum = (sum ?? 0) + double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return sum;
    }

    /// <summary>Reads the endpoint's exposition.</summary>
    public static async Task<string> ScrapeAsync(HttpClient http, string path = "/metrics")
    {
        using var response = await http.GetAsync(path);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>[^ \n]+)", RegexOptions.Multiline)]
    private static partial Regex Sample();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
