using CxMesh.Scoring.Data;
using CxMesh.Scoring.Domain;

namespace CxMesh.Scoring.Tests;

/// <summary>The key-driver maths, from sufficient statistics, against direct computations on the raw data.</summary>
public sealed class KeyDriverTests
{
    /// <summary>Responses with themes' mention sentiment (0 when not mentioned) and an outcome that depends on them.</summary>
    private static (double[][] X, double[] Y) Responses(int n, double[] effects, int seed, double noise = 1.5, double mentionRate = 0.4)
    {
        var random = new Random(seed);
        var x = new double[n][];
        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            x[i] = new double[effects.Length];
            for (var j = 0; j < effects.Length; j++)
            {
                if (random.NextDouble() < mentionRate) x[i][j] = Math.Round(random.NextDouble() * 2 - 1, 2);
            }
            // Themes 0 and 1 tend to be mentioned together (delivery and packaging): correlated drivers.
            if (effects.Length > 1 && x[i][0] != 0 && random.NextDouble() < 0.5) x[i][1] = Math.Round(x[i][0] * 0.8, 2);
            y[i] = 7 + Enumerable.Range(0, effects.Length).Sum(j => effects[j] * x[i][j]) + noise * Gaussian(random);
        }
        return (x, y);
    }

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static string Theme(int j) => $"theme-{j:D2}";

    /// <summary>
    /// The sums exactly as the scoring handler keeps them, read back as the store does. Themes: x ≠ 0 is a mention.
    /// Attributes: NaN is a skipped rating.
    /// </summary>
    private static DriverSums Sums(double[][] x, double[] y, DriverKindUnderTest kind = DriverKindUnderTest.Themes, string outcome = DriverOutcomes.Nps)
    {
        var rows = new Dictionary<DriverKey, DriverDelta>();
        var day = new DateOnly(2026, 11, 30);
        for (var i = 0; i < y.Length; i++)
        {
            var present = Enumerable.Range(0, x[i].Length).Where(j => kind == DriverKindUnderTest.Attributes ? !double.IsNaN(x[i][j]) : x[i][j] != 0).ToList();
            var item = kind == DriverKindUnderTest.Attributes
                ? new DriverItem(Guid.NewGuid(), day, ["all"], [(outcome, y[i])], null, [], 0,
                    present.Select(j => (DriverOutcomes.PopulationOf(outcome), Attribute(j), x[i][j])).ToList())
                : new DriverItem(Guid.NewGuid(), day, ["all"], [(outcome, y[i])], null, present.Select(j => (Theme(j), x[i][j])).ToList(), 0);
            DriverStore.AccumulateItem(rows, item);
        }
        return DriverStore.SumsOf(outcome, rows.Select(r => (r.Key.Outcome, r.Key.A, r.Key.B, r.Value.ToRow())));
    }

    private enum DriverKindUnderTest { Themes, Attributes }

    private static string Attribute(int j) => $"attribute-{j:D2}";

    /// <summary>Ordinary least squares with an intercept, by Gaussian elimination on the raw data's normal equations.</summary>
    private static (double[] Slopes, double RSquared) DirectRegression(double[][] x, double[] y)
    {
        var n = y.Length;
        var k = x[0].Length;
        var p = k + 1;
        var a = new double[p, p + 1];
        for (var i = 0; i < n; i++)
        {
            var row = new double[p];
            row[0] = 1;
            for (var j = 0; j < k; j++) row[j + 1] = x[i][j];
            for (var r = 0; r < p; r++)
            {
                for (var c = 0; c < p; c++) a[r, c] += row[r] * row[c];
                a[r, p] += row[r] * y[i];
            }
        }
        for (var col = 0; col < p; col++)
        {
            var pivot = Enumerable.Range(col, p - col).MaxBy(r => Math.Abs(a[r, col]));
            for (var c = 0; c <= p; c++) (a[col, c], a[pivot, c]) = (a[pivot, c], a[col, c]);
            for (var r = 0; r < p; r++)
            {
                if (r == col) continue;
                var f = a[r, col] / a[col, col];
                for (var c = col; c <= p; c++) a[r, c] -= f * a[col, c];
            }
        }
        var b = Enumerable.Range(0, p).Select(r => a[r, p] / a[r, r]).ToArray();
        var mean = y.Average();
        var fitted = Enumerable.Range(0, n).Select(i => b[0] + Enumerable.Range(0, k).Sum(j => b[j + 1] * x[i][j])).ToArray();
        var ssRes = Enumerable.Range(0, n).Sum(i => (y[i] - fitted[i]) * (y[i] - fitted[i]));
        var ssTot = y.Sum(v => (v - mean) * (v - mean));
        return (b.Skip(1).ToArray(), 1 - ssRes / ssTot);
    }

    private static double Sd(IEnumerable<double> values)
    {
        var list = values.ToList();
        var mean = list.Average();
        return Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / (list.Count - 1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_model_from_sums_is_the_regression_on_the_raw_responses(int seed)
    {
        double[] effects = [2.0, 0.8, -0.1, 1.2, 0.0];
        var (x, y) = Responses(800, effects, seed);
        var model = KeyDriverAnalysis.Analyze(Sums(x, y), minMentions: 10, alpha: 0.05);
        var (slopes, rSquared) = DirectRegression(x, y);

        Assert.Equal(rSquared, model.RSquared, 9);
        var sdY = Sd(y);
        for (var j = 0; j < effects.Length; j++)
        {
            // Standardised coefficient = raw slope · sd(x) / sd(y).
            var expected = slopes[j] * Sd(x.Select(r => r[j])) / sdY;
            Assert.Equal(expected, model.Drivers.Single(d => d.Key == Theme(j)).Beta, 9);
        }
    }

    [Fact]
    public void Relative_weights_and_Shapley_values_each_sum_to_R_squared_and_agree_on_the_order()
    {
        var (x, y) = Responses(1_000, [2.0, 0.8, -0.1, 1.2, 0.0, 0.5], seed: 7);
        var model = KeyDriverAnalysis.Analyze(Sums(x, y), 10, 0.05);

        Assert.True(model.ShapleyComputed);
        Assert.Equal(model.RSquared, model.Drivers.Sum(d => d.RelativeWeight), 9);
        Assert.Equal(model.RSquared, model.Drivers.Sum(d => d.Shapley!.Value), 9);
        Assert.Equal(Theme(0), model.Drivers[0].Key);
        Assert.Equal(model.Drivers.Select(d => d.Key).Take(3), model.Drivers.OrderByDescending(d => d.Shapley).Select(d => d.Key).Take(3));
    }

    [Fact]
    public void With_two_drivers_Shapley_values_are_the_closed_form_of_Lindeman_Merenda_and_Gold()
    {
        // LMG (1980) for two regressors: φ₁ = (R² + r₁² − r₂²) / 2, φ₂ = (R² + r₂² − r₁²) / 2.
        var (x, y) = Responses(600, [1.5, 0.7], seed: 11);
        var model = KeyDriverAnalysis.Analyze(Sums(x, y), 10, 0.05);
        var d1 = model.Drivers.Single(d => d.Key == Theme(0));
        var d2 = model.Drivers.Single(d => d.Key == Theme(1));
        Assert.Equal((model.RSquared + d1.Correlation * d1.Correlation - d2.Correlation * d2.Correlation) / 2, d1.Shapley!.Value, 9);
        Assert.Equal((model.RSquared + d2.Correlation * d2.Correlation - d1.Correlation * d1.Correlation) / 2, d2.Shapley!.Value, 9);
    }

    [Fact]
    public void With_uncorrelated_drivers_every_importance_measure_is_the_squared_correlation()
    {
        // Two themes never mentioned together and with mean-zero sentiment are (nearly) uncorrelated; build them exactly.
        var x = new List<double[]>();
        var y = new List<double>();
        var random = new Random(3);
        for (var i = 0; i < 400; i++)
        {
            var a = (i % 4) switch { 0 => 1.0, 1 => -1.0, _ => 0 };
            var b = (i % 4) switch { 2 => 1.0, 3 => -1.0, _ => 0 };
            x.Add([a, b]);
            y.Add(5 + 2 * a + 0.5 * b + Gaussian(random));
        }
        var model = KeyDriverAnalysis.Analyze(Sums([.. x], [.. y]), 10, 0.05);
        foreach (var d in model.Drivers)
        {
            Assert.Equal(d.Correlation * d.Correlation, d.RelativeWeight, 6);
            Assert.Equal(d.Correlation * d.Correlation, d.Shapley!.Value, 6);
        }
    }

    [Fact]
    public void A_driver_without_effect_is_shown_and_marked_not_significant()
    {
        var (x, y) = Responses(2_000, [2.5, 0.0, 0.0], seed: 5);
        var model = KeyDriverAnalysis.Analyze(Sums(x, y), 10, 0.05);
        Assert.Equal(3, model.Drivers.Count);
        Assert.True(model.Drivers.Single(d => d.Key == Theme(0)).Significant);
        Assert.True(model.Drivers.Single(d => d.Key == Theme(0)).PValue < 1e-6);
        Assert.False(model.Drivers.Single(d => d.Key == Theme(2)).Significant);
    }

    [Fact]
    public void More_than_15_drivers_get_relative_weights_but_no_Shapley_values()
    {
        var (x, y) = Responses(3_000, Enumerable.Range(0, 20).Select(j => j % 3 == 0 ? 1.0 : 0.2).ToArray(), seed: 9, mentionRate: 0.3);
        var model = KeyDriverAnalysis.Analyze(Sums(x, y), 10, 0.05);
        Assert.Equal(20, model.Drivers.Count);
        Assert.False(model.ShapleyComputed);
        Assert.All(model.Drivers, d => Assert.Null(d.Shapley));
        Assert.Equal(model.RSquared, model.Drivers.Sum(d => d.RelativeWeight), 9);
    }

    [Fact]
    public void Rare_themes_and_a_constant_outcome_give_an_empty_model_with_the_reason()
    {
        var (x, y) = Responses(200, [1.0, 1.0], seed: 1, mentionRate: 0.02);
        var rare = KeyDriverAnalysis.Analyze(Sums(x, y), minMentions: 50, alpha: 0.05);
        Assert.Empty(rare.Drivers);
        Assert.Contains("at least 50", rare.Note);

        var flat = KeyDriverAnalysis.Analyze(Sums(x, y.Select(_ => 9.0).ToArray()), 1, 0.05);
        Assert.Empty(flat.Drivers);
        Assert.Contains("does not vary", flat.Note);
    }

    [Fact]
    public void A_theme_that_duplicates_another_exactly_is_left_out_instead_of_breaking_the_model()
    {
        var (x, y) = Responses(500, [1.0, 0.5, 0.3], seed: 4);
        foreach (var row in x) row[2] = row[0];
        var model = KeyDriverAnalysis.Analyze(Sums(x, y), 10, 0.05);
        Assert.Equal(2, model.Drivers.Count);
        Assert.DoesNotContain(model.Drivers, d => d.Key == Theme(2));
    }

    [Fact]
    public void Performance_is_the_share_of_negative_mentions()
    {
        var (x, y) = Responses(500, [1.0, 0.5], seed: 8);
        var model = KeyDriverAnalysis.Analyze(Sums(x, y), 10, 0.05);
        var d = model.Drivers.Single(d => d.Key == Theme(0));
        var mentions = x.Where(r => r[0] != 0).ToList();
        Assert.Equal(mentions.Count, d.Mentions);
        Assert.Equal(100.0 * mentions.Count(r => r[0] < -0.05) / mentions.Count, d.NegativePercent, 9);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void The_presence_model_is_the_regression_on_whether_each_theme_is_mentioned(int seed)
    {
        var (x, y) = Responses(900, [1.5, -0.6, 0.9, 0.0], seed, mentionRate: 0.3);
        // Whether a theme is mentioned moves the outcome too: mentions of theme 1 go with lower ratings.
        for (var i = 0; i < y.Length; i++) y[i] += x[i][1] != 0 ? -1.0 : 0;
        var model = KeyDriverAnalysis.Analyze(Sums(x, y), DriverKind.ThemePresence, minMentions: 10, alpha: 0.05);
        var mentioned = x.Select(r => r.Select(v => v != 0 ? 1.0 : 0.0).ToArray()).ToArray();
        var (slopes, rSquared) = DirectRegression(mentioned, y);

        Assert.Equal(rSquared, model.RSquared, 9);
        for (var j = 0; j < 4; j++)
        {
            Assert.Equal(slopes[j] * Sd(mentioned.Select(r => r[j])) / Sd(y), model.Drivers.Single(d => d.Key == Theme(j)).Beta, 9);
            Assert.Equal(mentioned.Count(r => r[j] == 1), model.Drivers.Single(d => d.Key == Theme(j)).Mentions);
        }
        Assert.True(model.Drivers.Single(d => d.Key == Theme(1)).Correlation < 0, "mentioning theme 1 goes with a lower rating");
        Assert.NotEqual(KeyDriverAnalysis.Analyze(Sums(x, y), DriverKind.ThemeSentiment, 10, 0.05).RSquared, model.RSquared, 3);
    }

    /// <summary>Attribute ratings on a 1-5 scale that the outcome (0-10) depends on; NaN where a response skipped one.</summary>
    private static (double[][] X, double[] Y) Ratings(int n, double[] effects, int seed, double skipRate = 0)
    {
        var random = new Random(seed);
        var x = new double[n][];
        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            var mood = Gaussian(random);
            x[i] = effects.Select(_ => (double)Math.Clamp((int)Math.Round(3 + mood + Gaussian(random)), 1, 5)).ToArray();
            y[i] = Math.Clamp(Math.Round(5 + Enumerable.Range(0, effects.Length).Sum(j => effects[j] * (x[i][j] - 3)) + Gaussian(random)), 0, 10);
            for (var j = 0; j < effects.Length; j++)
            {
                if (random.NextDouble() < skipRate) x[i][j] = double.NaN;
            }
        }
        return (x, y);
    }

    [Fact]
    public void Attribute_ratings_that_every_response_gives_are_the_regression_on_the_raw_ratings()
    {
        var (x, y) = Ratings(700, [1.2, 0.4, 0.0], seed: 21);
        var model = KeyDriverAnalysis.Analyze(Sums(x, y, DriverKindUnderTest.Attributes), DriverKind.AttributeRating, 10, 0.05);
        var (slopes, rSquared) = DirectRegression(x, y);

        Assert.Equal(700, model.N);
        Assert.Equal(rSquared, model.RSquared, 9);
        for (var j = 0; j < 3; j++)
        {
            var d = model.Drivers.Single(d => d.Key == Attribute(j));
            Assert.Equal(slopes[j] * Sd(x.Select(r => r[j])) / Sd(y), d.Beta, 9);
            Assert.Equal(x.Average(r => r[j]), d.MeanRating!.Value, 9);
            Assert.Equal(700, d.Mentions);
        }
        Assert.Equal(Attribute(0), model.Drivers[0].Key);
        Assert.False(model.Drivers.Single(d => d.Key == Attribute(2)).Significant);
    }

    [Fact]
    public void Skipped_attribute_ratings_leave_each_correlation_to_the_responses_that_gave_both_and_n_to_the_fewest()
    {
        var (x, y) = Ratings(900, [1.0, 0.6, 0.3], seed: 22, skipRate: 0.2);
        var model = KeyDriverAnalysis.Analyze(Sums(x, y, DriverKindUnderTest.Attributes), DriverKind.AttributeRating, 10, 0.05);

        static double Pearson(IReadOnlyList<(double U, double V)> pairs)
        {
            double mu = pairs.Average(p => p.U), mv = pairs.Average(p => p.V);
            return pairs.Sum(p => (p.U - mu) * (p.V - mv)) / Math.Sqrt(pairs.Sum(p => (p.U - mu) * (p.U - mu)) * pairs.Sum(p => (p.V - mv) * (p.V - mv)));
        }
        IReadOnlyList<(double, double)> Both(Func<int, double> u, Func<int, double> v) =>
            Enumerable.Range(0, y.Length).Where(i => !double.IsNaN(u(i)) && !double.IsNaN(v(i))).Select(i => (u(i), v(i))).ToList();

        var counts = new List<int>();
        for (var j = 0; j < 3; j++)
        {
            var withY = Both(i => x[i][j], i => y[i]);
            Assert.Equal(Pearson(withY), model.Drivers.Single(d => d.Key == Attribute(j)).Correlation, 9);
            Assert.Equal(withY.Count, model.Drivers.Single(d => d.Key == Attribute(j)).Mentions);
            counts.Add(withY.Count);
            for (var l = j + 1; l < 3; l++) counts.Add(Both(i => x[i][j], i => x[i][l]).Count);
        }
        Assert.Equal(counts.Min(), model.N);
        Assert.True(model.N < 900);
        Assert.Equal(model.RSquared, model.Drivers.Sum(d => d.RelativeWeight), 9);
        Assert.Equal(model.RSquared, model.Drivers.Sum(d => d.Shapley!.Value), 9);
    }

    [Fact]
    public void Attributes_never_rated_together_cannot_share_a_model_so_the_second_is_left_out()
    {
        // Two surveys: one asks attribute 0 and 1, the other attribute 2 only.
        var (x, y) = Ratings(600, [1.0, 0.5, 0.8], seed: 23);
        for (var i = 0; i < x.Length; i++)
        {
            if (i % 2 == 0) x[i][2] = double.NaN;
            else x[i][0] = x[i][1] = double.NaN;
        }
        var model = KeyDriverAnalysis.Analyze(Sums(x, y, DriverKindUnderTest.Attributes), DriverKind.AttributeRating, 10, 0.05);
        Assert.Equal([Attribute(0), Attribute(1)], model.Drivers.Select(d => d.Key).Order());

        var themes = KeyDriverAnalysis.Analyze(Sums(x, y, DriverKindUnderTest.Attributes), DriverKind.ThemeSentiment, 10, 0.05);
        Assert.Empty(themes.Drivers);
        Assert.Contains("no theme", themes.Note);
    }
}
