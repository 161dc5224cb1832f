using System.Text.Json;
using System.Text.Json.Serialization;

namespace CxMesh.Benchmarks;

/// <summary>
/// The figures a benchmark reports, for <c>./bench.sh</c>: one JSON object a line, appended to the file named by
/// <c>CXMESH_BENCH_RESULTS</c> when it is set. A ratio is the figure over its anchor measured in the same run; the
/// aim, when there is one, says which side of it the ratio (or the value, without an anchor) must be.
/// </summary>
internal static class Results
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    private static readonly Lock Gate = new();

    public sealed record Figure(
        string Benchmark, string Name, double Value, string Unit, string? Anchor, double? AnchorValue, double? Ratio, string? Aim, bool? Met);

    /// <summary>The benchmark now running (set by Program from its first argument).</summary>
    public static string Benchmark { get; set; } = "";

    /// <summary>A figure without an anchor (a latency, a rate); <paramref name="atMost"/>/<paramref name="atLeast"/> is its aim.</summary>
    public static void Add(string name, double value, string unit, double? atMost = null, double? atLeast = null) =>
        Write(new Figure(Benchmark, name, value, unit, null, null, null, Aim(atMost, atLeast, unit), Met(value, atMost, atLeast)));

    /// <summary>A figure with its anchor from the same run; the ratio (value / anchor) is what is compared between runs.</summary>
    public static void AddRatio(string name, double value, string unit, string anchor, double anchorValue, double? atLeast = null)
    {
        var ratio = Math.Round(value / anchorValue, 3);
        Write(new Figure(Benchmark, name, value, unit, anchor, anchorValue, ratio, atLeast is { } a ? $">= {a:0.##}x" : null, atLeast is { } min ? ratio >= min : null));
    }

    private static string? Aim(double? atMost, double? atLeast, string unit) =>
        atMost is { } most ? $"<= {most:0.##} {unit}" : atLeast is { } least ? $">= {least:0.##} {unit}" : null;

    private static bool? Met(double value, double? atMost, double? atLeast) =>
        atMost is { } most ? value <= most : atLeast is { } least ? value >= least : null;

    private static void Write(Figure figure)
    {
        if (Environment.GetEnvironmentVariable("CXMESH_BENCH_RESULTS") is not { Length: > 0 } path) return;
        lock (Gate) File.AppendAllText(path, JsonSerializer.Serialize(figure, Json) + "\n");
    }
}
