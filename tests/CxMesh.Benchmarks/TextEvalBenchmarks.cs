using System.Diagnostics;
using CxMesh.Feedback.Domain.Text;
using CxMesh.TestKit;

namespace CxMesh.Benchmarks;

/// <summary>
/// Text understanding on the labelled set (tests/text-eval): sentiment accuracy per phenomenon and language, theme
/// precision / recall / F1, redaction recall and false redaction, and items per second per core.
/// </summary>
internal static class TextEvalBenchmarks
{
    private static string Label(Polarity polarity) => polarity switch
    {
        Polarity.Positive => "positive",
        Polarity.Negative => "negative",
        _ => "neutral",
    };

    public static void Run(int seconds)
    {
        var items = TextEvalSet.Load();
        var sentiment = new LexiconSentiment();
        var phones = new CxMesh.Feedback.LibPhoneNumberFinder();
        var results = items.Select(i => (Item: i, Analysis: TextAnalyzer.Analyze(i.Text, null, DefaultTaxonomy.Themes, sentiment, phones))).ToList();
        Console.WriteLine($"# Text evaluation: {items.Count} labelled items ({items.Count(i => i.Lang == "en")} English, {items.Count(i => i.Lang == "zh")} Chinese), {TextEvalSet.Path}");

        // Sentiment: the item's label against the analyser's polarity of the redacted text.
        bool Right((TextEvalItem Item, TextAnalysis Analysis) r) => Label(r.Analysis.Sentiment.Polarity) == r.Item.Sentiment;
        string Accuracy(IEnumerable<(TextEvalItem Item, TextAnalysis Analysis)> rs)
        {
            var list = rs.ToList();
            return list.Count == 0 ? "     -" : $"{100.0 * list.Count(Right) / list.Count,5:0.0}% ({list.Count(Right),3}/{list.Count,3})";
        }
        Console.WriteLine($"{"sentiment",-20} {"all",-16} {"English",-16} {"Chinese",-16}");
        Console.WriteLine($"{"overall",-20} {Accuracy(results),-16} {Accuracy(results.Where(r => r.Item.Lang == "en")),-16} {Accuracy(results.Where(r => r.Item.Lang == "zh")),-16}");
        foreach (var phenomenon in items.SelectMany(i => i.Phenomena).Distinct().Order(StringComparer.Ordinal))
        {
            var of = results.Where(r => r.Item.Phenomena.Contains(phenomenon)).ToList();
            Console.WriteLine($"{phenomenon,-20} {Accuracy(of),-16} {Accuracy(of.Where(r => r.Item.Lang == "en")),-16} {Accuracy(of.Where(r => r.Item.Lang == "zh")),-16}");
        }
        var confusion = results.Where(r => !Right(r)).GroupBy(r => $"{r.Item.Sentiment} read as {Label(r.Analysis.Sentiment.Polarity)}")
            .OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}");
        Console.WriteLine($"misses: {string.Join(", ", confusion)}");

        // Themes: micro precision, recall and F1 over (item, theme) pairs.
        void Themes(string name, IReadOnlyList<(TextEvalItem Item, TextAnalysis Analysis)> rs)
        {
            long tp = 0, fp = 0, fn = 0;
            foreach (var (item, analysis) in rs)
            {
                var found = analysis.Themes.Select(t => t.ThemeKey).ToHashSet();
                tp += found.Count(item.Themes.Contains);
                fp += found.Count(t => !item.Themes.Contains(t));
                fn += item.Themes.Count(t => !found.Contains(t));
            }
            double p = tp + fp == 0 ? 1 : (double)tp / (tp + fp), r = tp + fn == 0 ? 1 : (double)tp / (tp + fn);
            Console.WriteLine($"themes {name,-8} precision {p:0.000}  recall {r:0.000}  micro-F1 {2 * p * r / Math.Max(1e-9, p + r):0.000}  ({tp} right, {fp} extra, {fn} missed)");
        }
        var themeMisses = results.Select(r => (r.Item, Found: r.Analysis.Themes.Select(t => t.ThemeKey).ToHashSet()))
            .Where(r => !r.Found.SetEquals(r.Item.Themes))
            .Select(r => $"  {r.Item.Id}: missed [{string.Join(",", r.Item.Themes.Where(t => !r.Found.Contains(t)))}] extra [{string.Join(",", r.Found.Where(t => !r.Item.Themes.Contains(t)))}] {r.Item.Text}");
        if (Environment.GetEnvironmentVariable("CXMESH_TEXT_EVAL_VERBOSE") == "1") foreach (var miss in themeMisses) Console.WriteLine(miss);
        Themes("all", results);
        Themes("English", results.Where(r => r.Item.Lang == "en").ToList());
        Themes("Chinese", results.Where(r => r.Item.Lang == "zh").ToList());

        // Redaction: every personal substring gone; nothing else touched (items without personal data unchanged, kept numbers kept).
        var personal = results.SelectMany(r => r.Item.Personal.Select(p => (p, r.Analysis.RedactedText))).ToList();
        var found = personal.Count(x => !x.RedactedText.Contains(x.p, StringComparison.Ordinal));
        var clean = results.Where(r => r.Item.Personal.Count == 0).ToList();
        var touched = clean.Count(r => r.Analysis.RedactedText != r.Item.Text);
        var keep = results.SelectMany(r => r.Item.Keep.Select(k => (k, r.Analysis.RedactedText))).ToList();
        var lost = keep.Count(x => !x.RedactedText.Contains(x.k, StringComparison.Ordinal));
        Console.WriteLine($"redaction recall    {100.0 * found / Math.Max(1, personal.Count):0.0}% ({found}/{personal.Count} personal values removed; missed: " +
            $"{string.Join(", ", personal.Where(x => x.RedactedText.Contains(x.p, StringComparison.Ordinal)).Select(x => x.p).Take(12))})");
        Console.WriteLine($"false redaction     {100.0 * touched / Math.Max(1, clean.Count):0.0}% of items without personal data changed ({touched}/{clean.Count}); " +
            $"numbers to keep lost {lost}/{keep.Count}");

        // Throughput of the same items, one thread.
        var count = 0;
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed.TotalSeconds < seconds)
        {
            foreach (var item in items) TextAnalyzer.Analyze(item.Text, null, DefaultTaxonomy.Themes, sentiment, phones);
            count += items.Count;
        }
        Console.WriteLine($"throughput          {count / stopwatch.Elapsed.TotalSeconds:N0} items/s per core (these short comments)");
    }
}
