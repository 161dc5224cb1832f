namespace CxMesh.Scoring.Domain;

/// <summary>What the drivers (x) of a model are: see the scoring proto's <c>DriverKind</c>.</summary>
public enum DriverKind
{
    /// <summary>x = the sentiment of the theme's mention (−1..1), 0 when the response does not mention it.</summary>
    ThemeSentiment,

    /// <summary>x = 1 when the response mentions the theme, 0 when not.</summary>
    ThemePresence,

    /// <summary>x = the rating of an attribute question registered as a driver of the outcome's question; pairwise deletion.</summary>
    AttributeRating,
}

/// <summary>
/// One row of key-driver sums (migration 0006). A driver's row sums over the responses where the driver is present
/// (a theme mentioned, an attribute rated): count, negatives (mentions below neutral), Σx, Σx², Σxy, Σy, Σy². A pair's
/// row sums over the responses where both are present: count, Σxₐ, Σxₐ², Σxₐx_b, Σx_b, Σx_b² (themes keep only the
/// count and Σxₐx_b: a theme's x is 0, not missing, where it is absent).
/// </summary>
public readonly record struct DriverRow(long Count, long Negatives, double S1, double S2, double S3, double S4, double S5);

/// <summary>
/// Everything key-driver analysis needs, as sums that add across days: n, Σy, Σy² of the outcome's responses, each
/// driver's row and each pair's row. Its size depends on the number of drivers, not of responses. Attribute drivers
/// are keyed by <see cref="AttributePrefix"/> and the question id, themes by their key.
/// </summary>
public sealed record DriverSums(long N, double SumY, double SumYY, IReadOnlyDictionary<string, DriverRow> Drivers,
    IReadOnlyDictionary<(string A, string B), DriverRow> Pairs)
{
    public const string AttributePrefix = "@";

    public static string AttributeKey(string questionId) => AttributePrefix + questionId;

    public static bool IsAttribute(string key) => key.StartsWith(AttributePrefix, StringComparison.Ordinal);

    /// <summary>The row of two drivers, in either order; null when no response had both.</summary>
    public DriverRow? Pair(string a, string b) =>
        Pairs.TryGetValue(string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a), out var row) ? row : null;
}

/// <summary>
/// One driver of a model: <paramref name="Key"/> is the theme or the attribute question; <paramref name="Mentions"/> the
/// responses where it is present; <paramref name="MeanRating"/> an attribute's mean rating (null for a theme).
/// </summary>
public sealed record DriverResult(
    string Key, double Correlation, double RelativeWeight, double? Shapley, double Beta, double T, double PValue, bool Significant,
    long Mentions, double NegativePercent, double? MeanRating = null);

public sealed record DriverModel(long N, double RSquared, IReadOnlyList<DriverResult> Drivers, bool ShapleyComputed, string? Note);

/// <summary>
/// Key-driver analysis from sufficient statistics: the regression of the outcome on the drivers, in standardised form
/// (the correlation matrix), with Johnson's (2000) relative weights and exact Shapley values (Lindeman, Merenda and
/// Gold's averaging over orderings, i.e. general dominance) for up to 15 drivers. Theme drivers are complete for every
/// response (x is 0 where a theme is absent); attribute ratings may be skipped, so their correlations are pairwise
/// (each from the responses that rated both of its variables) and the model's n is the smallest such count.
/// </summary>
public static class KeyDriverAnalysis
{
    public const int MaxShapleyDrivers = 15;
    private const double Singular = 1e-10;

    /// <summary>The correlations of the candidate drivers: with the outcome, among themselves (NaN: undefined), and the responses behind each.</summary>
    private sealed record Correlations(IReadOnlyList<string> Keys, double[] WithY, double[,] Among, long[] CountY, long[,] CountAmong);

    public static DriverModel Analyze(DriverSums sums, long minMentions, double alpha) => Analyze(sums, DriverKind.ThemeSentiment, minMentions, alpha);

    public static DriverModel Analyze(DriverSums sums, DriverKind kind, long minMentions, double alpha)
    {
        var n = sums.N;
        if (n < 3) return Empty(n, "too few responses in the scope and window");
        if (Variance(sums.SumY, sums.SumYY, n) <= Singular) return Empty(n, "the outcome does not vary in the scope and window");
        var c = kind == DriverKind.AttributeRating ? Pairwise(sums, minMentions) : Complete(sums, kind, minMentions);
        if (c.Keys.Count == 0)
        {
            return Empty(n, kind switch
            {
                DriverKind.ThemeSentiment => $"no theme is mentioned at least {minMentions} times with varying sentiment",
                DriverKind.ThemePresence => $"no theme is mentioned at least {minMentions} times and left unmentioned in other responses",
                _ => $"no attribute question registered as a driver of this outcome was rated at least {minMentions} times with varying ratings",
            });
        }

        // Drivers that are exact combinations of others cannot be told apart (nor can two never seen together): keep the first.
        var chosen = new List<int>();
        foreach (var i in Enumerable.Range(0, c.Keys.Count))
        {
            var trial = chosen.Append(i).ToList();
            if (trial.All(a => trial.All(b => !double.IsNaN(c.Among[a, b]))) && Cholesky(Submatrix(c.Among, trial)) is not null) chosen = trial;
        }
        var k = chosen.Count;
        // Pairwise: the model rests on the fewest responses behind any of its correlations.
        var modelN = chosen.Min(a => Math.Min(c.CountY[a], chosen.Min(b => c.CountAmong[a, b])));
        if (modelN <= k + 1) return Empty(modelN, $"{modelN} responses cannot support a model of {k} drivers");

        var rxx = Submatrix(c.Among, chosen);
        var rxy = chosen.Select(i => c.WithY[i]).ToArray();
        var inverse = Invert(rxx);
        var beta = Multiply(inverse, rxy);
        var rSquared = Math.Clamp(Dot(rxy, beta), 0, 1);
        var df = modelN - k - 1;

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
            var key = c.Keys[chosen[j]];
            var row = sums.Drivers[key];
            var se = Math.Sqrt(Math.Max(0, (1 - rSquared) / df * inverse[j, j]));
            var t = se > 0 ? beta[j] / se : double.PositiveInfinity;
            var p = double.IsInfinity(t) ? 0 : Statistics.StudentTwoSidedP(t, df);
            var attribute = DriverSums.IsAttribute(key);
            results.Add(new DriverResult(attribute ? key[DriverSums.AttributePrefix.Length..] : key, rxy[j], weights[j], shapley?[j], beta[j], t, p, p < alpha,
                row.Count, attribute || row.Count == 0 ? 0 : 100.0 * row.Negatives / row.Count, attribute ? row.S1 / row.Count : null));
        }
        return new DriverModel(modelN, rSquared, results.OrderByDescending(r => r.RelativeWeight).ToList(), shapley is not null, null);
    }

    /// <summary>
    /// Themes: every response has every x (0 where a theme is absent), so the correlations come from the outcome's n
    /// responses: Σx, Σx², Σxy from the theme's row (sentiment: s1, s2, s3; presence: count, count, s4) and Σxₐx_b
    /// from the pair's (sentiment: s3; presence: count).
    /// </summary>
    private static Correlations Complete(DriverSums sums, DriverKind kind, long minMentions)
    {
        var n = sums.N;
        var presence = kind == DriverKind.ThemePresence;
        (double X, double XX, double XY) Of(DriverRow r) => presence ? (r.Count, r.Count, r.S4) : (r.S1, r.S2, r.S3);
        var keys = sums.Drivers
            .Where(d => !DriverSums.IsAttribute(d.Key) && d.Value.Count >= minMentions && Variance(Of(d.Value).X, Of(d.Value).XX, n) > Singular)
            .Select(d => d.Key).Order(StringComparer.Ordinal).ToList();
        var k = keys.Count;
        double Sd(int i) => Math.Sqrt(Variance(Of(sums.Drivers[keys[i]]).X, Of(sums.Drivers[keys[i]]).XX, n));
        var sdY = Math.Sqrt(Variance(sums.SumY, sums.SumYY, n));
        var withY = new double[k];
        var among = new double[k, k];
        var countY = new long[k];
        var countAmong = new long[k, k];
        for (var i = 0; i < k; i++)
        {
            var xi = Of(sums.Drivers[keys[i]]);
            withY[i] = (xi.XY - xi.X * sums.SumY / n) / (n - 1) / (Sd(i) * sdY);
            countY[i] = n;
            for (var j = 0; j <= i; j++)
            {
                countAmong[i, j] = countAmong[j, i] = n;
                if (i == j)
                {
                    among[i, i] = 1;
                    continue;
                }
                var pair = sums.Pair(keys[i], keys[j]);
                var cross = pair is { } p ? presence ? p.Count : p.S3 : 0;
                among[i, j] = among[j, i] = (cross - xi.X * Of(sums.Drivers[keys[j]]).X / n) / (n - 1) / (Sd(i) * Sd(j));
            }
        }
        return new Correlations(keys, withY, among, countY, countAmong);
    }

    /// <summary>Attributes: each correlation from the responses that rated both of its variables (the driver's row, the pair's row).</summary>
    private static Correlations Pairwise(DriverSums sums, long minMentions)
    {
        var keys = sums.Drivers
            .Where(d => DriverSums.IsAttribute(d.Key) && d.Value.Count >= Math.Max(minMentions, 3) && !double.IsNaN(Pearson(d.Value)))
            .Select(d => d.Key).Order(StringComparer.Ordinal).ToList();
        var k = keys.Count;
        var withY = new double[k];
        var among = new double[k, k];
        var countY = new long[k];
        var countAmong = new long[k, k];
        for (var i = 0; i < k; i++)
        {
            withY[i] = Pearson(sums.Drivers[keys[i]]);
            countY[i] = sums.Drivers[keys[i]].Count;
            among[i, i] = 1;
            countAmong[i, i] = countY[i];
            for (var j = 0; j < i; j++)
            {
                // The pair's row is kept with the smaller key's sums first.
                var pair = sums.Pair(keys[j], keys[i]);
                among[i, j] = among[j, i] = pair is { Count: >= 3 } p ? Pearson(p) : double.NaN;
                countAmong[i, j] = countAmong[j, i] = pair?.Count ?? 0;
            }
        }
        return new Correlations(keys, withY, among, countY, countAmong);
    }

    /// <summary>Pearson's r of a row's two variables (count, Σu, Σu², Σuv, Σv, Σv²); NaN when either does not vary.</summary>
    private static double Pearson(DriverRow r)
    {
        var n = r.Count;
        var varU = Variance(r.S1, r.S2, n);
        var varV = Variance(r.S4, r.S5, n);
        if (n < 3 || varU <= Singular || varV <= Singular) return double.NaN;
        return Math.Clamp((r.S3 - r.S1 * r.S4 / n) / (n - 1) / Math.Sqrt(varU * varV), -1, 1);
    }

    private static double[,] Submatrix(double[,] m, IReadOnlyList<int> rows)
    {
        var k = rows.Count;
        var result = new double[k, k];
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < k; j++) result[i, j] = m[rows[i], rows[j]];
        }
        return result;
    }

    private static DriverModel Empty(long n, string note) => new(n, 0, new List<DriverResult>(), false, note);

    private static double Variance(double sum, double sumSquares, long n) => n < 2 ? 0 : (sumSquares - sum * sum / n) / (n - 1);

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
