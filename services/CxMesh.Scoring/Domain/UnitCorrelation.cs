namespace CxMesh.Scoring.Domain;

/// <summary>How two figures go together across units: Pearson's r with its Fisher-z interval and t-test, Spearman's rho, the slope.</summary>
public sealed record Correlation(int N, double R, double Low, double High, double PValue, bool HasValue, double Slope, double Rho)
{
    public const int MinPoints = 4;

    public static readonly Correlation None = new(0, 0, -1, 1, 1, false, 0, 0);

    /// <summary>Over the points (x, y): has no value with fewer than <see cref="MinPoints"/> points or when either has no spread.</summary>
    public static Correlation Of(IReadOnlyList<(double X, double Y)> points)
    {
        var n = points.Count;
        if (n < MinPoints) return None with { N = n };
        var (r, slope) = Pearson(points);
        if (double.IsNaN(r)) return None with { N = n };
        var rho = Pearson(Ranks(points.Select(p => p.X).ToList()).Zip(Ranks(points.Select(p => p.Y).ToList())).ToList()).R;
        // Fisher's z: atanh(r) is near normal with standard error 1/sqrt(n - 3).
        var clamped = Math.Clamp(r, -0.999999, 0.999999);
        var z = Math.Atanh(clamped);
        var half = Statistics.NormalQuantile(0.975) / Math.Sqrt(n - 3);
        // t = r sqrt((n - 2) / (1 - r^2)) with n - 2 degrees of freedom.
        var t = clamped * Math.Sqrt((n - 2) / (1 - clamped * clamped));
        return new Correlation(n, r, Math.Tanh(z - half), Math.Tanh(z + half), Statistics.StudentTwoSidedP(t, n - 2), true, slope, double.IsNaN(rho) ? 0 : rho);
    }

    /// <summary>Pearson's r and the least-squares slope of y on x; NaN when either has no spread.</summary>
    private static (double R, double Slope) Pearson(IReadOnlyList<(double X, double Y)> points)
    {
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        double sxy = 0, sxx = 0, syy = 0;
        foreach (var (x, y) in points)
        {
            sxy += (x - mx) * (y - my);
            sxx += (x - mx) * (x - mx);
            syy += (y - my) * (y - my);
        }
        if (sxx <= 0 || syy <= 0) return (double.NaN, 0);
        return (Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1), sxy / sxx);
    }

    /// <summary>1-based ranks, ties sharing the mean of their places.</summary>
    public static IReadOnlyList<double> Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToList();
        var ranks = new double[values.Count];
        for (var i = 0; i < order.Count;)
        {
            var j = i;
            while (j + 1 < order.Count && values[order[j + 1]] == values[order[i]]) j++;
            for (var k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2.0 + 1;
            i = j + 1;
        }
        return ranks;
    }
}
