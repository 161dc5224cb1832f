namespace CxMesh.Scoring.Domain;

/// <summary>What one customer did in one calendar month: touchpoints, those with revenue, revenue and cost to serve.</summary>
public readonly record struct CustomerMonth(int Touchpoints, int Purchases, double Revenue, double Cost)
{
    public static CustomerMonth Of(double revenue, double cost) => new(1, revenue > 0 ? 1 : 0, revenue, cost);

    public static CustomerMonth operator +(CustomerMonth a, CustomerMonth b) =>
        new(a.Touchpoints + b.Touchpoints, a.Purchases + b.Purchases, a.Revenue + b.Revenue, a.Cost + b.Cost);

    public static CustomerMonth operator -(CustomerMonth a, CustomerMonth b) =>
        new(a.Touchpoints - b.Touchpoints, a.Purchases - b.Purchases, a.Revenue - b.Revenue, a.Cost - b.Cost);
}

/// <summary>
/// The sufficient statistics of what customers did in the month after their answer: how many, how many came back
/// (any touchpoint), bought (a touchpoint with revenue), and the sums and sums of squares of their revenue and cost.
/// They add and subtract, so an answer or a touchpoint changes them by a delta, in any order.
/// </summary>
public readonly record struct NextMonth(long Customers, long Retained, long Purchasing, double Revenue, double RevenueSquares, double Cost, double CostSquares)
{
    /// <summary>One customer whose following month was <paramref name="month"/> (all zero: they did not come back).</summary>
    public static NextMonth Of(CustomerMonth month) => new(1, month.Touchpoints > 0 ? 1 : 0, month.Purchases > 0 ? 1 : 0,
        month.Revenue, month.Revenue * month.Revenue, month.Cost, month.Cost * month.Cost);

    public static NextMonth operator +(NextMonth a, NextMonth b) => new(a.Customers + b.Customers, a.Retained + b.Retained, a.Purchasing + b.Purchasing,
        a.Revenue + b.Revenue, a.RevenueSquares + b.RevenueSquares, a.Cost + b.Cost, a.CostSquares + b.CostSquares);

    public static NextMonth operator -(NextMonth a, NextMonth b) => new(a.Customers - b.Customers, a.Retained - b.Retained, a.Purchasing - b.Purchasing,
        a.Revenue - b.Revenue, a.RevenueSquares - b.RevenueSquares, a.Cost - b.Cost, a.CostSquares - b.CostSquares);

    public bool IsZero => this == default;
}

/// <summary>A share in percent with its Wilson 95% interval.</summary>
public readonly record struct ShareFigure(long Count, long N, double Percent, double Low, double High)
{
    public static ShareFigure Of(long count, long n)
    {
        var (low, high) = Statistics.Wilson(count, n);
        return new ShareFigure(count, n, n == 0 ? 0 : 100.0 * count / n, low, high);
    }

    /// <summary>The share (0..1) and its standard error.</summary>
    public (double P, double StandardError) Proportion => N == 0 ? (0, 0) : ((double)Count / N, Math.Sqrt((double)Count / N * (1 - (double)Count / N) / N));
}

/// <summary>A mean per customer with its 95% margin; no margin below two customers.</summary>
public readonly record struct MeanFigure(long N, double Mean, double StandardError)
{
    public static MeanFigure Of(long n, double sum, double squares)
    {
        if (n == 0) return new MeanFigure(0, 0, 0);
        var mean = sum / n;
        var variance = n < 2 ? 0 : Math.Max(0, (squares - sum * sum / n) / (n - 1));
        return new MeanFigure(n, mean, Math.Sqrt(variance / n));
    }

    public bool HasMargin => N >= 2;

    public double Margin => 1.96 * StandardError;
}

/// <summary>A difference with its 95% interval and two-sided p-value; <see cref="HasValue"/> false when a side is empty.</summary>
public sealed record DifferenceFigure(double Value, double Low, double High, double PValue, bool Significant, bool HasValue)
{
    public static readonly DifferenceFigure None = new(0, 0, 0, 1, false, false);

    public static DifferenceFigure Of(double value, double standardError, double testStandardError)
    {
        var p = testStandardError > 0 ? Statistics.TwoSidedP(value / testStandardError) : 1;
        return new DifferenceFigure(value, value - 1.96 * standardError, value + 1.96 * standardError, p, p < 0.05, true);
    }

    public DifferenceFigure Times(double factor) => HasValue
        ? this with { Value = Value * factor, Low = Math.Min(Low * factor, High * factor), High = Math.Max(Low * factor, High * factor) }
        : this;
}

/// <summary>The area under the ROC curve of a 0-10 answer predicting a yes/no outcome, with its Hanley-McNeil interval.</summary>
public readonly record struct AucFigure(long Customers, long Positives, double Auc, double StandardError)
{
    public bool HasValue => Positives > 0 && Positives < Customers;

    public double Low => Math.Max(0, Auc - 1.96 * StandardError);

    public double High => Math.Min(1, Auc + 1.96 * StandardError);
}

/// <summary>
/// The value of experience from per-rating <see cref="NextMonth"/> statistics: figures per NPS class, promoters
/// against detractors, the revenue at risk, and the predictive power of the answers.
/// </summary>
public static class ExperienceValue
{
    public const int Ratings = 11;

    public sealed record ClassFigures(NpsCategory Class, long Customers, ShareFigure Retained, ShareFigure RepeatPurchase, MeanFigure Spend, MeanFigure CostToServe);

    public static NextMonth Sum(IReadOnlyList<NextMonth> byRating, NpsCategory category)
    {
        var total = default(NextMonth);
        for (var rating = 0; rating < byRating.Count; rating++)
        {
            if (NpsTally.Classify(rating) == category) total += byRating[rating];
        }
        return total;
    }

    public static ClassFigures Figures(NpsCategory category, NextMonth s) => new(category, s.Customers,
        ShareFigure.Of(s.Retained, s.Customers), ShareFigure.Of(s.Purchasing, s.Customers),
        MeanFigure.Of(s.Customers, s.Revenue, s.RevenueSquares), MeanFigure.Of(s.Customers, s.Cost, s.CostSquares));

    /// <summary>
    /// a − b in percentage points: the interval from the samples' own standard errors, the test from the pooled share
    /// (the two-proportion z-test).
    /// </summary>
    public static DifferenceFigure SharePoints(ShareFigure a, ShareFigure b)
    {
        if (a.N == 0 || b.N == 0) return DifferenceFigure.None;
        var (pa, sea) = a.Proportion;
        var (pb, seb) = b.Proportion;
        var pooled = (double)(a.Count + b.Count) / (a.N + b.N);
        var testSe = Math.Sqrt(pooled * (1 - pooled) * (1.0 / a.N + 1.0 / b.N));
        var se = Math.Sqrt(sea * sea + seb * seb);
        return DifferenceFigure.Of(100 * (pa - pb), 100 * (se > 0 ? se : testSe), 100 * testSe);
    }

    /// <summary>a − b of two means, with Welch's (unpooled) standard error.</summary>
    public static DifferenceFigure Means(MeanFigure a, MeanFigure b)
    {
        if (a.N == 0 || b.N == 0) return DifferenceFigure.None;
        var se = Math.Sqrt(a.StandardError * a.StandardError + b.StandardError * b.StandardError);
        return DifferenceFigure.Of(a.Mean - b.Mean, se, se);
    }

    /// <summary>Detractors × (promoters' spend per customer − detractors'): what detractors would have spent as promoters.</summary>
    public static DifferenceFigure RevenueAtRisk(ClassFigures promoters, ClassFigures detractors) =>
        Means(promoters.Spend, detractors.Spend).Times(detractors.Customers);

    /// <summary>
    /// AUC of the rating for "came back": P(a customer who came back rated higher than one who did not), ties half
    /// (the Mann-Whitney statistic from the 11-level table), and its Hanley and McNeil (1982) standard error.
    /// </summary>
    public static AucFigure Auc(IReadOnlyList<NextMonth> byRating)
    {
        long positives = 0, negatives = 0;
        foreach (var s in byRating)
        {
            positives += s.Retained;
            negatives += s.Customers - s.Retained;
        }
        if (positives == 0 || negatives == 0) return new AucFigure(positives + negatives, positives, 0.5, 0);
        double wins = 0, negativesBelow = 0;
        foreach (var s in byRating)
        {
            var negativesHere = s.Customers - s.Retained;
            wins += s.Retained * (negativesBelow + 0.5 * negativesHere);
            negativesBelow += negativesHere;
        }
        double p = positives, n = negatives;
        var auc = wins / (p * n);
        var q1 = auc / (2 - auc);
        var q2 = 2 * auc * auc / (1 + auc);
        var variance = (auc * (1 - auc) + (p - 1) * (q1 - auc * auc) + (n - 1) * (q2 - auc * auc)) / (p * n);
        return new AucFigure(positives + negatives, positives, auc, Math.Sqrt(Math.Max(0, variance)));
    }

    /// <summary>a − b of two AUCs of independent samples.</summary>
    public static DifferenceFigure AucDifference(AucFigure a, AucFigure b)
    {
        if (!a.HasValue || !b.HasValue) return DifferenceFigure.None;
        var se = Math.Sqrt(a.StandardError * a.StandardError + b.StandardError * b.StandardError);
        return DifferenceFigure.Of(a.Auc - b.Auc, se, se);
    }
}
