namespace CxMesh.Feedback.Domain.Text;

/// <summary>
/// English inflection for theme keywords: the base a word's inflected forms share, so "reply", "replies" and "replied",
/// "arrive" and "arriving", "ship" and "shipping", "break", "broke" and "broken" meet. Inflection only (plural, past,
/// participle, third person), not derivation: "communication" and "community" stay apart, which a full stemmer would join.
/// </summary>
public static class EnglishInflection
{
    private static readonly Dictionary<string, string> Irregular = new(StringComparer.Ordinal)
    {
        ["broke"] = "break",
        ["broken"] = "break",
        ["came"] = "come",
        ["sent"] = "send",
        ["paid"] = "pay",
        ["lost"] = "lose",
        ["told"] = "tell",
        ["got"] = "get",
        ["gotten"] = "get",
        ["took"] = "take",
        ["taken"] = "take",
        ["gave"] = "give",
        ["given"] = "give",
        ["spoke"] = "speak",
        ["spoken"] = "speak",
        ["left"] = "leave",
        ["bought"] = "buy",
        ["brought"] = "bring",
        ["wrote"] = "write",
        ["written"] = "write",
        ["ran"] = "run",
        ["held"] = "hold",
        ["kept"] = "keep",
        ["felt"] = "feel",
        ["tore"] = "tear",
        ["torn"] = "tear",
        ["threw"] = "throw",
        ["thrown"] = "throw",
        ["shook"] = "shake",
        ["stuck"] = "stick",
        ["spilt"] = "spill",
        ["burnt"] = "burn",
        ["rang"] = "ring",
        ["rung"] = "ring",
        ["made"] = "make",
        ["said"] = "say",
        ["went"] = "go",
        ["gone"] = "go",
        ["ate"] = "eat",
        ["eaten"] = "eat",
        ["drank"] = "drink",
        ["drunk"] = "drink",
        ["forgot"] = "forget",
        ["forgotten"] = "forget",
        ["sold"] = "sell",
        ["froze"] = "freeze",
        ["frozen"] = "freeze",
        ["hung"] = "hang",
        ["chose"] = "choose",
        ["chosen"] = "choose",
        ["fell"] = "fall",
        ["fallen"] = "fall",
        ["caught"] = "catch",
        ["thought"] = "think",
        ["found"] = "find",
        ["heard"] = "hear",
        ["stood"] = "stand",
        ["understood"] = "understand",
        ["meant"] = "mean",
        ["spent"] = "spend",
        ["built"] = "build",
        ["dealt"] = "deal",
        ["split"] = "split",
        ["won"] = "win",
    };

    /// <summary>Whether a word is written as an inflected form (-s, -ed, -ing, or an irregular past): such a keyword means that form.</summary>
    public static bool IsInflected(string word) =>
        Irregular.ContainsKey(word) || word.Length > 4 && (word.EndsWith("ing", StringComparison.Ordinal) || word.EndsWith("ed", StringComparison.Ordinal))
        || word.Length > 3 && word.EndsWith('s') && !word.EndsWith("ss", StringComparison.Ordinal) && !word.EndsWith("us", StringComparison.Ordinal) && !word.EndsWith("is", StringComparison.Ordinal);

    /// <summary>The Latin-letter words of a text, lower case, each with its <see cref="Base"/>.</summary>
    public static IReadOnlyList<(string Word, string Base)> Words(ReadOnlySpan<char> text)
    {
        List<(string, string)>? words = null;
        for (var i = 0; i < text.Length;)
        {
            if (!char.IsAsciiLetterOrDigit(text[i]))
            {
                i++;
                continue;
            }
            var start = i;
            while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '\'' or '-' or '\u2019' && i + 1 < text.Length && char.IsAsciiLetter(text[i + 1])))
            {
                i++;
            }
            var word = string.Create(i - start, text.Slice(start, i - start), static (span, source) =>
            {
                for (var k = 0; k < source.Length; k++) span[k] = source[k] == '\u2019' ? '\'' : char.ToLowerInvariant(source[k]);
            });
            (words ??= []).Add((word, Base(word)));
        }
        return (IReadOnlyList<(string, string)>?)words ?? [];
    }

    /// <summary>Whether the words hold the phrase's words in a row, each matching at its start ("package arrived").</summary>
    public static bool ContainsPhrase(IReadOnlyList<(string Word, string Base)> words, string[] parts)
    {
        for (var i = 0; i + parts.Length <= words.Count; i++)
        {
            var all = true;
            for (var j = 0; j < parts.Length && all; j++)
            {
                all = words[i + j].Word.StartsWith(parts[j], StringComparison.Ordinal);
            }
            if (all) return true;
        }
        return false;
    }

    /// <summary>The inflection base: irregular forms from a table, then -ies/-ied → y, -es after a sibilant, -s, -ed, -ing; a doubled final consonant and a final e dropped.</summary>
    public static string Base(string word)
    {
        if (word.Length < 3) return word;
        if (Irregular.TryGetValue(word, out var irregular)) word = irregular;
        var w = word;
        if (w.Length > 4 && (w.EndsWith("ies", StringComparison.Ordinal) || w.EndsWith("ied", StringComparison.Ordinal))) w = w[..^3] + "y";
        else if (w.Length > 4 && w.EndsWith("ing", StringComparison.Ordinal)) w = w[..^3];
        else if (w.Length > 3 && w.EndsWith("ed", StringComparison.Ordinal)) w = w[..^2];
        else if (w.Length > 3 && (w.EndsWith("sses", StringComparison.Ordinal) || w.EndsWith("xes", StringComparison.Ordinal) || w.EndsWith("ches", StringComparison.Ordinal)
            || w.EndsWith("shes", StringComparison.Ordinal) || w.EndsWith("zes", StringComparison.Ordinal))) w = w[..^2];
        else if (w.Length > 3 && w.EndsWith('s') && !w.EndsWith("ss", StringComparison.Ordinal) && !w.EndsWith("us", StringComparison.Ordinal) && !w.EndsWith("is", StringComparison.Ordinal)) w = w[..^1];
        // "shipp" → "ship", "arrive" → "arriv", so ship/shipped/shipping and arrive/arrived/arriving meet.
        if (w.Length > 3 && w[^1] == w[^2] && !"aeiouls".Contains(w[^1])) w = w[..^1];
        if (w.Length > 3 && w[^1] == 'e') w = w[..^1];
        return w;
    }
}
