using CxMesh.Scoring.Domain;

namespace CxMesh.Scoring.Tests;

public sealed class StatisticsTests
{
    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(1.96, 0.9750021)]
    [InlineData(-1.0, 0.1586553)]
    [InlineData(3.0, 0.9986501)]
    public void The_normal_CDF_matches_the_tables(double z, double expected) => Assert.Equal(expected, Statistics.NormalCdf(z), 6);

    [Theory]
    [InlineData(0.975, 1.959964)]
    [InlineData(0.995, 2.575829)]
    [InlineData(0.01, -2.326348)]
    public void The_normal_quantile_matches_the_tables(double p, double expected) => Assert.Equal(expected, Statistics.NormalQuantile(p), 5);

    [Theory]
    [InlineData(2.0, 10, 0.07338803)]
    [InlineData(2.228139, 10, 0.05)]
    [InlineData(1.0, 1, 0.5)]
    [InlineData(3.5, 100, 0.00069643)]
    public void Student_t_two_sided_p_values_match_the_tables(double t, double df, double expected) =>
        Assert.Equal(expected, Statistics.StudentTwoSidedP(t, df), 7);

    [Fact]
    public void CSAT_is_the_top_box_share_with_its_margin_and_the_mean_with_its_own()
    {
        var csat = new QuestionDefinition("csat", MetricKind.Csat, 1, 5, true, [4, 5]);
        var stats = new[] { 5, 5, 4, 3, 2, 1, 4, 4, 5, 3 }.Aggregate(default(RatingStats), (s, v) => s + csat.Of(v));
        Assert.Equal((10, 6, 2, 2), (stats.N, stats.TopBox, stats.Passives, stats.Detractors));
        Assert.Equal(60, stats.TopBoxShare, 9);
        Assert.Equal(1.96 * 100 * Math.Sqrt(0.6 * 0.4 / 10), stats.TopBoxMargin, 9);
        Assert.Equal(3.6, stats.Mean, 9);
        Assert.Equal(60, stats.Headline(MetricKind.Csat).Value, 9);
    }

    [Fact]
    public void The_legacy_CES_runs_the_other_way_its_detractors_are_the_high_values()
    {
        var legacy = new QuestionDefinition("ces-legacy", MetricKind.Ces, 1, 5, HigherIsBetter: false, TopBox: [1, 2]);
        Assert.True(legacy.IsDetractor(5));
        Assert.True(legacy.IsDetractor(4));
        Assert.False(legacy.IsDetractor(1));
        Assert.Equal(1, legacy.Of(1).TopBox);
        var ces2 = new QuestionDefinition("ces", MetricKind.Ces, 1, 7, true, [5, 6, 7]);
        Assert.True(ces2.IsDetractor(2));
        Assert.False(ces2.IsDetractor(6));
    }

    [Fact]
    public void A_difference_of_two_independent_NPS_scores_is_tested_two_sided()
    {
        // 400 responses at +30 (±7.7) against 400 at +10: the difference of 20 has a margin of about 10.6.
        var a = new NpsTally(200, 120, 80);
        var b = new NpsTally(160, 120, 120);
        var comparison = Comparison.Of((a.Value, a.MarginOfError / 1.96), a.N, (b.Value, b.MarginOfError / 1.96), b.N, 0.05);
        Assert.Equal(20, comparison.Difference, 9);
        var se = Math.Sqrt(Math.Pow(a.MarginOfError / 1.96, 2) + Math.Pow(b.MarginOfError / 1.96, 2));
        Assert.Equal(1.959964 * se, comparison.Margin, 4);
        Assert.Equal(Statistics.TwoSidedP(20 / se), comparison.PValue, 12);
        Assert.True(comparison.Significant);
        Assert.False(Comparison.Of((50, 0), 0, (10, 1), 100, 0.05).Significant);
    }
}
