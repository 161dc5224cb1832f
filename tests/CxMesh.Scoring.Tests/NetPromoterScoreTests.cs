using CxMesh.Scoring.Domain;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace CxMesh.Scoring.Tests;

public sealed class NetPromoterScoreTests
{
    [Fact]
    public void Four_hundred_responses_half_promoters_a_fifth_detractors_score_30_plus_or_minus_7_7()
    {
        var tally = new NpsTally(Promoters: 200, Passives: 120, Detractors: 80);
        Assert.Equal(400, tally.N);
        Assert.Equal(30, tally.Value, 9);
        Assert.Equal(7.7, Math.Round(tally.MarginOfError, 1));
    }

    [Theory]
    [InlineData(0, NpsCategory.Detractor)]
    [InlineData(6, NpsCategory.Detractor)]
    [InlineData(7, NpsCategory.Passive)]
    [InlineData(8, NpsCategory.Passive)]
    [InlineData(9, NpsCategory.Promoter)]
    [InlineData(10, NpsCategory.Promoter)]
    public void Ratings_are_classified_at_the_standard_cut_offs(int rating, NpsCategory expected) =>
        Assert.Equal(expected, NpsTally.Classify(rating));

    [Theory]
    [InlineData(-1)]
    [InlineData(11)]
    public void Ratings_off_the_scale_are_refused(int rating) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => NpsTally.Classify(rating));

    [Fact]
    public void No_responses_score_zero_with_no_margin()
    {
        Assert.Equal(0, default(NpsTally).Value);
        Assert.Equal(0, default(NpsTally).MarginOfError);
    }

    [Fact]
    public void Unanimous_responses_have_no_sampling_margin()
    {
        Assert.Equal(100, new NpsTally(50, 0, 0).Value);
        Assert.Equal(0, new NpsTally(50, 0, 0).MarginOfError, 9);
        Assert.Equal(-100, new NpsTally(0, 0, 7).Value);
    }

    private static Arbitrary<int[]> Ratings() => Gen.Choose(0, 10).ArrayOf().ToArbitrary();

    [Property]
    public Property Score_stays_within_bounds_and_the_margin_is_never_negative() =>
        Prop.ForAll(Ratings(), ratings =>
        {
            var tally = ratings.Aggregate(default(NpsTally), (t, r) => t + NpsTally.Of(r));
            return tally.Value is >= -100 and <= 100 && tally.MarginOfError >= 0 && tally.N == ratings.Length;
        });

    [Property]
    public Property Adding_tallies_in_any_order_gives_the_same_score() =>
        Prop.ForAll(Ratings(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (ratings, seed) =>
        {
            var forward = ratings.Aggregate(default(NpsTally), (t, r) => t + NpsTally.Of(r));
            // One generator for the whole shuffle (a new Random(seed) per element gives every element the same key: no shuffle).
            var random = new Random(seed);
            var shuffled = ratings.OrderBy(_ => random.Next()).ToArray();
            var split = shuffled.Length / 2;
            var backward = shuffled[split..].Aggregate(default(NpsTally), (t, r) => t + NpsTally.Of(r))
                + shuffled[..split].Aggregate(default(NpsTally), (t, r) => t + NpsTally.Of(r));
            return forward == backward;
        });

    [Property]
    public Property The_margin_shrinks_as_the_same_mix_of_responses_grows() =>
        Prop.ForAll(Gen.Choose(1, 50).ToArbitrary(), Gen.Choose(0, 50).ToArbitrary(), Gen.Choose(1, 50).ToArbitrary(), (p, pa, d) =>
        {
            var small = new NpsTally(p, pa, d);
            var large = new NpsTally(p * 4L, pa * 4L, d * 4L);
            return Math.Abs(large.Value - small.Value) < 1e-9 && Math.Abs(large.MarginOfError - small.MarginOfError / 2) < 1e-9;
        });
}
