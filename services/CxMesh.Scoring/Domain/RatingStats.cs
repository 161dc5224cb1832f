namespace CxMesh.Scoring.Domain;

public enum MetricKind
{
    Nps,
    Csat,
    Ces,
    Enps,
    Custom,
}

/// <summary>A rating question's definition, as carried in feedback.received (never inferred).</summary>
public sealed record QuestionDefinition(string Id, MetricKind Metric, int ScaleMin, int ScaleMax, bool HigherIsBetter, IReadOnlyList<int> TopBox)
{
    public bool IsNpsLike => Metric is MetricKind.Nps or MetricKind.Enps;

    /// <summary>The rating's contribution to the sufficient statistics.</summary>
    public RatingStats Of(int value)
    {
        if (value < ScaleMin || value > ScaleMax) throw new ArgumentOutOfRangeException(nameof(value), value, $"outside {ScaleMin}-{ScaleMax}.");
        bool top, detractor;
        if (IsNpsLike)
        {
            var category = NpsTally.Classify(value);
            top = category == NpsCategory.Promoter;
            detractor = category == NpsCategory.Detractor;
        }
        else
        {
            top = TopBox.Contains(value);
            detractor = IsDetractor(value);
        }
        return new RatingStats(1, top ? 1 : 0, !top && !detractor ? 1 : 0, detractor ? 1 : 0, value, (double)value * value);
    }

    /// <summary>NPS and eNPS: 0-6. Other scales: the two worst values, by the question's direction (1-2 of 1-5; 4-5 of a lower-is-better 1-5).</summary>
    public bool IsDetractor(int value) => IsNpsLike
        ? NpsTally.Classify(value) == NpsCategory.Detractor
        : HigherIsBetter ? value <= ScaleMin + 1 : value >= ScaleMax - 1;
}

/// <summary>
/// The sufficient statistics of a set of ratings of one question: counts in the top box (promoters), middle
/// (passives) and detractor range, the sum and the sum of squares. They add commutatively, so per-day rows
/// sum to any window exactly, whatever order the responses came in.
/// </summary>
public readonly record struct RatingStats(long N, long TopBox, long Passives, long Detractors, double Sum, double SumSquares)
{
    public static RatingStats operator +(RatingStats a, RatingStats b) =>
        new(a.N + b.N, a.TopBox + b.TopBox, a.Passives + b.Passives, a.Detractors + b.Detractors, a.Sum + b.Sum, a.SumSquares + b.SumSquares);

    public static RatingStats operator -(RatingStats a, RatingStats b) =>
        new(a.N - b.N, a.TopBox - b.TopBox, a.Passives - b.Passives, a.Detractors - b.Detractors, a.Sum - b.Sum, a.SumSquares - b.SumSquares);

    public NpsTally Nps => new(TopBox, Passives, Detractors);

    public double Mean => N == 0 ? 0 : Sum / N;

    /// <summary>Sample standard deviation (n − 1).</summary>
    public double StandardDeviation => N < 2 ? 0 : Math.Sqrt(Math.Max(0, (SumSquares - Sum * Sum / N) / (N - 1)));

    public double MeanMargin => N < 2 ? 0 : 1.96 * StandardDeviation / Math.Sqrt(N);

    public double TopBoxShare => N == 0 ? 0 : 100.0 * TopBox / N;

    public double TopBoxMargin
    {
        get
        {
            if (N == 0) return 0;
            var s = (double)TopBox / N;
            return 1.96 * 100 * Math.Sqrt(s * (1 - s) / N);
        }
    }

    /// <summary>
    /// The Wilson score 95% interval of the top-box share, in percent: inside 0..100 at every n (the normal
    /// approximation's share ± margin is not, and is ±0 at a share of 0 or 100). 0..100 without responses.
    /// </summary>
    public (double Low, double High) TopBoxInterval
    {
        get
        {
            return Statistics.Wilson(TopBox, N);
        }
    }

    /// <summary>The metric's headline figure and its standard error: NPS/eNPS the net score, CSAT the top-box share, CES and custom the mean.</summary>
    public (double Value, double StandardError) Headline(MetricKind metric) => Figure(HeadlineFigure(metric));

    public static ScoreFigure HeadlineFigure(MetricKind metric) => metric switch
    {
        MetricKind.Nps or MetricKind.Enps => ScoreFigure.Nps,
        MetricKind.Csat => ScoreFigure.TopBoxShare,
        _ => ScoreFigure.Mean,
    };

    /// <summary>The variance one response contributes to a figure (its standard error squared times n).</summary>
    public double ResponseVariance(ScoreFigure figure)
    {
        if (N == 0) return 0;
        switch (figure)
        {
            case ScoreFigure.Nps:
                double p = (double)TopBox / N, d = (double)Detractors / N;
                return 100 * 100 * Math.Max(0, p + d - (p - d) * (p - d));
            case ScoreFigure.TopBoxShare:
                var s = (double)TopBox / N;
                return 100 * 100 * s * (1 - s);
            default:
                return N < 2 ? 0 : StandardDeviation * StandardDeviation;
        }
    }

    /// <summary>One figure of the score and its standard error.</summary>
    public (double Value, double StandardError) Figure(ScoreFigure figure) => figure switch
    {
        ScoreFigure.Nps => (Nps.Value, Nps.MarginOfError / 1.96),
        ScoreFigure.TopBoxShare => (TopBoxShare, TopBoxMargin / 1.96),
        _ => (Mean, MeanMargin / 1.96),
    };
}

/// <summary>The figures a score carries.</summary>
public enum ScoreFigure
{
    Nps,
    Mean,
    TopBoxShare,
}

/// <summary>When a figure should not be read on its own, and why (in words for the person reading it).</summary>
public static class Confidence
{
    /// <summary>
    /// Null when the figure stands; otherwise no responses, fewer than <paramref name="minResponses"/>, or a 95%
    /// interval (value ± margin) that runs past the scale [<paramref name="low"/>, <paramref name="high"/>].
    /// </summary>
    public static string? Concern(long n, int minResponses, double value, double margin, double? low, double? high)
    {
        if (n == 0) return "no responses";
        if (n < minResponses) return $"too few responses: {n}, fewer than the {minResponses} a figure needs to stand on its own";
        if (low is { } l && value - margin < l - 1e-9 || high is { } h && value + margin > h + 1e-9)
        {
            return "the 95% interval runs past the scale: too few responses for a figure this extreme";
        }
        return null;
    }
}

/// <summary>
/// A difference between two independent scores, tested two-sided under the normal approximation. Without responses on
/// either side there is no difference; with no spread on both sides (standard error 0) there is no test: the p-value is
/// then absent (1 as a placeholder) and nothing is significant, rather than p = 0 claiming certainty.
/// </summary>
public sealed record Comparison(double Difference, double Margin, double PValue, bool Significant, bool HasDifference = true, bool HasPValue = true)
{
    /// <summary>
    /// Compares one figure of two independent samples. The standard error is the samples' own (unpooled); when both
    /// samples have no spread (ten 10s against ten 2s, or one answer each) it is 0 and says nothing, so the test falls
    /// back to the pooled sample's spread — the null hypothesis's, as a two-proportion z-test uses. Only two identical,
    /// spreadless samples have no test.
    /// </summary>
    public static Comparison Of(RatingStats a, RatingStats b, ScoreFigure figure, double alpha)
    {
        if (a.N == 0 || b.N == 0) return new Comparison(0, 0, 1, false, HasDifference: false, HasPValue: false);
        var (valueA, seA) = a.Figure(figure);
        var (valueB, seB) = b.Figure(figure);
        var se = Math.Sqrt(seA * seA + seB * seB);
        if (se == 0) se = Math.Sqrt((a + b).ResponseVariance(figure) * (1.0 / a.N + 1.0 / b.N));
        return Tested(valueA - valueB, se, alpha);
    }

    public static Comparison Of((double Value, double StandardError) a, long nA, (double Value, double StandardError) b, long nB, double alpha)
    {
        if (nA == 0 || nB == 0) return new Comparison(0, 0, 1, false, HasDifference: false, HasPValue: false);
        return Tested(a.Value - b.Value, Math.Sqrt(a.StandardError * a.StandardError + b.StandardError * b.StandardError), alpha);
    }

    private static Comparison Tested(double difference, double se, double alpha)
    {
        if (se == 0) return new Comparison(difference, 0, 1, false, HasPValue: false);
        var p = Statistics.TwoSidedP(difference / se);
        return new Comparison(difference, Statistics.NormalQuantile(1 - alpha / 2) * se, p, p < alpha);
    }
}
