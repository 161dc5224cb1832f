using System.Text.RegularExpressions;

namespace CxMesh.Feedback.Domain.Text;

public enum Polarity
{
    Negative,
    Neutral,
    Positive,
}

public readonly record struct SentimentScore(double Score)
{
    /// <summary>Below −0.05 negative, above 0.05 positive.</summary>
    public Polarity Polarity => Score < -0.05 ? Polarity.Negative : Score > 0.05 ? Polarity.Positive : Polarity.Neutral;
}

/// <summary>Scores text from −1 (negative) to 1 (positive). An interface so a stronger model can replace the lexicon.</summary>
public interface ISentimentAnalyzer
{
    SentimentScore Score(string text, string language);
}

/// <summary>
/// Lexicon-based sentiment for English and Chinese. A negator shortly before a sentiment word flips it
/// ("not good", "不好"), so "没有问题" and "no problem" read as positive; intensifiers scale it.
/// Scores are squashed to [−1, 1] with x / √(x² + 15), as VADER does.
/// </summary>
public sealed partial class LexiconSentiment : ISentimentAnalyzer
{
    private static readonly Dictionary<string, double> English = new(StringComparer.Ordinal)
    {
        ["good"] = 1.9,
        ["great"] = 3.1,
        ["excellent"] = 3.2,
        ["amazing"] = 3.1,
        ["love"] = 3.2,
        ["loved"] = 2.9,
        ["perfect"] = 3.0,
        ["fresh"] = 1.5,
        ["friendly"] = 2.2,
        ["helpful"] = 2.0,
        ["fast"] = 1.2,
        ["quick"] = 1.2,
        ["easy"] = 1.9,
        ["delicious"] = 2.8,
        ["happy"] = 2.7,
        ["nice"] = 1.8,
        ["smooth"] = 1.4,
        ["recommend"] = 1.8,
        ["best"] = 3.0,
        ["polite"] = 1.8,
        ["tasty"] = 2.3,
        ["on time"] = 1.5,
        ["well"] = 1.1,
        ["satisfied"] = 2.0,
        ["pleased"] = 2.1,
        ["worth"] = 1.3,
        ["reliable"] = 1.9,
        ["bad"] = -2.5,
        ["terrible"] = -3.1,
        ["awful"] = -3.1,
        ["poor"] = -2.1,
        ["slow"] = -1.6,
        ["late"] = -1.6,
        ["broken"] = -2.3,
        ["damaged"] = -2.2,
        ["rude"] = -2.6,
        ["stale"] = -2.0,
        ["bitter"] = -1.2,
        ["expensive"] = -1.4,
        ["problem"] = -1.7,
        ["problems"] = -1.7,
        ["issue"] = -1.2,
        ["wrong"] = -2.1,
        ["hate"] = -3.0,
        ["disappointed"] = -2.3,
        ["disappointing"] = -2.3,
        ["never"] = 0,
        ["waiting"] = -0.8,
        ["wait"] = -0.6,
        ["delay"] = -1.5,
        ["delayed"] = -1.6,
        ["missing"] = -1.8,
        ["refund"] = -0.8,
        ["complaint"] = -1.5,
        ["worst"] = -3.1,
        ["confusing"] = -1.7,
        ["difficult"] = -1.5,
        ["unhelpful"] = -2.0,
        ["overpriced"] = -2.0,
        ["cold"] = -0.9,
        ["leaking"] = -1.8,
        ["lost"] = -1.8,
        ["angry"] = -2.7,
        ["useless"] = -2.6,
    };

    private static readonly HashSet<string> EnglishNegators = new(StringComparer.Ordinal)
    {
        "not", "no", "never", "n't", "dont", "don't", "didn't", "didnt", "isn't", "isnt", "wasn't", "wasnt", "aren't", "won't", "without", "hardly", "nothing", "nor", "cannot", "can't",
    };

    private static readonly Dictionary<string, double> EnglishIntensifiers = new(StringComparer.Ordinal)
    {
        ["very"] = 1.3,
        ["really"] = 1.3,
        ["extremely"] = 1.5,
        ["so"] = 1.2,
        ["super"] = 1.4,
        ["too"] = 1.2,
        ["quite"] = 1.1,
        ["slightly"] = 0.6,
        ["a bit"] = 0.7,
    };

    private static readonly Dictionary<string, double> Chinese = new(StringComparer.Ordinal)
    {
        ["好"] = 1.8,
        ["很好"] = 2.4,
        ["非常好"] = 3.0,
        ["满意"] = 2.2,
        ["喜欢"] = 2.5,
        ["新鲜"] = 1.6,
        ["好喝"] = 2.6,
        ["好吃"] = 2.6,
        ["香"] = 1.4,
        ["快"] = 1.2,
        ["及时"] = 1.6,
        ["热情"] = 2.0,
        ["友好"] = 2.0,
        ["耐心"] = 1.8,
        ["方便"] = 1.8,
        ["推荐"] = 1.8,
        ["完美"] = 3.0,
        ["棒"] = 2.6,
        ["不错"] = 1.9,
        ["实惠"] = 1.6,
        ["值得"] = 1.5,
        ["专业"] = 1.6,
        ["贴心"] = 2.0,
        ["顺利"] = 1.5,
        ["准时"] = 1.6,
        ["差"] = -2.4,
        ["很差"] = -3.0,
        ["糟糕"] = -3.0,
        ["慢"] = -1.6,
        ["太慢"] = -2.2,
        ["晚"] = -1.2,
        ["迟到"] = -1.8,
        ["延误"] = -1.8,
        ["问题"] = -1.6,
        ["坏"] = -2.2,
        ["破损"] = -2.3,
        ["损坏"] = -2.3,
        ["失望"] = -2.4,
        ["贵"] = -1.3,
        ["太贵"] = -2.0,
        ["难喝"] = -2.6,
        ["难吃"] = -2.6,
        ["苦"] = -1.0,
        ["不新鲜"] = -2.0,
        ["态度差"] = -2.8,
        ["投诉"] = -1.8,
        ["退款"] = -0.8,
        ["等待"] = -0.8,
        ["麻烦"] = -1.5,
        ["生气"] = -2.6,
        ["丢失"] = -1.9,
        ["错"] = -1.8,
        ["漏"] = -1.4,
        ["冷"] = -0.8,
        ["难用"] = -2.2,
        ["复杂"] = -1.3,
    };

    private static readonly string[] ChineseNegators = ["没有", "并不", "不是", "不太", "从不", "不", "没", "别", "未", "无"];

    private static readonly Dictionary<string, double> ChineseIntensifiers = new(StringComparer.Ordinal)
    {
        ["非常"] = 1.5,
        ["特别"] = 1.4,
        ["很"] = 1.3,
        ["太"] = 1.3,
        ["真"] = 1.2,
        ["超级"] = 1.5,
        ["有点"] = 0.7,
        ["比较"] = 0.9,
    };

    private static readonly int MaxChineseTerm = Chinese.Keys.Max(k => k.Length);

    // Looked up by slices of the text, without allocating a string for every candidate.
    private static readonly Dictionary<string, double>.AlternateLookup<ReadOnlySpan<char>> ChineseBySpan = Chinese.GetAlternateLookup<ReadOnlySpan<char>>();

    [GeneratedRegex(@"[a-z]+(?:'[a-z]+)?")]
    private static partial Regex EnglishWord();

    public SentimentScore Score(string text, string language)
    {
        var total = language == LanguageDetector.Chinese ? ScoreChinese(text) : ScoreEnglish(text.ToLowerInvariant());
        return new SentimentScore(total / Math.Sqrt(total * total + 15));
    }

    private static double ScoreEnglish(string text)
    {
        var words = EnglishWord().Matches(text).Select(m => m.Value).ToList();
        double total = 0;
        for (var i = 0; i < words.Count; i++)
        {
            var two = i + 1 < words.Count ? $"{words[i]} {words[i + 1]}" : null;
            double value;
            var width = 1;
            if (two is not null && English.TryGetValue(two, out value)) width = 2;
            else if (!English.TryGetValue(words[i], out value) || value == 0) continue;

            var scale = 1.0;
            var negated = false;
            for (var back = 1; back <= 3 && i - back >= 0; back++)
            {
                var w = words[i - back];
                if (EnglishNegators.Contains(w) || w.EndsWith("n't", StringComparison.Ordinal)) negated = true;
                if (back == 1 && EnglishIntensifiers.TryGetValue(w, out var k)) scale = k;
            }
            total += (negated ? -0.74 : 1) * scale * value;
            i += width - 1;
        }
        return total;
    }

    private static double ScoreChinese(string text)
    {
        double total = 0;
        for (var i = 0; i < text.Length;)
        {
            // Longest lexicon term starting here ("不新鲜" before "新鲜", "很好" before "好").
            string? term = null;
            for (var len = Math.Min(MaxChineseTerm, text.Length - i); len >= 1; len--)
            {
                if (ChineseBySpan.TryGetValue(text.AsSpan(i, len), out var found, out _))
                {
                    term = found;
                    break;
                }
            }
            if (term is null)
            {
                i++;
                continue;
            }
            var before = text[Math.Max(0, i - 3)..i];
            var negated = !term.StartsWith('不') && ChineseNegators.Any(n => before.EndsWith(n, StringComparison.Ordinal)
                || before.Length >= n.Length + 1 && before[..^1].EndsWith(n, StringComparison.Ordinal));
            var scale = ChineseIntensifiers.Where(k => before.EndsWith(k.Key, StringComparison.Ordinal)).Select(k => k.Value).DefaultIfEmpty(1).First();
            total += (negated ? -0.74 : 1) * scale * Chinese[term];
            i += term.Length;
        }
        return total;
    }
}
