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

    /// <summary>The metric's headline figure and its standard error: NPS/eNPS the net score, CSAT the top-box share, CES and custom the mean.</summary>
    public (double Value, double StandardError) Headline(MetricKind metric) => metric switch
    {
        MetricKind.Nps or MetricKind.Enps => (Nps.Value, Nps.MarginOfError / 1.96),
        MetricKind.Csat => (TopBoxShare, TopBoxMargin / 1.96),
        _ => (Mean, MeanMargin / 1.96),
    };
}

/// <summary>A difference between two independent scores, tested two-sided under the normal approximation.</summary>
public sealed record Comparison(double Difference, double Margin, double PValue, bool Significant)
{
    public static Comparison Of((double Value, double StandardError) a, long nA, (double Value, double StandardError) b, long nB, double alpha)
    {
        var difference = a.Value - b.Value;
        if (nA == 0 || nB == 0) return new Comparison(difference, 0, 1, false);
        var se = Math.Sqrt(a.StandardError * a.StandardError + b.StandardError * b.StandardError);
        var p = se == 0 ? (difference == 0 ? 1 : 0) : Statistics.TwoSidedP(difference / se);
        return new Comparison(difference, Statistics.NormalQuantile(1 - alpha / 2) * se, p, p < alpha);
    }
}
