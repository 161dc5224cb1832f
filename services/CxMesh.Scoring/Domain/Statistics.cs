namespace CxMesh.Scoring.Domain;

/// <summary>The distribution functions the scores' intervals and tests need.</summary>
public static class Statistics
{
    /// <summary>Standard normal CDF, from erfc (W. J. Cody's rational approximation via Numerical Recipes' erfc; |error| &lt; 1.2e-7).</summary>
    public static double NormalCdf(double z) => 0.5 * Erfc(-z / Math.Sqrt(2));

    private static double Erfc(double x)
    {
        var z = Math.Abs(x);
        var t = 1.0 / (1.0 + 0.5 * z);
        var r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }

    /// <summary>The Wilson score 95% interval of a share, in percent: inside 0..100 at every n; 0..100 when n = 0.</summary>
    public static (double Low, double High) Wilson(long count, long n)
    {
        if (n == 0) return (0, 100);
        const double z = 1.96;
        double size = n, p = (double)count / n, z2 = z * z;
        var denominator = 1 + z2 / size;
        var centre = (p + z2 / (2 * size)) / denominator;
        var half = z * Math.Sqrt(p * (1 - p) / size + z2 / (4 * size * size)) / denominator;
        return (100 * Math.Max(0, centre - half), 100 * Math.Min(1, centre + half));
    }

    /// <summary>Two-sided p-value of a z statistic.</summary>
    public static double TwoSidedP(double z) => double.IsNaN(z) ? 1 : Math.Min(1, 2 * (1 - NormalCdf(Math.Abs(z))));

    /// <summary>The normal quantile (Acklam's algorithm, relative error &lt; 1.2e-9).</summary>
    public static double NormalQuantile(double p)
    {
        if (p is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(p), p, "p must be in (0, 1).");
        const double low = 0.02425;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q + 3.754408661907416e+00) * q + 1);
        }
        if (p > 1 - low) return -NormalQuantile(1 - p);
        var u = p - 0.5;
        var r = u * u;
        return (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * u
            / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1);
    }

    /// <summary>Two-sided p-value of a t statistic with <paramref name="df"/> degrees of freedom.</summary>
    public static double StudentTwoSidedP(double t, double df)
    {
        if (double.IsNaN(t) || df <= 0) return 1;
        return RegularizedIncompleteBeta(df / 2, 0.5, df / (df + t * t));
    }

    /// <summary>I_x(a, b) by Lentz's continued fraction (Numerical Recipes 6.4).</summary>
    public static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        var front = Math.Exp(LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x));
        return x < (a + 1) / (a + b + 2)
            ? front * BetaFraction(a, b, x) / a
            : 1 - front * BetaFraction(b, a, 1 - x) / b;
    }

    private static double BetaFraction(double a, double b, double x)
    {
        const double tiny = 1e-300;
        double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
        if (Math.Abs(d) < tiny) d = tiny;
        d = 1 / d;
        var h = d;
        for (var m = 1; m <= 300; m++)
        {
            var m2 = 2 * m;
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + aa * d;
            if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + aa / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + aa * d;
            if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + aa / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 3e-15) break;
        }
        return h;
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, n = 9).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        x -= 1;
        var sum = 0.99999999999980993 + 676.5203681218851 / (x + 1) - 1259.1392167224028 / (x + 2) + 771.32342877765313 / (x + 3)
            - 176.61502916214059 / (x + 4) + 12.507343278686905 / (x + 5) - 0.13857109526572012 / (x + 6)
            + 9.9843695780195716e-6 / (x + 7) + 1.5056327351493116e-7 / (x + 8);
        var t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
