using System.Runtime.CompilerServices;

namespace CxMesh.Feedback.Domain.Text;

/// <summary>
/// A driver of satisfaction, recognised in text by English keywords (at word starts, or as another form of the same word:
/// "reply" finds "replied", "break" finds "broke") and Chinese phrases (anywhere). Generic keywords and phrases ("coffee",
/// "box", 服务) name the theme only in a clause no other theme's specific words explain, so "the courier dumped the box"
/// is about delivery, not packaging too.
/// </summary>
public sealed record Theme(string Key, string Name, IReadOnlyList<string> Keywords, IReadOnlyList<string> Phrases)
{
    public IReadOnlyList<string> GenericKeywords { get; init; } = [];
    public IReadOnlyList<string> GenericPhrases { get; init; } = [];
}

public sealed record ThemeMention(string ThemeKey, string Clause, SentimentScore Sentiment);

/// <summary>The usual CX drivers, and the coffee demo's taste, freshness and packaging.</summary>
public static class DefaultTaxonomy
{
    public static IReadOnlyList<Theme> Themes { get; } =
    [
        new("waiting-time", "Waiting time",
            ["wait", "queue", "took ages", "took forever", "on hold", "long line", "stood around", "watching paint dry"],
            ["等待", "排队", "等了", "排了", "很久", "太久", "好久", "半天", "干等", "干站", "花儿都谢了", "队"])
        {
            GenericKeywords = ["slow", "delay", "minutes", "hour"],
            GenericPhrases = ["太慢", "慢", "分钟", "小时"],
        },
        new("staff-friendliness", "Staff friendliness",
            ["staff", "rude", "friendly", "polite", "barista", "employee", "waiter", "waitress", "cashier", "courteous", "attentive", "welcoming", "attitude", "manager", "team"],
            ["服务员", "态度", "热情", "店员", "客服人员", "礼貌", "咖啡师", "店长", "收银", "营业员", "笑容", "周到", "冷漠", "敷衍", "暖心"])
        {
            GenericKeywords = ["service", "agent", "helpful"],
            GenericPhrases = ["服务"],
        },
        new("product-quality", "Product quality",
            ["quality", "broke", "defect", "faulty", "well made", "crack", "snapped", "fell apart", "flimsy", "sturdy", "durable", "shoddy", "lemon"],
            ["质量", "品质", "做工", "坏了", "坏的", "裂", "断了", "结实", "扎实", "粗糙", "瑕疵", "故障", "异响"])
        {
            GenericKeywords = ["grinder", "kettle", "machine", "mug", "lid", "handle", "product"],
            GenericPhrases = ["磨豆机", "水壶", "机器", "盖子", "杯子", "把手", "产品"],
        },
        new("price-value", "Price and value",
            ["price", "expensive", "cheap", "value", "overpriced", "cost", "pricey", "rip-off", "ripoff", "money", "charged", "bargain", "afford", "penny", "robbery", "pounds"],
            ["价格", "太贵", "便宜", "性价比", "实惠", "划算", "贵", "价", "物超所值", "优惠", "折扣", "扣款"])
        {
            GenericKeywords = ["worth", "paid", "pay"],
            GenericPhrases = ["值得", "值", "钱"],
        },
        new("delivery", "Delivery",
            ["deliver", "courier", "shipping", "shipped", "parcel", "package arrived", "dispatch", "tracking", "postman", "depot", "in a flash"],
            ["快递", "配送", "送货", "物流", "到货", "发货", "包裹", "运单", "送达", "送到", "送上门", "顺丰", "次日达", "签收", "晚到", "没到"])
        {
            GenericKeywords = ["late", "early", "came", "arrive", "arrival"],
            GenericPhrases = ["提前", "晚了", "到了"],
        },
        new("ease-of-use", "Ease of use",
            ["easy", "confusing", "app", "website", "checkout", "difficult", "ordering", "order online", "intuitive", "effortless", "log in", "logs me out", "login", "navigate", "user-friendly", "site"],
            ["方便", "好用", "难用", "操作", "界面", "网站", "应用", "登录", "结账", "流程", "直观", "一气呵成"])
        {
            GenericKeywords = ["simple", "breeze"],
            GenericPhrases = ["简单", "下单"],
        },
        new("communication", "Communication",
            ["email", "e-mail", "informed", "notification", "told", "respond", "reply", "text message", "sms", "message", "kept me posted", "in the dark", "radio silence", "answered", "explain", "confirmation", "called", "communication"],
            ["通知", "沟通", "回复", "告知", "短信", "消息", "回电", "邮件", "音信", "石沉大海", "答复", "进度", "联系我"])
        {
            GenericKeywords = ["update", "call"],
            GenericPhrases = ["电话", "联系"],
        },
        new("problem-resolution", "Problem resolution",
            ["refund", "resolve", "fixed", "fix", "complaint", "replacement", "replaced", "reimburse", "returned", "exchange", "sorted", "compensation", "runaround", "unresolved", "bent over backwards"],
            ["退款", "解决", "处理", "投诉", "售后", "换货", "退货", "退了钱", "退钱", "补发", "赔偿", "换了新的", "踢皮球", "工单", "退回"])
        {
            GenericKeywords = ["support", "issue"],
            GenericPhrases = ["客服"],
        },
        new("taste", "Taste",
            ["taste", "flavour", "flavor", "bitter", "delicious", "aroma", "tasty", "sour", "bland", "watery", "burnt", "aftertaste", "chocolatey", "nutty", "fruity", "hits the spot", "game changer"],
            ["口感", "味道", "好喝", "难喝", "香", "苦", "酸", "淡", "回味", "口味", "风味", "醇", "焦味", "怪味", "果香", "香气", "寡淡"])
        {
            GenericKeywords = ["coffee", "espresso", "latte", "blend", "brew", "cup"],
            GenericPhrases = ["咖啡", "浓缩", "拿铁", "豆子"],
        },
        new("freshness", "Freshness",
            ["fresh", "stale", "roast date", "roasted", "expired", "best before", "lifeless"],
            ["新鲜", "烘焙日期", "不新鲜", "过期", "保质期", "受潮", "放了很久", "放久"]),
        new("packaging", "Packaging",
            ["packaging", "bag", "seal", "leaking", "wrapped", "wrapping", "packed", "packing", "tin", "bubble wrap", "jar"],
            ["包装", "袋子", "盒子", "密封", "漏气", "气泡膜", "铁罐", "封口", "包得"])
        {
            GenericKeywords = ["box", "damaged"],
            GenericPhrases = ["箱子", "破损"],
        },
    ];
}

/// <summary>
/// Earlier releases' default themes, as shipped: a stored default still exactly like one of these was never edited, and
/// is brought up to <see cref="DefaultTaxonomy.Themes"/> (with a re-tag of history) when the service starts.
/// </summary>
public static class ShippedDefaults
{
    public static IReadOnlyList<Theme> Previous { get; } =
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
/// Finds the themes a text talks about and the sentiment of each mention: the clause it appears in, as the sentiment
/// analysis cut it. English keywords match at word starts ("deliver" matches "delivery") or as another inflection of the
/// same word (<see cref="EnglishInflection"/>); Chinese phrases match anywhere, since Chinese text has no spaces. A generic
/// term counts only in a clause where no theme's specific term matched.
/// </summary>
public static class ThemeMatcher
{
    public static IReadOnlyList<ThemeMention> Match(string text, string language, IReadOnlyList<Theme> taxonomy, ISentimentAnalyzer sentiment) =>
        string.IsNullOrWhiteSpace(text) ? [] : Match(text, sentiment.Analyze(text, language), taxonomy);

    /// <summary>Each theme once, at the first clause that mentions it, with that clause's own sentiment.</summary>
    public static IReadOnlyList<ThemeMention> Match(string text, SentimentAnalysis analysis, IReadOnlyList<Theme> taxonomy)
    {
        if (analysis.Clauses.Count == 0 || taxonomy.Count == 0) return [];
        var compiled = Compiled.GetValue(taxonomy, t => new CompiledTaxonomy(t));
        // In taxonomy order: the first clause mentioning each theme.
        var first = new (int Start, int Length, SentimentScore Sentiment)?[taxonomy.Count];
        var specific = new bool[taxonomy.Count];
        var generic = new bool[taxonomy.Count];
        foreach (var c in analysis.Clauses)
        {
            Array.Clear(specific);
            Array.Clear(generic);
            compiled.Find(text.AsSpan(c.Start, c.Length), specific, generic);
            var use = Array.IndexOf(specific, true) >= 0 ? specific : generic;
            for (var t = 0; t < use.Length; t++)
            {
                if (use[t]) first[t] ??= (c.Start, c.Length, c.Sentiment);
            }
        }
        var mentions = new List<ThemeMention>();
        for (var t = 0; t < first.Length; t++)
        {
            if (first[t] is { } f) mentions.Add(new ThemeMention(taxonomy[t].Key, text.Substring(f.Start, f.Length).Trim(), f.Sentiment));
        }
        return mentions;
    }

    private static readonly ConditionalWeakTable<IReadOnlyList<Theme>, CompiledTaxonomy> Compiled = new();

    /// <summary>
    /// A taxonomy made ready for matching: single-word keywords looked up by each prefix of a word and by its inflection base,
    /// phrases (Chinese) by each substring up to the longest phrase, phrase keywords word by word.
    /// </summary>
    private sealed class CompiledTaxonomy
    {
        private readonly Dictionary<string, List<(int Theme, bool Generic)>> _prefixes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<(int Theme, bool Generic)>> _bases = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<(int Theme, bool Generic)>> _phrases = new(StringComparer.Ordinal);
        private readonly List<(string[] Parts, int Theme, bool Generic)> _phraseKeywords = [];
        private readonly int[] _phraseLengths;
        private readonly int _longestKeyword;

        public CompiledTaxonomy(IReadOnlyList<Theme> taxonomy)
        {
            static void Add(Dictionary<string, List<(int, bool)>> map, string key, int theme, bool generic)
            {
                if (!map.TryGetValue(key, out var list)) map[key] = list = [];
                list.Add((theme, generic));
            }
            for (var t = 0; t < taxonomy.Count; t++)
            {
                foreach (var (keywords, phrases, generic) in new[] { (taxonomy[t].Keywords, taxonomy[t].Phrases, false), (taxonomy[t].GenericKeywords, taxonomy[t].GenericPhrases, true) })
                {
                    foreach (var keyword in keywords)
                    {
                        if (keyword.Contains(' '))
                        {
                            _phraseKeywords.Add((keyword.Split(' ', StringSplitOptions.RemoveEmptyEntries), t, generic));
                            continue;
                        }
                        Add(_prefixes, keyword, t, generic);
                        _longestKeyword = Math.Max(_longestKeyword, keyword.Length);
                        // A keyword written as an inflected form ("ordering", "roasted") means that form: prefix only.
                        if (!EnglishInflection.IsInflected(keyword)) Add(_bases, EnglishInflection.Base(keyword), t, generic);
                    }
                    foreach (var phrase in phrases) Add(_phrases, phrase, t, generic);
                }
            }
            // Only the lengths some phrase has are looked up: one long custom phrase does not make every position costly.
            _phraseLengths = _phrases.Keys.Select(p => p.Length).Distinct().Order().ToArray();
        }

        public void Find(ReadOnlySpan<char> clause, bool[] specific, bool[] generic)
        {
            void Mark(List<(int Theme, bool Generic)> hits)
            {
                foreach (var (theme, isGeneric) in hits) (isGeneric ? generic : specific)[theme] = true;
            }
            var phrases = _phrases.GetAlternateLookup<ReadOnlySpan<char>>();
            for (var i = 0; i < clause.Length; i++)
            {
                foreach (var len in _phraseLengths)
                {
                    if (len > clause.Length - i) break;
                    if (phrases.TryGetValue(clause.Slice(i, len), out var hits)) Mark(hits);
                }
            }
            var words = EnglishInflection.Words(clause);
            if (words.Count == 0) return;
            var prefixes = _prefixes.GetAlternateLookup<ReadOnlySpan<char>>();
            foreach (var (word, wordBase) in words)
            {
                for (var len = Math.Min(_longestKeyword, word.Length); len >= 1; len--)
                {
                    if (prefixes.TryGetValue(word.AsSpan(0, len), out var hits)) Mark(hits);
                }
                if (_bases.TryGetValue(wordBase, out var baseHits)) Mark(baseHits);
            }
            foreach (var (parts, theme, isGeneric) in _phraseKeywords)
            {
                if (EnglishInflection.ContainsPhrase(words, parts)) (isGeneric ? generic : specific)[theme] = true;
            }
        }
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
