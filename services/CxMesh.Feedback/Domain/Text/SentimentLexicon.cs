using System.Globalization;

namespace CxMesh.Feedback.Domain.Text;

/// <summary>
/// The sentiment lexicons (embedded <c>Domain/Text/Lexicons/*.tsv</c>: term, tab, valence from −4 to 4, and optionally tab
/// <c>absent</c> for a service event whose valence is that of its absence) and the grammar words
/// of each language (negations, degree words, contrast markers), which take precedence over a lexicon's valence for the
/// same word ("no" is a negation here, not VADER's −1.2).
/// </summary>
internal static class SentimentLexicon
{
    public const int MaxEnglishWords = 6;

    private static readonly Dictionary<string, Word> English = BuildEnglish();
    private static readonly Dictionary<string, Word>.AlternateLookup<ReadOnlySpan<char>> EnglishBySpan = English.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The first words of English phrases: only these start a phrase lookup.</summary>
    private static readonly HashSet<string> EnglishPhraseStarts = English.Keys.Where(k => k.Contains(' ')).Select(k => k[..k.IndexOf(' ')]).ToHashSet(StringComparer.Ordinal);
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> EnglishPhraseStartsBySpan = EnglishPhraseStarts.GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly Dictionary<string, Word> Chinese = BuildChinese();
    private static readonly Dictionary<string, Word>.AlternateLookup<ReadOnlySpan<char>> ChineseBySpan = Chinese.GetAlternateLookup<ReadOnlySpan<char>>();

    public static readonly int MaxChineseLength = Chinese.Keys.Max(k => k.Length);

    /// <summary>The entry at word <paramref name="i"/>: the longest phrase starting there, else the word, else a word without sentiment.</summary>
    public static (Word Word, int Width) EnglishAt(string lower, List<EnglishSentiment.Token> words, int i)
    {
        var first = words[i];
        var span = lower.AsSpan(first.Start, first.End - first.Start);
        if (EnglishPhraseStartsBySpan.Contains(span))
        {
            var last = i;
            while (last + 1 < words.Count && last - i + 1 < MaxEnglishWords && words[last + 1].Break == TextBreak.None) last++;
            for (var j = last; j > i; j--)
            {
                if (EnglishBySpan.TryGetValue(lower.AsSpan(first.Start, words[j].End - first.Start), out var phrase)) return (phrase, j - i + 1);
            }
        }
        if (EnglishBySpan.TryGetValue(span, out var word)) return (word, 1);
        // Any other "…n't" is a negation.
        if (span.EndsWith("n't")) return (new Word(WordKind.Negator, 0), 1);
        return (new Word(WordKind.Sentiment, 0), 1);
    }

    /// <summary>The longest Chinese entry starting at <paramref name="i"/>, or none.</summary>
    public static (Word Word, int Length) ChineseAt(string text, int i)
    {
        for (var len = Math.Min(MaxChineseLength, text.Length - i); len >= 1; len--)
        {
            if (ChineseBySpan.TryGetValue(text.AsSpan(i, len), out var word)) return (word, len);
        }
        return (default, 0);
    }

    private static Dictionary<string, Word> BuildEnglish()
    {
        var words = new Dictionary<string, Word>(StringComparer.Ordinal);
        foreach (var (term, valence, _) in Read("vader.tsv")) words[term] = new Word(WordKind.Sentiment, valence);
        foreach (var (term, valence, expected) in Read("cx-en.tsv")) words[term] = new Word(expected ? WordKind.Expected : WordKind.Sentiment, valence);
        foreach (var term in new[] { "or", "nor" }) words[term] = new Word(WordKind.Coordinator, 0);
        foreach (var term in new[] { "don't think", "do not think", "don't feel", "do not feel", "don't believe", "do not believe", "wouldn't say", "would not say", "can't say", "cannot say", "not sure", "doubt" })
        {
            words[term] = new Word(WordKind.RaisingNegator, 0);
        }
        foreach (var n in new[]
        {
            "not", "no", "never", "none", "nobody", "no one", "nothing", "nowhere", "neither", "nor", "without", "cannot", "hardly", "barely",
            "scarcely", "rarely", "seldom", "not yet", "aint", "arent", "cant", "couldnt", "didnt", "doesnt", "dont", "hadnt", "hasnt",
            "havent", "isnt", "shouldnt", "wasnt", "werent", "wont", "wouldnt",
        })
        {
            words[n] = new Word(WordKind.Negator, 0);
        }
        foreach (var (term, degree) in new[]
        {
            ("very", 1.3), ("really", 1.3), ("so", 1.25), ("too", 1.2), ("far", 1.2), ("way", 1.15), ("much", 1.1), ("most", 1.3), ("more", 1.1),
            ("extremely", 1.5), ("incredibly", 1.5), ("absolutely", 1.5), ("totally", 1.4), ("utterly", 1.5), ("completely", 1.4),
            ("exceptionally", 1.5), ("remarkably", 1.4), ("highly", 1.3), ("truly", 1.3), ("genuinely", 1.2), ("seriously", 1.3),
            ("painfully", 1.4), ("ridiculously", 1.5), ("insanely", 1.5), ("unbelievably", 1.5), ("awfully", 1.4), ("terribly", 1.4),
            ("hugely", 1.4), ("deeply", 1.3), ("especially", 1.2), ("particularly", 1.2), ("quite", 1.1), ("perfectly", 1.3), ("properly", 1.1),
            ("slightly", 0.6), ("somewhat", 0.6), ("a bit", 0.6), ("a little", 0.6), ("a tad", 0.6), ("kind of", 0.6), ("sort of", 0.6),
            ("kinda", 0.6), ("sorta", 0.6), ("marginally", 0.5), ("partly", 0.6), ("fairly", 0.8), ("rather", 0.9), ("almost", 0.7),
            ("mildly", 0.6), ("moderately", 0.7),
        })
        {
            words[term] = new Word(WordKind.Degree, degree);
        }
        // Degree words that are also sentiment words: "pretty good" vs "a pretty shop", "super fast" vs "super!".
        foreach (var term in new[] { "pretty", "super", "real" })
        {
            words[term] = new Word(WordKind.DegreeOrSentiment, words.TryGetValue(term, out var w) ? w.Value : 0, 1.3);
        }
        foreach (var term in new[] { "but", "however", "yet", "whereas", "except", "except that", "that said", "having said that", "then again", "on the other hand" })
        {
            words[term] = new Word(WordKind.Adversative, 0);
        }
        foreach (var term in new[] { "although", "even though", "even if", "despite", "in spite of", "albeit" }) words[term] = new Word(WordKind.Concessive, 0);
        words["though"] = new Word(WordKind.ConcessiveAtStart, 0);
        // Not negations and not contrasts, though their words are ("not only … but also", "no wonder", "nothing but praise").
        foreach (var term in new[] { "not only", "but also", "but even", "no wonder", "nothing but", "not just", "no doubt", "without a doubt", "no matter", "at least", "as well", "no less" })
        {
            words[term] = new Word(WordKind.Sentiment, 0);
        }
        return words;
    }

    private static Dictionary<string, Word> BuildChinese()
    {
        var words = new Dictionary<string, Word>(StringComparer.Ordinal);
        foreach (var (term, valence, expected) in Read("cx-zh.tsv")) words[term] = new Word(expected ? WordKind.Expected : WordKind.Sentiment, valence);
        foreach (var term in new[] { "或", "或者" }) words[term] = new Word(WordKind.Coordinator, 0);
        foreach (var term in new[] { "不认为", "不觉得", "不感觉", "并不觉得", "并不认为", "不以为", "不相信", "说不上" }) words[term] = new Word(WordKind.RaisingNegator, 0);
        foreach (var n in new[]
        {
            "不", "没", "没有", "没能", "并不", "并没有", "并非", "不是", "从不", "从没", "从没有", "从来不", "从来没有", "从未", "未", "未能", "无", "毫无",
            "绝不", "绝对不", "别", "不再", "不够", "不能", "不会", "不算", "不用", "不要", "无需", "不必",
        })
        {
            words[n] = new Word(WordKind.Negator, 0);
        }
        // Softened negations: 不太好 is "not very good", milder than 不好.
        foreach (var n in new[] { "不太", "不怎么", "不那么", "没那么", "不大" }) words[n] = new Word(WordKind.Negator, 0, 0.7);
        foreach (var (term, degree) in new[]
        {
            ("非常", 1.5), ("特别", 1.4), ("十分", 1.4), ("极其", 1.6), ("极为", 1.5), ("极", 1.5), ("超级", 1.5), ("超", 1.4), ("太", 1.3), ("很", 1.3),
            ("挺", 1.15), ("蛮", 1.15), ("真", 1.2), ("真的", 1.2), ("相当", 1.3), ("格外", 1.4), ("尤其", 1.3), ("更", 1.2), ("更加", 1.2), ("最", 1.5),
            ("实在", 1.3), ("确实", 1.1), ("完全", 1.3), ("简直", 1.4), ("巨", 1.4), ("贼", 1.3), ("那么", 1.1), ("这么", 1.1), ("如此", 1.2),
            ("有点", 0.6), ("有点儿", 0.6), ("有些", 0.6), ("稍微", 0.6), ("稍", 0.6), ("略", 0.6), ("略微", 0.6), ("一点", 0.6), ("一点点", 0.5),
            ("比较", 0.9), ("还算", 0.8), ("偏", 0.8),
            // "could not be more": 不能再满意了 is as satisfied as can be.
            ("不能再", 1.6), ("不能更", 1.6), ("再也没有比这更", 1.6),
        })
        {
            words[term] = new Word(WordKind.Degree, degree);
        }
        // 好 is "good", and "so" before a sentiment word (好快, 好慢).
        words["好"] = new Word(WordKind.DegreeOrSentiment, words["好"].Value, 1.3);
        foreach (var term in new[] { "但是", "但", "不过", "可是", "然而", "可惜", "却", "反而", "偏偏" }) words[term] = new Word(WordKind.Adversative, 0);
        foreach (var term in new[] { "只是", "就是", "没想到", "想不到", "没料到", "结果", "谁知", "谁知道" }) words[term] = new Word(WordKind.AdversativeAtStart, 0);
        foreach (var term in new[] { "虽然", "虽", "尽管", "虽说", "即使", "哪怕" }) words[term] = new Word(WordKind.Concessive, 0);
        // Not negations (不但 / 不仅 "not only", 不错 is in the lexicon as positive).
        foreach (var term in new[] { "不但", "不仅", "不只", "不光", "而且", "并且" }) words[term] = new Word(WordKind.Sentiment, 0);
        return words;
    }

    private static IEnumerable<(string Term, double Valence, bool Expected)> Read(string name)
    {
        using var stream = typeof(SentimentLexicon).Assembly.GetManifestResourceStream($"Lexicons.{name}")
            ?? throw new InvalidOperationException($"the sentiment lexicon {name} is not embedded.");
        using var reader = new StreamReader(stream);
        var list = new List<(string, double, bool)>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var tab = line.IndexOf('\t');
            if (tab <= 0) continue;
            var end = line.IndexOf('\t', tab + 1);
            var value = line.AsSpan(tab + 1, (end < 0 ? line.Length : end) - tab - 1);
            var expected = end > 0 && line.AsSpan(end + 1).Trim().SequenceEqual("absent");
            list.Add((line[..tab].ToLowerInvariant(), double.Parse(value, CultureInfo.InvariantCulture), expected));
        }
        return list;
    }
}
