namespace CxMesh.Feedback.Domain.Text;

/// <summary>
/// English clauses and their valence. Words are runs of letters, digits, apostrophes and hyphens; phrases of up to
/// <see cref="SentimentLexicon.MaxEnglishWords"/> words are looked up before their words (longest first), so "couldn't be
/// happier", "not only" and "but also" are one word each.
/// </summary>
internal static class EnglishSentiment
{
    public static List<RawClause> Clauses(string text)
    {
        var lower = Lower(text);
        var words = Tokenize(lower);
        var clauses = new ClauseCollector();
        var entries = new (Word Word, int Start, int End)[words.Count];
        var count = 0;

        // First pass: the lexicon's words (longest phrase first) with the punctuation between them.
        for (var i = 0; i < words.Count;)
        {
            var token = words[i];
            if (token.Break != TextBreak.None)
            {
                entries[count++] = (new Word(WordKind.Sentiment, 0), token.Start, -(int)token.Break);
                i++;
                continue;
            }
            var (word, width) = SentimentLexicon.EnglishAt(lower, words, i);
            entries[count++] = (word, token.Start, words[i + width - 1].End);
            i += width;
        }

        for (var e = 0; e < count; e++)
        {
            var (word, start, end) = entries[e];
            if (end < 0)
            {
                // Punctuation: a comma ends the clause, a full stop also the sentence.
                clauses.Close(start, endsSentence: -end == (int)TextBreak.Sentence);
                continue;
            }
            var role = word.Kind switch
            {
                WordKind.Adversative => ClauseRole.Adversative,
                WordKind.Concessive => ClauseRole.Concessive,
                // "Though it was late, …" concedes; "…, though the queue was slow" stresses.
                WordKind.ConcessiveAtStart => clauses.AtSentenceStart ? ClauseRole.Concessive : ClauseRole.Adversative,
                _ => ClauseRole.Plain,
            };
            // "though" / "however" closing a sentence ("Dreadful though.") marks nothing after it.
            if (role != ClauseRole.Plain && (e + 1 == count || entries[e + 1].End < 0)) continue;
            if (role != ClauseRole.Plain)
            {
                clauses.Open(end, role);
                continue;
            }
            var follows = e + 1 < count && entries[e + 1].End >= 0 && entries[e + 1].Word is { Kind: WordKind.Sentiment or WordKind.DegreeOrSentiment, Value: not 0 };
            clauses.Feed(start, word, follows);
        }
        clauses.Close(text.Length);
        return clauses.Clauses;
    }

    internal readonly record struct Token(int Start, int End, TextBreak Break);

    /// <summary>Lower case of the same length, with typographic apostrophes made plain.</summary>
    private static string Lower(string text) => string.Create(text.Length, text, static (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            span[i] = c is '\u2019' or '\u2018' ? '\'' : char.ToLowerInvariant(c);
        }
    });

    private static List<Token> Tokenize(string lower)
    {
        var tokens = new List<Token>(lower.Length / 4);
        for (var i = 0; i < lower.Length;)
        {
            var c = lower[i];
            if (char.IsLetterOrDigit(c))
            {
                var start = i;
                while (i < lower.Length && (char.IsLetterOrDigit(lower[i])
                    || lower[i] is '\'' or '-' && i + 1 < lower.Length && char.IsLetterOrDigit(lower[i + 1]) && i > start))
                {
                    i++;
                }
                tokens.Add(new Token(start, i, TextBreak.None));
                continue;
            }
            var kind = c switch
            {
                '.' or '!' or '?' or ';' or '\n' or '\u3002' or '\uff01' or '\uff1f' => TextBreak.Sentence,
                ',' or ':' or '(' or ')' or '"' or '\u2014' or '\u2026' or '\uff0c' => TextBreak.Clause,
                '-' when i + 1 < lower.Length && lower[i + 1] == '-' => TextBreak.Clause,
                _ => TextBreak.None,
            };
            // A dot inside a number or an abbreviation ("3.5", "e.g.") is no sentence end.
            if (kind == TextBreak.Sentence && c == '.' && i + 1 < lower.Length && char.IsLetterOrDigit(lower[i + 1])) kind = TextBreak.None;
            if (kind != TextBreak.None && (tokens.Count == 0 || tokens[^1].Break < kind))
            {
                if (tokens.Count > 0 && tokens[^1].Break != TextBreak.None) tokens[^1] = tokens[^1] with { Break = kind };
                else tokens.Add(new Token(i, i + 1, kind));
            }
            i++;
        }
        return tokens;
    }
}
