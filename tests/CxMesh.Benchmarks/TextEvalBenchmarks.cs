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
        Polarity.Mixed => "mixed",
        _ => "neutral",
    };

    public static void Run(int seconds)
    {
        var items = TextEvalSet.Load();
        var sentiment = new LexiconSentiment();
        var phones = new CxMesh.Feedback.LibPhoneNumberFinder();
        Report("Text evaluation (the set the lexicons were tuned on)", TextEvalSet.Path, items, sentiment, phones);
        Console.WriteLine();
        Report("Held-out set 1 (written after tuning; measured once, then a general vocabulary pass)", TextEvalSet.HoldoutPath, TextEvalSet.LoadHoldout(), sentiment, phones);
        Console.WriteLine();
        Report("Held-out set 2 (written after all tuning)", TextEvalSet.SecondHoldoutPath, TextEvalSet.LoadSecondHoldout(), sentiment, phones);
        Console.WriteLine();
        Console.WriteLine("# External English sentences (UCI Sentiment Labelled Sentences; tests/text-eval/external)");
        foreach (var name in new[] { "amazon", "yelp" }) External(name, sentiment);
        Console.WriteLine();

        // Throughput of the main set's items, one thread.
        var count = 0;
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed.TotalSeconds < seconds)
        {
            foreach (var item in items) TextAnalyzer.Analyze(item.Text, null, DefaultTaxonomy.Themes, sentiment, phones);
            count += items.Count;
        }
        Console.WriteLine($"throughput          {count / stopwatch.Elapsed.TotalSeconds:N0} items/s per core (these short comments)");
    }

    /// <summary>Accuracy on a positive / negative set (a neutral or mixed reading is a miss) and the share read as polar at all.</summary>
    private static void External(string name, ISentimentAnalyzer sentiment)
    {
        var path = System.IO.Path.Combine(RepoFiles.Root, "tests", "text-eval", "external", $"{name}.jsonl");
        var rows = File.ReadLines(path).Where(l => l.Trim().Length > 0)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .Select(e => (Text: e.GetProperty("text").GetString()!, Positive: e.GetProperty("positive").GetBoolean()))
            .ToList();
        int right = 0, polar = 0, wrongSign = 0;
        var verbose = Environment.GetEnvironmentVariable("CXMESH_TEXT_EVAL_VERBOSE") == "2";
        foreach (var (text, positive) in rows)
        {
            var polarity = sentiment.Score(text, LanguageDetector.English).Polarity;
            if (polarity is Polarity.Positive or Polarity.Negative) polar++;
            if (polarity == (positive ? Polarity.Positive : Polarity.Negative)) right++;
            else if (polarity is Polarity.Positive or Polarity.Negative) wrongSign++;
            if (verbose && polarity != (positive ? Polarity.Positive : Polarity.Negative)) Console.WriteLine($"  {(positive ? "positive" : "negative")} read as {polarity}: {text}");
        }
        Console.WriteLine($"{name,-8} {100.0 * right / rows.Count,5:0.0}% right ({right}/{rows.Count}); read as polar {100.0 * polar / rows.Count:0.0}%, " +
            $"of those right {100.0 * (polar - wrongSign) / Math.Max(1, polar):0.0}%");
    }

    private static void Report(string title, string path, IReadOnlyList<TextEvalItem> items, ISentimentAnalyzer sentiment, CxMesh.Feedback.LibPhoneNumberFinder phones)
    {
        var results = items.Select(i => (Item: i, Analysis: TextAnalyzer.Analyze(i.Text, null, DefaultTaxonomy.Themes, sentiment, phones))).ToList();
        Console.WriteLine($"# {title}: {items.Count} labelled items ({items.Count(i => i.Lang == "en")} English, {items.Count(i => i.Lang == "zh")} Chinese), {path}");

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
        if (Environment.GetEnvironmentVariable("CXMESH_TEXT_EVAL_VERBOSE") == "1")
        {
            foreach (var (item, analysis) in results.Where(r => !Right(r)))
            {
                Console.WriteLine($"  {item.Id}: {item.Sentiment} read as {Label(analysis.Sentiment.Polarity)} ({analysis.Sentiment.Score:0.00}) {item.Text}");
            }
        }

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
    }
}
