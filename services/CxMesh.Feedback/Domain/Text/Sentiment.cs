namespace CxMesh.Feedback.Domain.Text;

public enum Polarity
{
    Negative,
    Neutral,
    Positive,

    /// <summary>A clearly positive and a clearly negative clause side by side, neither outweighing the other.</summary>
    Mixed,
}

/// <summary>A sentiment score from −1 to 1; <see cref="Mixed"/> when the text holds both feelings (its score is then their balance).</summary>
public readonly record struct SentimentScore(double Score, bool Mixed = false)
{
    /// <summary>The score's reading: below −0.05 negative, above 0.05 positive, unless the text is mixed.</summary>
    public Polarity Polarity => Mixed ? Polarity.Mixed : Score < -0.05 ? Polarity.Negative : Score > 0.05 ? Polarity.Positive : Polarity.Neutral;
}

/// <summary>One clause of a text (characters <c>[Start, Start + Length)</c>), its own sentiment, and the weight its place gives it.</summary>
/// <remarks>The weight is ½ for a clause a contrast concedes ("although …", the part before "but") and 1½ for the one it stresses.</remarks>
public readonly record struct ScoredClause(int Start, int Length, SentimentScore Sentiment, double Weight);

public sealed record SentimentAnalysis(SentimentScore Overall, IReadOnlyList<ScoredClause> Clauses);

/// <summary>Scores text from −1 (negative) to 1 (positive), clause by clause. An interface so a stronger model can replace the lexicon.</summary>
public interface ISentimentAnalyzer
{
    SentimentAnalysis Analyze(string text, string language);

    SentimentScore Score(string text, string language) => Analyze(text, language).Overall;
}

/// <summary>
/// Lexicon sentiment for English and Chinese, clause by clause. The text is cut into clauses at punctuation and at contrast
/// markers (but / however / although / 但是 / 不过 / 虽然 …); inside a clause a negation reaches to the clause's end (so
/// "I don't think it was good" and 我不认为这次服务很好 are negative), two negations cancel, degree words scale the next
/// sentiment word, and idioms (couldn't be happier, 挑不出毛病) and non-negating uses (not only, 不仅, 没想到) are words of
/// their own. The item's score is the weighted sum of its clauses (a conceded clause counts ½, a stressed one 1½), squashed
/// to [−1, 1] with x / √(x² + 15) as VADER does; it is <see cref="Polarity.Mixed"/> when a clearly positive and a clearly
/// negative clause coexist and neither side outweighs the other more than <see cref="Dominance"/> times.
/// Lexicons: VADER's (C.J. Hutto, MIT; the JavaScript port's copy, Apache-2.0) and CxMesh's own customer-experience
/// lexicons for English and Chinese (<c>Domain/Text/Lexicons</c>).
/// </summary>
public sealed class LexiconSentiment : ISentimentAnalyzer
{
    /// <summary>Clauses of one sign at least this strong together (raw valence, about a plain "good" or "slow") make the text clearly positive or negative.</summary>
    public const double ClearValence = 1.0;

    /// <summary>A text with clear clauses of both signs is mixed unless one side outweighs the other by more than this (unweighted).</summary>
    public const double Dominance = 2.0;

    public SentimentScore Score(string text, string language) => Analyze(text, language).Overall;

    public SentimentAnalysis Analyze(string text, string language)
    {
        var raw = language == LanguageDetector.Chinese ? ChineseSentiment.Clauses(text) : EnglishSentiment.Clauses(text);
        ClauseWeights.Apply(raw);
        double total = 0, positive = 0, negative = 0;
        var clauses = new ScoredClause[raw.Count];
        for (var i = 0; i < raw.Count; i++)
        {
            var c = raw[i];
            var weighted = c.Valence * c.Weight;
            total += weighted;
            if (c.Valence > 0) positive += c.Valence;
            else negative -= c.Valence;
            clauses[i] = new ScoredClause(c.Start, c.Length, new SentimentScore(Squash(c.Valence)), c.Weight);
        }
        var mixed = positive >= ClearValence && negative >= ClearValence && Math.Max(positive, negative) <= Dominance * Math.Min(positive, negative);
        return new SentimentAnalysis(new SentimentScore(Squash(total), mixed), clauses);
    }

    internal static double Squash(double x) => x / Math.Sqrt(x * x + 15);
}

/// <summary>What punctuation does to the clause being read: nothing, ends it (a comma), or ends it and its sentence.</summary>
internal enum TextBreak
{
    None = 0,
    Clause = 1,
    Sentence = 2,
}

/// <summary>What a clause's first word says about its place in a contrast.</summary>
internal enum ClauseRole
{
    Plain,

    /// <summary>Starts with but / however / 但是 / 不过: the clauses before it in its sentence are conceded, it and what follows stressed.</summary>
    Adversative,

    /// <summary>Starts with although / 虽然 / 尽管: it is conceded, the rest of its sentence stressed.</summary>
    Concessive,
}

internal sealed class RawClause(int start, int sentence, ClauseRole role)
{
    public int Start { get; } = start;
    public int Length { get; set; }
    public int Sentence { get; } = sentence;
    public ClauseRole Role { get; } = role;
    public double Valence { get; set; }
    public double Weight { get; set; } = 1;
}

/// <summary>The clauses of one text as a language's reader finds them: one open at a time, closed at punctuation or a contrast.</summary>
internal sealed class ClauseCollector
{
    private ClauseState _state;

    public ClauseCollector() => _state.Reset();

    public List<RawClause> Clauses { get; } = [];

    public int Sentence { get; private set; }

    public RawClause? Current { get; private set; }

    /// <summary>Nothing read yet in this sentence (so "Though …" concedes and "… though" stresses).</summary>
    public bool AtSentenceStart => Current is null && (Clauses.Count == 0 || Clauses[^1].Sentence != Sentence);

    public void Close(int end, bool endsSentence = false)
    {
        if (Current is { } clause)
        {
            clause.Length = end - clause.Start;
            Clauses.Add(clause);
            Current = null;
            _state.Reset();
        }
        if (endsSentence) Sentence++;
    }

    /// <summary>Closes the open clause and opens one after a contrast marker.</summary>
    public void Open(int start, ClauseRole role)
    {
        Close(start);
        Current = new RawClause(start, Sentence, role);
    }

    /// <summary>Feeds a word at <paramref name="start"/> into the open clause (opening a plain one if none is).</summary>
    public void Feed(int start, Word word, bool sentimentFollows)
    {
        Current ??= new RawClause(start, Sentence, ClauseRole.Plain);
        Current.Valence += _state.Feed(word, sentimentFollows);
    }

    /// <summary>A stretch without sentiment words (digits, Latin letters in Chinese text): it opens a clause and ages a pending degree word.</summary>
    public void Skip(int start)
    {
        Current ??= new RawClause(start, Sentence, ClauseRole.Plain);
        _state.Age();
    }
}

internal static class ClauseWeights
{
    public const double Conceded = 0.5;
    public const double Stressed = 1.5;

    /// <summary>A stressed clause weaker than this said nothing the lexicons could read.</summary>
    public const double Unread = 0.3;

    public static void Apply(List<RawClause> clauses)
    {
        var stress = false;
        var segmentStart = 0;
        for (var k = 0; k < clauses.Count; k++)
        {
            var c = clauses[k];
            var firstInSentence = k == 0 || clauses[k - 1].Sentence != c.Sentence;
            if (firstInSentence)
            {
                stress = false;
                segmentStart = k;
            }
            switch (c.Role)
            {
                case ClauseRole.Adversative:
                    // "X. But Y" concedes the sentence before; "X, but Y" the clauses since the last contrast.
                    var from = firstInSentence && k > 0 ? FirstOfSentence(clauses, k - 1) : segmentStart;
                    double conceded = 0;
                    for (var j = from; j < k; j++)
                    {
                        clauses[j].Weight = Conceded;
                        conceded += clauses[j].Valence;
                    }
                    // "Lovely staff, however the queue barely moved": a contrast says the stressed clause goes against
                    // the conceded one, even in words no lexicon holds. Read it as the mirror of what it contrasts with.
                    if (Math.Abs(c.Valence) < Unread && Math.Abs(conceded) >= LexiconSentiment.ClearValence) c.Valence = -conceded;
                    c.Weight = Stressed;
                    stress = true;
                    segmentStart = k;
                    break;
                case ClauseRole.Concessive:
                    c.Weight = Conceded;
                    stress = true;
                    break;
                default:
                    c.Weight = stress ? Stressed : 1;
                    break;
            }
        }
    }

    private static int FirstOfSentence(List<RawClause> clauses, int k)
    {
        while (k > 0 && clauses[k - 1].Sentence == clauses[k].Sentence) k--;
        return k;
    }
}

/// <summary>What a lexicon entry does in a clause.</summary>
internal enum WordKind
{
    /// <summary>Carries a valence (which may be 0: a word that only hides a sentiment word inside it, like 快递).</summary>
    Sentiment,

    /// <summary>Reverses the next sentiment word, however far on in the clause ("I don't think it was good").</summary>
    Negator,

    /// <summary>"I don't think", 不觉得: reverses every sentiment word of the rest of its clause (negation raising).</summary>
    RaisingNegator,

    /// <summary>"or" / "nor": carries a negation on to the next sentiment word ("not friendly or helpful").</summary>
    Coordinator,

    /// <summary>A service event whose absence hurts: no valence of its own, its value when negated (never responded, 没发货).</summary>
    Expected,

    /// <summary>Scales the next sentiment word (very ×1.3, slightly ×0.6).</summary>
    Degree,

    /// <summary>A degree word when a sentiment word follows (pretty good, 好快), a sentiment word otherwise.</summary>
    DegreeOrSentiment,

    Adversative,
    Concessive,

    /// <summary>Concessive at the start of a sentence, adversative inside one ("though").</summary>
    ConcessiveAtStart,

    /// <summary>Adversative only at the start of a clause (只是 / 就是 …: "only, it was stale").</summary>
    AdversativeAtStart,
}

internal readonly record struct Word(WordKind Kind, double Value, double Degree = 1);

/// <summary>
/// The shared clause walk. A negation waits for the next sentiment word in its clause, however far ("I don't think the
/// coffee was good", 我不认为这次服务很好), and is spent on it, so "not informed about the delay" does not make the delay
/// good; two negations before one word cancel ("not unreasonable" is mildly positive, 并非不合理). A degree word scales
/// the next sentiment word.
/// </summary>
internal struct ClauseState
{
    /// <summary>VADER's factor for a negated sentiment word.</summary>
    public const double NegationFactor = -0.74;

    private int negations;
    private bool raised;
    private int spent;
    private bool carry;
    private double pendingDegree;
    private int degreeAge;

    public void Reset()
    {
        negations = 0;
        raised = false;
        spent = 0;
        carry = false;
        pendingDegree = 1;
        degreeAge = 0;
    }

    /// <summary>Feeds one word; returns the valence it adds to the clause.</summary>
    public double Feed(Word word, bool sentimentFollows)
    {
        var carried = carry;
        carry = false;
        switch (word.Kind)
        {
            case WordKind.Negator:
                negations++;
                if (word.Degree != 1) SetDegree(word.Degree);
                return 0;
            case WordKind.RaisingNegator:
                raised = !raised;
                return 0;
            case WordKind.Coordinator:
                if (carried || spent > 0 && negations == 0) (negations, carry) = (spent, true);
                return Age();
            case WordKind.Degree:
                SetDegree(word.Value);
                return 0;
            case WordKind.DegreeOrSentiment when sentimentFollows:
                SetDegree(word.Degree);
                return 0;
            case WordKind.Expected:
                var reversals = negations + (raised ? 1 : 0);
                var absent = reversals == 0 ? 0 : reversals % 2 == 1 ? word.Value : word.Value * NegationFactor;
                Spend();
                return absent;
            case WordKind.Sentiment or WordKind.DegreeOrSentiment:
                if (word.Value == 0) return Age();
                var value = word.Value * (degreeAge > 0 ? pendingDegree : 1);
                pendingDegree = 1;
                degreeAge = 0;
                var negated = (negations + (raised ? 1 : 0)) % 2 == 1 ? value * NegationFactor : value;
                Spend();
                return negated;
            default:
                return Age();
        }
    }

    private void Spend()
    {
        spent = negations;
        negations = 0;
    }

    /// <summary>A word with no sentiment: a degree word reaches over at most two of them ("very, very good", "太不好").</summary>
    public double Age()
    {
        if (degreeAge > 0 && ++degreeAge > 3)
        {
            pendingDegree = 1;
            degreeAge = 0;
        }
        return 0;
    }

    private void SetDegree(double degree)
    {
        pendingDegree = degreeAge > 0 ? pendingDegree * degree : degree;
        degreeAge = 1;
    }
}
