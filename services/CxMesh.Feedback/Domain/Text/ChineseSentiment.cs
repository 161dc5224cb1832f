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
        var clauses = new ClauseCollector();
        for (var i = 0; i < text.Length;)
        {
            var c = text[i];
            var punctuation = Punctuation(c);
            if (punctuation != TextBreak.None)
            {
                clauses.Close(i, endsSentence: punctuation == TextBreak.Sentence);
                i++;
                continue;
            }
            if (char.IsAsciiLetterOrDigit(c) || char.IsWhiteSpace(c))
            {
                clauses.Skip(i);
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || char.IsWhiteSpace(text[i]) && text[i] != '\n')) i++;
                continue;
            }
            var (word, length) = SentimentLexicon.ChineseAt(text, i);
            if (length == 0)
            {
                clauses.Skip(i);
                i++;
                continue;
            }
            var atClauseStart = clauses.Current is null || clauses.Current.Start == i;
            var role = word.Kind switch
            {
                WordKind.Adversative => ClauseRole.Adversative,
                WordKind.Concessive => ClauseRole.Concessive,
                WordKind.AdversativeAtStart when atClauseStart => ClauseRole.Adversative,
                _ => ClauseRole.Plain,
            };
            if (role != ClauseRole.Plain)
            {
                clauses.Open(i + length, role);
                i += length;
                continue;
            }
            var (next, _) = i + length < text.Length ? SentimentLexicon.ChineseAt(text, i + length) : (default, 0);
            clauses.Feed(i, word, next is { Kind: WordKind.Sentiment or WordKind.DegreeOrSentiment, Value: not 0 });
            i += length;
        }
        clauses.Close(text.Length);
        return clauses.Clauses;
    }

    private static TextBreak Punctuation(char c) => c switch
    {
        '。' or '！' or '？' or '；' or '.' or '!' or '?' or ';' or '\n' or '…' => TextBreak.Sentence,
        '，' or ',' or '：' or ':' or '（' or '）' or '(' or ')' or '—' or '~' or '～' => TextBreak.Clause,
        _ => TextBreak.None,
    };
}
