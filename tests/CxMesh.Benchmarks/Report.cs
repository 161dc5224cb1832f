using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace CxMesh.Benchmarks;

/// <summary>
/// Turns the figures of a <c>./bench.sh</c> run (JSON lines, see <see cref="Results"/>) into <c>results.json</c> and
/// <c>results.md</c>; with a committed <c>results.json</c> to compare with, writes <c>compare.md</c> instead and fails when
/// a ratio fell by more than a fifth. Only ratios are compared: each was measured against its anchor in the same run,
/// so a slower or busier machine moves both sides.
/// </summary>
internal static class Report
{
    public const double AllowedFall = 0.2;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public sealed record Machine(int Cores, string Os, string Runtime, string Commit, string LoadAverage);

    public sealed record ResultsFile(string MeasuredAt, Machine Machine, List<Results.Figure> Figures);

    public static int Run(string figuresPath, string outDir, string? compareWith)
    {
        var figures = File.ReadAllLines(figuresPath).Where(l => l.Trim().Length > 0)
            .Select(l => JsonSerializer.Deserialize<Results.Figure>(l) ?? throw new InvalidDataException($"not a figure: {l}")).ToList();
        var run = new ResultsFile(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture), new Machine(
            Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
            Environment.GetEnvironmentVariable("CXMESH_BENCH_COMMIT") ?? "", Environment.GetEnvironmentVariable("CXMESH_BENCH_LOAD") ?? ""), figures);
        Directory.CreateDirectory(outDir);
        if (compareWith is null)
        {
            File.WriteAllText(Path.Combine(outDir, "results.json"), JsonSerializer.Serialize(run, Json) + "\n");
            File.WriteAllText(Path.Combine(outDir, "results.md"), Markdown(run, null));
            Console.WriteLine($"{figures.Count} figures written to {outDir}/results.md and results.json");
            return 0;
        }
        var committed = JsonSerializer.Deserialize<ResultsFile>(File.ReadAllText(compareWith)) ?? throw new InvalidDataException($"{compareWith} holds no results");
        var before = committed.Figures.Where(f => f.Ratio is not null).ToDictionary(f => (f.Benchmark, f.Name), f => f.Ratio!.Value);
        File.WriteAllText(Path.Combine(outDir, "compare.md"), Markdown(run, before));
        var fell = figures.Where(f => f.Ratio is { } now && before.TryGetValue((f.Benchmark, f.Name), out var then) && now < then * (1 - AllowedFall)).ToList();
        foreach (var f in fell)
        {
            Console.WriteLine($"FELL: {f.Benchmark} / {f.Name}: {f.Ratio:0.###}x, was {before[(f.Benchmark, f.Name)]:0.###}x (more than {AllowedFall:P0} lower)");
        }
        Console.WriteLine($"{figures.Count} figures compared with {compareWith} (measured {committed.MeasuredAt}): {fell.Count} ratio(s) fell by more than {AllowedFall:P0}; see {outDir}/compare.md");
        return fell.Count > 0 ? 1 : 0;
    }

    private static string Markdown(ResultsFile run, Dictionary<(string, string), double>? before)
    {
        var md = new StringBuilder();
        md.AppendLine(before is null ? "# CxMesh benchmark results" : "# CxMesh benchmarks compared with the committed results");
        md.AppendLine();
        md.AppendLine($"Measured {run.MeasuredAt} by `./bench.sh` on {run.Machine.Cores} cores, {run.Machine.Os}, {run.Machine.Runtime}" +
            $"{(run.Machine.Commit.Length > 0 ? $", commit {run.Machine.Commit}" : "")}{(run.Machine.LoadAverage.Length > 0 ? $", load average before the run {run.Machine.LoadAverage}" : "")}.");
        md.AppendLine("Each ratio is the figure over its anchor measured in the same run; aims are from issue #22. Not part of `./test.sh`.");
        md.AppendLine();
        md.AppendLine(before is null
            ? "| benchmark | figure | value | anchor in the same run | ratio | aim | met |\n| --- | --- | --- | --- | --- | --- | --- |"
            : "| benchmark | figure | value | anchor in the same run | ratio | committed ratio | change |\n| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var f in run.Figures)
        {
            var anchor = f.Anchor is null ? "" : $"{f.Anchor}: {Number(f.AnchorValue!.Value)} {f.Unit}";
            var ratio = f.Ratio is { } r ? $"{r:0.00}x" : "";
            string last;
            if (before is null)
            {
                last = $"{f.Aim ?? ""} | {(f.Met switch { true => "yes", false => "**no**", null => "" })}";
            }
            else if (f.Ratio is { } now && before.TryGetValue((f.Benchmark, f.Name), out var then))
            {
                var change = now / then - 1;
                last = $"{then:0.00}x | {(change < -AllowedFall ? $"**{change:+0%;-0%}**" : $"{change:+0%;-0%}")}";
            }
            else
            {
                last = " | ";
            }
            md.AppendLine($"| {f.Benchmark} | {f.Name} | {Number(f.Value)} {f.Unit} | {anchor} | {ratio} | {last} |");
        }
        return md.ToString();
    }

    private static string Number(double v) => Math.Abs(v) >= 100 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("0.##", CultureInfo.InvariantCulture);
}
