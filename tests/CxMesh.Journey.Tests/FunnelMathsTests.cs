using CxMesh.Journey.Domain;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace CxMesh.Journey.Tests;

public sealed class FunnelMathsTests
{
    private static readonly DateTime T0 = new(2026, 11, 1, 8, 0, 0, DateTimeKind.Utc);

    private static BuiltInstance Instance(InstanceState state, int furthest, params double[] stageHours)
    {
        var timeline = stageHours.Select((h, stage) => new TimelineItem(
            new RecordedTouchpoint(Guid.NewGuid(), $"tp{stage}", T0.AddHours(h), new Dictionary<string, string>()), stage)).ToList();
        var last = timeline[^1].Touchpoint.OccurredAt;
        return new BuiltInstance(Guid.NewGuid(), 1, state, T0, last, state == InstanceState.Open ? null : last, furthest, "gold", timeline[0].Touchpoint.Id, timeline);
    }

    [Fact]
    public void An_abandoned_instance_entered_every_stage_up_to_its_furthest_and_dropped_there()
    {
        var spec = InstanceBuilderTests.Coffee();
        var cells = FunnelContribution.Of(Instance(InstanceState.Abandoned, 2, 0, 3, 10), spec);
        var day = DateOnly.FromDateTime(T0);
        foreach (var segment in new[] { "", "gold" })
        {
            Assert.Equal(1, cells[new FunnelCellKey(day, segment, "order")].Completed);
            Assert.Equal(1, cells[new FunnelCellKey(day, segment, "roast")].Completed);
            var ship = cells[new FunnelCellKey(day, segment, "ship")];
            Assert.Equal((1, 0, 1), (ship.Entered, ship.Completed, ship.Dropped));
            Assert.False(cells.ContainsKey(new FunnelCellKey(day, segment, "deliver")));
            var journey = cells[new FunnelCellKey(day, segment, FunnelContribution.JourneyStage)];
            Assert.Equal((1, 0, 1), (journey.Entered, journey.Completed, journey.Dropped));
        }
        // Time in "order": 3 hours, from its first touchpoint to the first of "roast".
        var bucket = Assert.Single(cells[new FunnelCellKey(day, "", "order")].Durations).Key;
        Assert.Equal(DurationHistogram.BucketOf(TimeSpan.FromHours(3)), bucket);
    }

    [Fact]
    public void Replacing_a_contribution_by_itself_changes_nothing()
    {
        var spec = InstanceBuilderTests.Coffee();
        var contribution = FunnelContribution.Of(Instance(InstanceState.Completed, 4, 0, 1, 2, 3, 4), spec);
        Assert.Empty(FunnelContribution.Difference([contribution], [contribution]));
    }

    [Property(MaxTest = 300)]
    public Property Histogram_percentiles_are_within_five_percent_of_the_exact_value() =>
        Prop.ForAll(Gen.Choose(1, 400).ToArbitrary(), Gen.Choose(0, 10_000).ToArbitrary(), (n, seed) =>
        {
            var random = new Random(seed);
            var seconds = Enumerable.Range(0, n).Select(_ => Math.Exp(random.NextDouble() * 16)).Order().ToArray();
            var counts = new Dictionary<int, long>();
            foreach (var s in seconds)
            {
                var b = DurationHistogram.BucketOf(TimeSpan.FromSeconds(s));
                counts[b] = counts.GetValueOrDefault(b) + 1;
            }
            return new[] { 0.5, 0.9 }.All(q =>
            {
                var exact = seconds[(int)Math.Ceiling(q * n) - 1];
                var estimate = DurationHistogram.Quantile(counts, q)!.Value.TotalSeconds;
                return exact < 1 ? estimate < 1 : Math.Abs(estimate - exact) / exact <= 0.05;
            });
        });
}
