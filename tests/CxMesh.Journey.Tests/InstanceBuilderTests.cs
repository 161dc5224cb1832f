using CxMesh.Journey.Domain;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace CxMesh.Journey.Tests;

public sealed class InstanceBuilderTests
{
    private static readonly DateTime T0 = new(2026, 11, 1, 8, 0, 0, DateTimeKind.Utc);

    internal static JourneySpec Coffee(int version = 1, TimeSpan? timeout = null) => new("coffee", version,
    [
        new StageSpec("order", [new TouchpointSpec("order-placed", true, false, false), new TouchpointSpec("referral-used", true, false, true)]),
        new StageSpec("roast", [new TouchpointSpec("roasted", false, false, false)]),
        new StageSpec("ship", [new TouchpointSpec("shipped", false, false, false)]),
        new StageSpec("deliver", [new TouchpointSpec("delivered", false, false, false)]),
        new StageSpec("review", [new TouchpointSpec("reviewed", false, true, false)]),
    ], timeout ?? TimeSpan.FromDays(7), "segment");

    private static RecordedTouchpoint Tp(string key, double hours, string? segment = null) =>
        new(Guid.NewGuid(), key, T0.AddHours(hours), segment is null ? new Dictionary<string, string>() : new() { ["segment"] = segment });

    private static IReadOnlyList<BuiltInstance> Build(IEnumerable<RecordedTouchpoint> tps, DateTime? now = null, IReadOnlyCollection<KnownInstance>? known = null, JourneySpec? spec = null) =>
        InstanceBuilder.Build(tps, spec ?? Coffee(), _ => spec ?? Coffee(), known ?? [], now ?? T0.AddHours(50), Guid.NewGuid).Instances;

    [Fact]
    public void A_start_opens_an_instance_touchpoints_advance_it_and_an_end_completes_it()
    {
        var instance = Assert.Single(Build([Tp("order-placed", 0, "gold"), Tp("roasted", 5), Tp("shipped", 10), Tp("delivered", 30), Tp("reviewed", 40)]));
        Assert.Equal(InstanceState.Completed, instance.State);
        Assert.Equal(T0, instance.StartedAt);
        Assert.Equal(T0.AddHours(40), instance.EndedAt);
        Assert.Equal(4, instance.FurthestStage);
        Assert.Equal("gold", instance.Segment);
        Assert.Equal(5, instance.Timeline.Count);
    }

    [Fact]
    public void An_open_instance_stays_open_within_the_timeout_and_is_abandoned_after_it()
    {
        var tps = new[] { Tp("order-placed", 0), Tp("roasted", 5) };
        Assert.Equal(InstanceState.Open, Assert.Single(Build(tps, now: T0.AddDays(3))).State);

        var abandoned = Assert.Single(Build(tps, now: T0.AddDays(30)));
        Assert.Equal(InstanceState.Abandoned, abandoned.State);
        Assert.Equal(T0.AddHours(5) + TimeSpan.FromDays(7), abandoned.EndedAt);
        Assert.Equal(1, abandoned.FurthestStage);
    }

    [Fact]
    public void A_gap_longer_than_the_timeout_abandons_the_instance_and_the_next_start_opens_another()
    {
        var instances = Build([Tp("order-placed", 0), Tp("shipped", 2), Tp("order-placed", 24 * 10), Tp("reviewed", 24 * 11)], now: T0.AddDays(12));
        Assert.Equal([InstanceState.Abandoned, InstanceState.Completed], instances.Select(i => i.State));
        Assert.Equal(T0.AddDays(10), instances[1].StartedAt);
    }

    [Fact]
    public void A_start_while_an_instance_is_open_continues_it()
    {
        var instance = Assert.Single(Build([Tp("order-placed", 0), Tp("referral-used", 1), Tp("roasted", 2)]));
        Assert.Equal(3, instance.Timeline.Count);
    }

    [Fact]
    public void Touchpoints_before_any_start_wait_unplaced()
    {
        var (instances, unplaced) = InstanceBuilder.Build([Tp("roasted", 0), Tp("shipped", 1)], Coffee(), _ => Coffee(), [], T0.AddHours(2), Guid.NewGuid);
        Assert.Empty(instances);
        Assert.Equal(2, unplaced.Count);
    }

    [Fact]
    public void Known_instances_keep_their_ids_and_versions_when_rebuilt()
    {
        var start = Tp("order-placed", 0);
        var id = Guid.NewGuid();
        var rebuilt = Assert.Single(Build([start, Tp("roasted", 1)], known: [new KnownInstance(id, 1, start.Id)], spec: Coffee(version: 1)));
        Assert.Equal(id, rebuilt.Id);
        Assert.Equal(1, rebuilt.Version);
    }

    [Fact]
    public void An_earlier_start_arriving_late_absorbs_the_later_instance_and_keeps_its_id()
    {
        var late = Tp("order-placed", 0);
        var laterStart = Tp("referral-used", 1);
        var known = new KnownInstance(Guid.NewGuid(), 1, laterStart.Id);
        var instance = Assert.Single(Build([late, laterStart, Tp("roasted", 2)], known: [known]));
        Assert.Equal(known.Id, instance.Id);
        Assert.Equal(late.Id, instance.StartTouchpointId);
    }

    [Property(MaxTest = 200)]
    public Property The_order_touchpoints_arrive_in_does_not_change_the_instances() =>
        Prop.ForAll(Gen.Choose(0, 1000).ToArbitrary(), seed =>
        {
            var random = new Random(seed);
            var keys = new[] { "order-placed", "roasted", "shipped", "delivered", "reviewed", "referral-used" };
            var tps = Enumerable.Range(0, random.Next(1, 25))
                .Select(_ => Tp(keys[random.Next(keys.Length)], random.Next(0, 24 * 40)))
                .ToList();
            Func<Guid> fixedIds = () => Guid.Empty;
            var inOrder = InstanceBuilder.Build(tps, Coffee(), _ => Coffee(), [], T0.AddDays(50), fixedIds).Instances;
            var shuffled = InstanceBuilder.Build(tps.OrderBy(_ => random.Next()).ToList(), Coffee(), _ => Coffee(), [], T0.AddDays(50), fixedIds).Instances;
            return inOrder.Count == shuffled.Count && inOrder.Zip(shuffled).All(p =>
                p.First.State == p.Second.State && p.First.StartedAt == p.Second.StartedAt && p.First.EndedAt == p.Second.EndedAt
                && p.First.Timeline.Select(t => t.Touchpoint.Id).SequenceEqual(p.Second.Timeline.Select(t => t.Touchpoint.Id)));
        });
}
