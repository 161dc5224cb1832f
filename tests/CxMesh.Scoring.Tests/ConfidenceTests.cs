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
    public void Without_spread_on_either_side_there_is_a_difference_but_no_test()
    {
        var comparison = Comparison.Of((100, 0), 1, (-100, 0), 1, 0.05);
        Assert.Equal((200.0, true, false, false), (comparison.Difference, comparison.HasDifference, comparison.HasPValue, comparison.Significant));
        var empty = Comparison.Of((50, 10), 40, (0, 0), 0, 0.05);
        Assert.Equal((false, false, false), (empty.HasDifference, empty.HasPValue, empty.Significant));
    }
}
