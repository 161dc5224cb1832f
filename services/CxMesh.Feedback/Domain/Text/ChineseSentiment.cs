namespace CxMesh.Feedback.Domain.Text;

/// <summary>
/// Chinese clauses and their valence. Chinese has no spaces: the text is read by longest match against the lexicon
/// (forward maximum matching), so 不错 and 不新鲜 are words of their own and 快递 is not 快; characters no entry starts
/// with are neutral, as are runs of Latin letters and digits.
/// </summary>
internal static class ChineseSentiment
{
    public static List<RawClause> Clauses(string text)
    {
        var clauses = new List<RawClause>();
        var state = new ClauseState();
        state.Reset();
        var sentence = 0;
        RawClause? clause = null;

        void Close(int end)
        {
            if (clause is null) return;
            clause.Length = end - clause.Start;
            clauses.Add(clause);
            clause = null;
            state.Reset();
        }

        for (var i = 0; i < text.Length;)
        {
            var c = text[i];
            var punctuation = Punctuation(c);
            if (punctuation != EnglishSentiment.Break.None)
            {
                Close(i);
                if (punctuation == EnglishSentiment.Break.Sentence) sentence++;
                i++;
                continue;
            }
            if (char.IsAsciiLetterOrDigit(c) || char.IsWhiteSpace(c))
            {
                clause ??= new RawClause(i, sentence, ClauseRole.Plain);
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || char.IsWhiteSpace(text[i]) && text[i] != '\n')) i++;
                state.Age();
                continue;
            }
            var (word, length) = SentimentLexicon.ChineseAt(text, i);
            if (length == 0)
            {
                clause ??= new RawClause(i, sentence, ClauseRole.Plain);
                i++;
                state.Age();
                continue;
            }
            var atClauseStart = clause is null || clause.Start == i;
            var role = word.Kind switch
            {
                WordKind.Adversative => ClauseRole.Adversative,
                WordKind.Concessive => ClauseRole.Concessive,
                WordKind.AdversativeAtStart when atClauseStart => ClauseRole.Adversative,
                _ => ClauseRole.Plain,
            };
            if (role != ClauseRole.Plain)
            {
                Close(i);
                clause = new RawClause(i + length, sentence, role);
                i += length;
                continue;
            }
            clause ??= new RawClause(i, sentence, ClauseRole.Plain);
            var (next, _) = i + length < text.Length ? SentimentLexicon.ChineseAt(text, i + length) : (default, 0);
            var follows = next is { Kind: WordKind.Sentiment or WordKind.DegreeOrSentiment, Value: not 0 };
            clause.Valence += state.Feed(word, follows);
            i += length;
        }
        Close(text.Length);
        return clauses;
    }

    private static EnglishSentiment.Break Punctuation(char c) => c switch
    {
        '。' or '！' or '？' or '；' or '.' or '!' or '?' or ';' or '\n' or '…' => EnglishSentiment.Break.Sentence,
        '，' or ',' or '：' or ':' or '（' or '）' or '(' or ')' or '—' or '~' or '～' => EnglishSentiment.Break.Clause,
        _ => EnglishSentiment.Break.None,
    };
}
