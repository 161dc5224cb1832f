using CxMesh.Scoring.Domain;

namespace CxMesh.Scoring.Tests;

/// <summary>Honest values (#17): Wilson intervals, absent tests, and when a figure should not stand on its own.</summary>
public sealed class ConfidenceTests
{
    [Fact]
    public void The_Wilson_interval_stays_on_the_scale_and_holds_the_share_at_every_n()
    {
        for (var n = 1; n <= 120; n++)
        {
            for (var top = 0; top <= n; top++)
            {
                var stats = new RatingStats(n, top, 0, n - top, 0, 0);
                var (low, high) = stats.TopBoxInterval;
                Assert.InRange(low, 0, stats.TopBoxShare + 1e-9);
                Assert.InRange(high, stats.TopBoxShare - 1e-9, 100);
                Assert.True(high - low > 0, $"n={n}, top={top}: an interval of width 0 claims certainty");
            }
        }
        Assert.Equal((0.0, 100.0), new RatingStats(0, 0, 0, 0, 0, 0).TopBoxInterval);
    }

    [Theory]
    [InlineData(0, 30, 0, 0, "no responses")]
    [InlineData(12, 30, 10, 5, "too few responses: 12")]
    [InlineData(40, 30, 90, 12, "the 95% interval runs past the scale")]
    [InlineData(40, 30, -95, 6, "the 95% interval runs past the scale")]
    public void A_figure_that_cannot_stand_on_its_own_says_why(long n, int min, double value, double margin, string reason) =>
        Assert.StartsWith(reason, Confidence.Concern(n, min, value, margin, -100, 100));

    [Fact]
    public void A_figure_with_enough_responses_inside_its_scale_stands() =>
        Assert.Null(Confidence.Concern(40, 30, 35, 20, -100, 100));

    [Fact]
    public void Samples_without_spread_of_their_own_are_tested_on_the_pooled_spread_and_only_identical_ones_have_no_test()
    {
        RatingStats All(int n, int value) => Enumerable.Range(0, n).Aggregate(new RatingStats(0, 0, 0, 0, 0, 0),
            (s, _) => s + new QuestionDefinition("nps", MetricKind.Nps, 0, 10, true, [9, 10]).Of(value));
        var drop = Comparison.Of(All(30, 2), All(30, 10), ScoreFigure.Nps, 0.01);
        Assert.True(drop.HasPValue && drop.Significant && drop.Difference == -200, $"p = {drop.PValue}");
        var same = Comparison.Of(All(30, 10), All(20, 10), ScoreFigure.Nps, 0.01);
        Assert.Equal((true, 0.0, false, false), (same.HasDifference, same.Difference, same.HasPValue, same.Significant));
        var means = Comparison.Of(All(10, 3), All(10, 8), ScoreFigure.Mean, 0.05);
        Assert.True(means.HasPValue && means.Significant);
    }

    [Fact]
    public void Without_spread_on_either_side_there_is_a_difference_but_no_test()
    {
        var comparison = Comparison.Of((100, 0), 1, (-100, 0), 1, 0.05);
        Assert.Equal((200.0, true, false, false), (comparison.Difference, comparison.HasDifference, comparison.HasPValue, comparison.Significant));
        var empty = Comparison.Of((50, 10), 40, (0, 0), 0, 0.05);
        Assert.Equal((false, false, false), (empty.HasDifference, empty.HasPValue, empty.Significant));
    }
}

/// <summary>One drop, one alert (#17): nested scopes that drop together raise one alert, at the most specific.</summary>
public sealed class DropAlertTests
{
    [Fact]
    public void Nested_drops_raise_one_alert_at_the_most_specific_scope_linking_the_broader_ones()
    {
        var drops = new[] { ("all", 900L, 950L), ("journey=coffee", 120L, 130L), ("channel=web|journey=coffee", 50L, 60L), ("channel=web", 300L, 310L) };
        var (scope, broader) = Assert.Single(AlertRules.MostSpecificDrops(drops, []));
        Assert.Equal("channel=web|journey=coffee", scope);
        Assert.Equal(["all", "channel=web", "journey=coffee"], broader);
    }

    [Fact]
    public void Two_unrelated_specific_drops_are_two_alerts_and_a_narrower_scope_with_the_same_responses_gives_way()
    {
        var drops = new[] { ("journey=coffee", 120L, 130L), ("channel=web|journey=coffee", 50L, 60L), ("journey=coffee|touchpoint=delivered", 40L, 44L) };
        Assert.Equal(["channel=web|journey=coffee", "journey=coffee|touchpoint=delivered"], AlertRules.MostSpecificDrops(drops, []).Select(d => d.ScopeKey).Order());

        // Every answer of the journey came by survey: the journey is the scope to name.
        var same = new[] { ("journey=tea", 80L, 75L), ("channel=survey|journey=tea", 80L, 75L) };
        Assert.Equal("journey=tea", Assert.Single(AlertRules.MostSpecificDrops(same, [])).ScopeKey);
    }

    [Fact]
    public void A_drop_explained_by_one_raised_earlier_today_and_language_or_audience_scopes_raise_nothing()
    {
        Assert.Empty(AlertRules.MostSpecificDrops([("journey=coffee", 120L, 130L)], ["channel=web|journey=coffee"]));
        Assert.Empty(AlertRules.MostSpecificDrops([("channel=web|journey=coffee", 50L, 60L)], ["journey=coffee"])); // the same drop, seen again
        Assert.Single(AlertRules.MostSpecificDrops([("channel=web|journey=coffee", 50L, 60L)], ["journey=tea"]));
        Assert.Empty(AlertRules.MostSpecificDrops([("audience=customer", 900L, 950L), ("language=zh", 200L, 210L)], []));
    }
}
