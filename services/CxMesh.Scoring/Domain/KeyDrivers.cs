namespace CxMesh.Scoring.Domain;

/// <summary>A theme's running sums: x is the sentiment of its mention (-1..1), 0 when the response does not mention it.</summary>
public sealed record ThemeSums(long Mentions, long Negatives, double SumX, double SumXX, double SumXY);

/// <summary>
/// Everything key-driver analysis needs, as sums that add across days: n, Σy, Σy², each theme's sums, and Σxⱼxₖ
/// for every pair of themes mentioned together. Its size depends on the number of themes, not of responses.
/// </summary>
public sealed record DriverSums(long N, double SumY, double SumYY, IReadOnlyDictionary<string, ThemeSums> Themes,
    IReadOnlyDictionary<(string A, string B), double> CrossProducts)
{
    public double Cross(string a, string b) =>
        string.CompareOrdinal(a, b) < 0
            ? CrossProducts.GetValueOrDefault((a, b))
            : CrossProducts.GetValueOrDefault((b, a));
}

public sealed record DriverResult(
    string ThemeKey, double Correlation, double RelativeWeight, double? Shapley, double Beta, double T, double PValue, bool Significant,
    long Mentions, double NegativePercent);

public sealed record DriverModel(long N, double RSquared, IReadOnlyList<DriverResult> Drivers, bool ShapleyComputed, string? Note);

/// <summary>
/// Key-driver analysis from sufficient statistics: the regression of the outcome on the themes' mention sentiment,
/// in standardised form (the correlation matrix), with Johnson's (2000) relative weights and exact Shapley values
/// (Lindeman, Merenda and Gold's averaging over orderings, i.e. general dominance) for up to 15 drivers.
/// </summary>
public static class KeyDriverAnalysis
{
    public const int MaxShapleyDrivers = 15;
    private const double Singular = 1e-10;

    public static DriverModel Analyze(DriverSums sums, long minMentions, double alpha)
    {
        var n = sums.N;
        var candidates = sums.Themes
            .Where(t => t.Value.Mentions >= minMentions && Variance(t.Value.SumX, t.Value.SumXX, n) > Singular)
            .Select(t => t.Key).Order(StringComparer.Ordinal).ToList();
        var varY = Variance(sums.SumY, sums.SumYY, n);
        if (n < 3) return Empty(n, "too few responses in the scope and window");
        if (varY <= Singular) return Empty(n, "the outcome does not vary in the scope and window");
        if (candidates.Count == 0) return Empty(n, $"no theme is mentioned at least {minMentions} times with varying sentiment");

        // Correlations among the themes and with the outcome.
        double Cov(string a, string b) => (sums.Cross(a, b) - sums.Themes[a].SumX * sums.Themes[b].SumX / n) / (n - 1);
        double SdX(string a) => Math.Sqrt(Variance(sums.Themes[a].SumX, sums.Themes[a].SumXX, n));
        var sdY = Math.Sqrt(varY);
        double CorrY(string a) => (sums.Themes[a].SumXY - sums.Themes[a].SumX * sums.SumY / n) / (n - 1) / (SdX(a) * sdY);

        // Themes that are exact combinations of others cannot be told apart: keep the first of them.
        var drivers = new List<string>();
        foreach (var theme in candidates)
        {
            var trial = drivers.Append(theme).ToList();
            if (Cholesky(CorrelationMatrix(trial, SdX, Cov)) is not null) drivers = trial;
        }
        var k = drivers.Count;
        if (n <= k + 1) return Empty(n, $"{n} responses cannot support a model of {k} drivers");

        var rxx = CorrelationMatrix(drivers, SdX, Cov);
        var rxy = drivers.Select(CorrY).ToArray();
        var inverse = Invert(rxx);
        var beta = Multiply(inverse, rxy);
        var rSquared = Math.Clamp(Dot(rxy, beta), 0, 1);
        var df = n - k - 1;

        // Johnson's relative weights: regress on the orthogonal counterpart Z of X, and share R² back through Λ = R^(1/2).
        var (values, vectors) = Eigen(rxx);
        var half = new double[k, k];
        var inverseHalf = new double[k, k];
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < k; j++)
            {
                double h = 0, ih = 0;
                for (var m = 0; m < k; m++)
                {
                    var lambda = Math.Max(values[m], 0);
                    h += vectors[i, m] * Math.Sqrt(lambda) * vectors[j, m];
                    ih += lambda > Singular ? vectors[i, m] / Math.Sqrt(lambda) * vectors[j, m] : 0;
                }
                half[i, j] = h;
                inverseHalf[i, j] = ih;
            }
        }
        var betaZ = Multiply(inverseHalf, rxy);
        var weights = new double[k];
        for (var j = 0; j < k; j++)
        {
            for (var m = 0; m < k; m++) weights[j] += half[j, m] * half[j, m] * betaZ[m] * betaZ[m];
        }

        var shapley = k <= MaxShapleyDrivers ? Shapley(rxx, rxy) : null;

        var results = new List<DriverResult>(k);
        for (var j = 0; j < k; j++)
        {
            var theme = sums.Themes[drivers[j]];
            var se = Math.Sqrt(Math.Max(0, (1 - rSquared) / df * inverse[j, j]));
            var t = se > 0 ? beta[j] / se : double.PositiveInfinity;
            var p = double.IsInfinity(t) ? 0 : Statistics.StudentTwoSidedP(t, df);
            results.Add(new DriverResult(drivers[j], rxy[j], weights[j], shapley?[j], beta[j], t, p, p < alpha,
                theme.Mentions, theme.Mentions == 0 ? 0 : 100.0 * theme.Negatives / theme.Mentions));
        }
        return new DriverModel(n, rSquared, results.OrderByDescending(r => r.RelativeWeight).ToList(), shapley is not null, null);
    }

    private static DriverModel Empty(long n, string note) => new(n, 0, new List<DriverResult>(), false, note);

    private static double Variance(double sum, double sumSquares, long n) => n < 2 ? 0 : (sumSquares - sum * sum / n) / (n - 1);

    private static double[,] CorrelationMatrix(IReadOnlyList<string> themes, Func<string, double> sd, Func<string, string, double> cov)
    {
        var k = themes.Count;
        var r = new double[k, k];
        for (var i = 0; i < k; i++)
        {
            r[i, i] = 1;
            for (var j = 0; j < i; j++) r[i, j] = r[j, i] = cov(themes[i], themes[j]) / (sd(themes[i]) * sd(themes[j]));
        }
        return r;
    }

    /// <summary>Exact Shapley values of R²: each driver's gain averaged over every subset of the others, weighted by orderings.</summary>
    public static double[] Shapley(double[,] rxx, double[] rxy)
    {
        var k = rxy.Length;
        var r2 = new double[1 << k];
        for (var mask = 1; mask < r2.Length; mask++) r2[mask] = SubsetRSquared(rxx, rxy, mask);
        var factorial = new double[k + 1];
        factorial[0] = 1;
        for (var i = 1; i <= k; i++) factorial[i] = factorial[i - 1] * i;
        var phi = new double[k];
        for (var mask = 0; mask < r2.Length; mask++)
        {
            var size = System.Numerics.BitOperations.PopCount((uint)mask);
            for (var j = 0; j < k; j++)
            {
                if ((mask & (1 << j)) != 0) continue;
                phi[j] += factorial[size] * factorial[k - size - 1] / factorial[k] * (r2[mask | (1 << j)] - r2[mask]);
            }
        }
        return phi;
    }

    private static double SubsetRSquared(double[,] rxx, double[] rxy, int mask)
    {
        Span<int> members = stackalloc int[rxy.Length];
        var m = 0;
        for (var j = 0; j < rxy.Length; j++)
        {
            if ((mask & (1 << j)) != 0) members[m++] = j;
        }
        // Cholesky of the subset's correlation matrix, then r' R⁻¹ r = |L⁻¹ r|².
        Span<double> l = stackalloc double[m * m];
        Span<double> z = stackalloc double[m];
        double result = 0;
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = rxx[members[i], members[j]];
                for (var p = 0; p < j; p++) sum -= l[i * m + p] * l[j * m + p];
                if (i == j)
                {
                    if (sum <= Singular) return double.NaN;
                    l[i * m + i] = Math.Sqrt(sum);
                }
                else
                {
                    l[i * m + j] = sum / l[j * m + j];
                }
            }
            var zi = rxy[members[i]];
            for (var p = 0; p < i; p++) zi -= l[i * m + p] * z[p];
            z[i] = zi / l[i * m + i];
            result += z[i] * z[i];
        }
        return result;
    }

    private static double[,]? Cholesky(double[,] a)
    {
        var k = a.GetLength(0);
        var l = new double[k, k];
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = a[i, j];
                for (var p = 0; p < j; p++) sum -= l[i, p] * l[j, p];
                if (i == j)
                {
                    if (sum <= Singular) return null;
                    l[i, i] = Math.Sqrt(sum);
                }
                else
                {
                    l[i, j] = sum / l[j, j];
                }
            }
        }
        return l;
    }

    private static double[,] Invert(double[,] a)
    {
        var k = a.GetLength(0);
        var l = Cholesky(a) ?? throw new InvalidOperationException("The drivers' correlation matrix is singular.");
        var inverse = new double[k, k];
        for (var c = 0; c < k; c++)
        {
            // Solve L y = e_c, then Lᵀ x = y.
            var y = new double[k];
            for (var i = 0; i < k; i++)
            {
                var sum = i == c ? 1.0 : 0.0;
                for (var p = 0; p < i; p++) sum -= l[i, p] * y[p];
                y[i] = sum / l[i, i];
            }
            for (var i = k - 1; i >= 0; i--)
            {
                var sum = y[i];
                for (var p = i + 1; p < k; p++) sum -= l[p, i] * inverse[p, c];
                inverse[i, c] = sum / l[i, i];
            }
        }
        return inverse;
    }

    private static double[] Multiply(double[,] a, double[] v)
    {
        var result = new double[v.Length];
        for (var i = 0; i < v.Length; i++)
        {
            for (var j = 0; j < v.Length; j++) result[i] += a[i, j] * v[j];
        }
        return result;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>Eigenvalues and eigenvectors (columns) of a symmetric matrix, by cyclic Jacobi rotations.</summary>
    public static (double[] Values, double[,] Vectors) Eigen(double[,] symmetric)
    {
        var k = symmetric.GetLength(0);
        var a = (double[,])symmetric.Clone();
        var v = new double[k, k];
        for (var i = 0; i < k; i++) v[i, i] = 1;
        for (var sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (var p = 0; p < k; p++)
            {
                for (var q = p + 1; q < k; q++) off += a[p, q] * a[p, q];
            }
            if (off < 1e-22) break;
            for (var p = 0; p < k; p++)
            {
                for (var q = p + 1; q < k; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300) continue;
                    var theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    var t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    var c = 1 / Math.Sqrt(t * t + 1);
                    var s = t * c;
                    for (var r = 0; r < k; r++)
                    {
                        double arp = a[r, p], arq = a[r, q];
                        a[r, p] = c * arp - s * arq;
                        a[r, q] = s * arp + c * arq;
                    }
                    for (var r = 0; r < k; r++)
                    {
                        double apr = a[p, r], aqr = a[q, r];
                        a[p, r] = c * apr - s * aqr;
                        a[q, r] = s * apr + c * aqr;
                    }
                    for (var r = 0; r < k; r++)
                    {
                        double vrp = v[r, p], vrq = v[r, q];
                        v[r, p] = c * vrp - s * vrq;
                        v[r, q] = s * vrp + c * vrq;
                    }
                }
            }
        }
        var values = new double[k];
        for (var i = 0; i < k; i++) values[i] = a[i, i];
        return (values, v);
    }
}
