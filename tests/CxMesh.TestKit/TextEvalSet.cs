using System.Text.Json;

namespace CxMesh.TestKit;

/// <summary>One labelled verbatim of the text evaluation set (tests/text-eval/items.jsonl; see its README).</summary>
public sealed record TextEvalItem(
    string Id, string Lang, string Text, string Sentiment, IReadOnlyList<string> Phenomena, IReadOnlyList<string> Themes,
    IReadOnlyList<string> Personal, IReadOnlyList<string> Keep);

/// <summary>The labelled evaluation set that text understanding is measured on (benchmark <c>text-eval</c>).</summary>
public static class TextEvalSet
{
    public static string Path { get; } = System.IO.Path.Combine(RepoFiles.Root, "tests", "text-eval", "items.jsonl");

    /// <summary>Written after the lexicons were tuned on <see cref="Path"/>, and never tuned on: the honest figure.</summary>
    public static string HoldoutPath { get; } = System.IO.Path.Combine(RepoFiles.Root, "tests", "text-eval", "holdout.jsonl");

    public static IReadOnlyList<TextEvalItem> Load() => Load(Path);

    public static IReadOnlyList<TextEvalItem> LoadHoldout() => Load(HoldoutPath);

    private static List<TextEvalItem> Load(string path) =>
        File.ReadLines(path).Where(l => l.Trim().Length > 0)
            .Select(l => JsonSerializer.Deserialize<TextEvalItem>(l, new JsonSerializerOptions(JsonSerializerDefaults.Web))!)
            .ToList();
}
