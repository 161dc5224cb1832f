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

    /// <summary>Written after the lexicons were tuned on <see cref="Path"/>; measured, then a general vocabulary pass followed (see the README).</summary>
    public static string HoldoutPath { get; } = System.IO.Path.Combine(RepoFiles.Root, "tests", "text-eval", "holdout.jsonl");

    public static IReadOnlyList<TextEvalItem> Load() => Load(Path);

    public static IReadOnlyList<TextEvalItem> LoadHoldout() => Load(HoldoutPath);

    /// <summary>Written after the vocabulary pass that followed the first held-out measurement: never seen by any tuning.</summary>
    public static string SecondHoldoutPath { get; } = System.IO.Path.Combine(RepoFiles.Root, "tests", "text-eval", "holdout-2.jsonl");

    public static IReadOnlyList<TextEvalItem> LoadSecondHoldout() => Load(SecondHoldoutPath);

    private static List<TextEvalItem> Load(string path) =>
        File.ReadLines(path).Where(l => l.Trim().Length > 0)
            .Select(l => JsonSerializer.Deserialize<TextEvalItem>(l, new JsonSerializerOptions(JsonSerializerDefaults.Web))!)
            .ToList();
}
