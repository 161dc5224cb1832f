namespace CxMesh.Feedback.Domain.Text;

/// <summary>A driver of satisfaction, recognised in text by English keywords (word prefixes) and Chinese phrases (substrings).</summary>
public sealed record Theme(string Key, string Name, IReadOnlyList<string> Keywords, IReadOnlyList<string> Phrases);

public sealed record ThemeMention(string ThemeKey, string Clause, SentimentScore Sentiment);

/// <summary>The usual CX drivers, and the coffee demo's taste, freshness and packaging.</summary>
public static class DefaultTaxonomy
{
    public static IReadOnlyList<Theme> Themes { get; } =
    [
        new("waiting-time", "Waiting time", ["wait", "queue", "slow", "took ages", "hold", "delay"], ["等待", "排队", "等了", "太慢", "很久"]),
        new("staff-friendliness", "Staff friendliness", ["staff", "rude", "friendly", "polite", "agent", "barista", "employee"], ["服务员", "态度", "热情", "店员", "客服人员", "礼貌"]),
        new("product-quality", "Product quality", ["quality", "broken", "defect", "faulty", "well made"], ["质量", "品质", "做工", "坏了"]),
        new("price-value", "Price and value", ["price", "expensive", "cheap", "value", "overpriced", "cost"], ["价格", "太贵", "便宜", "性价比", "实惠"]),
        new("delivery", "Delivery", ["deliver", "courier", "shipping", "parcel", "package arrived", "late"], ["快递", "配送", "送货", "物流", "到货", "发货"]),
        new("ease-of-use", "Ease of use", ["easy", "confusing", "app", "website", "checkout", "difficult"], ["方便", "好用", "难用", "操作", "界面"]),
        new("communication", "Communication", ["email", "informed", "update", "notification", "told", "respond"], ["通知", "沟通", "回复", "告知", "短信"]),
        new("problem-resolution", "Problem resolution", ["refund", "resolve", "fixed", "complaint", "support", "replacement"], ["退款", "解决", "处理", "投诉", "售后", "换货"]),
        new("taste", "Taste", ["taste", "flavour", "flavor", "bitter", "delicious", "aroma", "tasty"], ["口感", "味道", "好喝", "难喝", "香", "苦"]),
        new("freshness", "Freshness", ["fresh", "stale", "roast date", "roasted"], ["新鲜", "烘焙日期", "不新鲜", "过期"]),
        new("packaging", "Packaging", ["packaging", "bag", "box", "seal", "leaking", "damaged"], ["包装", "袋子", "盒子", "密封", "破损"]),
    ];
}

/// <summary>
/// Finds the themes a text talks about and the sentiment of each mention (the clause it appears in).
/// English keywords match at word starts ("deliver" matches "delivery"); Chinese phrases match anywhere,
/// since Chinese text has no spaces.
/// </summary>
public static class ThemeMatcher
{
    public static IReadOnlyList<ThemeMention> Match(string text, string language, IReadOnlyList<Theme> taxonomy, ISentimentAnalyzer sentiment) =>
        string.IsNullOrWhiteSpace(text) ? [] : Match(text, sentiment.Analyze(text, language), taxonomy);

    /// <summary>Each theme once, at the first clause that mentions it, with that clause's own sentiment.</summary>
    public static IReadOnlyList<ThemeMention> Match(string text, SentimentAnalysis analysis, IReadOnlyList<Theme> taxonomy)
    {
        var mentions = new List<ThemeMention>();
        if (analysis.Clauses.Count == 0) return mentions;
        var clauses = new (string Text, string Lower, SentimentScore Sentiment)[analysis.Clauses.Count];
        for (var i = 0; i < clauses.Length; i++)
        {
            var c = analysis.Clauses[i];
            var clause = text.Substring(c.Start, c.Length);
            clauses[i] = (clause, clause.ToLowerInvariant(), c.Sentiment);
        }
        foreach (var theme in taxonomy)
        {
            foreach (var (clause, lower, score) in clauses)
            {
                if (!Mentions(clause, lower, theme)) continue;
                mentions.Add(new ThemeMention(theme.Key, clause.Trim(), score));
                break;
            }
        }
        return mentions;
    }

    private static bool Mentions(string clause, string lower, Theme theme)
    {
        foreach (var phrase in theme.Phrases)
        {
            if (clause.Contains(phrase, StringComparison.Ordinal)) return true;
        }
        foreach (var keyword in theme.Keywords)
        {
            for (var at = lower.IndexOf(keyword, StringComparison.Ordinal); at >= 0; at = lower.IndexOf(keyword, at + 1, StringComparison.Ordinal))
            {
                if (at == 0 || !char.IsLetter(lower[at - 1])) return true;
            }
        }
        return false;
    }
}

/// <summary>Everything the feedback service understands of one verbatim.</summary>
public sealed record TextAnalysis(string Language, string RedactedText, SentimentScore Sentiment, IReadOnlyList<ThemeMention> Themes);

public static class TextAnalyzer
{
    /// <summary>Redacts first: everything downstream (themes, the event) sees only the redacted text.</summary>
    /// <remarks><paramref name="known"/>: the contact details the same customer gave with earlier items, redacted too.</remarks>
    public static TextAnalysis Analyze(string text, OwnDetails? own, IReadOnlyList<Theme> taxonomy, ISentimentAnalyzer sentiment, IPhoneNumberFinder? phones = null,
        IReadOnlyList<OwnDetails>? known = null)
    {
        var redacted = Redactor.Redact(text, own, phones, known);
        var language = LanguageDetector.Detect(redacted);
        var feeling = sentiment.Analyze(redacted, language);
        return new TextAnalysis(language, redacted, feeling.Overall, ThemeMatcher.Match(redacted, feeling, taxonomy));
    }
}
