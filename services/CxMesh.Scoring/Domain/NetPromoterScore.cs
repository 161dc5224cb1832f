namespace CxMesh.Scoring.Domain;

public enum NpsCategory
{
    Detractor,
    Passive,
    Promoter,
}

/// <summary>
/// Counts of promoters (9-10), passives (7-8) and detractors (0-6): the sufficient statistics of NPS.
/// Tallies add commutatively, so per-day tallies sum to any window exactly.
/// </summary>
public readonly record struct NpsTally(long Promoters, long Passives, long Detractors)
{
    public long N => Promoters + Passives + Detractors;

    /// <summary>100 · (p − d), in [−100, 100]; 0 when there are no responses.</summary>
    public double Value => N == 0 ? 0 : 100.0 * (Promoters - Detractors) / N;

    /// <summary>
    /// Half-width of the 95% confidence interval: 1.96 · 100 · √([(p + d) − (p − d)²] / n),
    /// the normal approximation to the variance of a difference of multinomial shares.
    /// </summary>
    public double MarginOfError
    {
        get
        {
            if (N == 0) return 0;
            double p = (double)Promoters / N, d = (double)Detractors / N;
            var variance = (p + d) - (p - d) * (p - d);
            return 1.96 * 100 * Math.Sqrt(Math.Max(variance, 0) / N);
        }
    }

    public static NpsTally operator +(NpsTally a, NpsTally b) =>
        new(a.Promoters + b.Promoters, a.Passives + b.Passives, a.Detractors + b.Detractors);

    /// <summary>The lowest rating of a promoter (9-10). The one place the cut-offs are written in scoring.</summary>
    public const int PromoterFrom = 9;
    /// <summary>The highest rating of a detractor (0-6).</summary>
    public const int DetractorUpTo = 6;

    public static NpsCategory Classify(int rating) => rating switch
    {
        < 0 or > 10 => throw new ArgumentOutOfRangeException(nameof(rating), rating, "NPS ratings run from 0 to 10."),
        >= PromoterFrom => NpsCategory.Promoter,
        > DetractorUpTo => NpsCategory.Passive,
        _ => NpsCategory.Detractor,
    };

    public static NpsTally Of(int rating) => Classify(rating) switch
    {
        NpsCategory.Promoter => new NpsTally(1, 0, 0),
        NpsCategory.Passive => new NpsTally(0, 1, 0),
        _ => new NpsTally(0, 0, 1),
    };
}
