using CxMesh.Scoring.Domain;

namespace CxMesh.Scoring.Tests;

public sealed class RelationshipStageTests
{
    private static readonly DateOnly Jan = new(2026, 1, 1);

    private static HistoryMonth Month(int m, int touchpoints = 1, int purchases = 0, double revenue = 0, int referrals = 0, int? rating = null,
        params string[] keys) =>
        new(Jan.AddMonths(m), new CustomerMonth(touchpoints, purchases, revenue, 0), referrals, rating,
            keys.GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count()));

    [Fact]
    public void A_customer_climbs_the_default_ladder_month_by_month_and_each_move_is_counted_once()
    {
        var history = new[]
        {
            Month(0, keys: "shop|browse"),
            Month(1, purchases: 1, revenue: 30, keys: "shop|order"),
            Month(2, purchases: 1, revenue: 30, keys: "shop|order"),
            Month(3, purchases: 1, revenue: 30, keys: ["shop|order", "shop|workshop"]),
            Month(5, touchpoints: 0, referrals: 1),
        };
        var c = StageContribution.Of(StageModel.Default, history);
        Assert.Equal(["prospect", "first-purchase", "repeat", "regular", "advocate"], c.Path.Select(p => p.Stage));
        Assert.Equal(5, c.Moves.Count);
        Assert.Equal(1, c.Moves[(Jan.AddMonths(3), "repeat", "regular")]);
        Assert.Equal(1, c.Moves[(Jan, "", "prospect")]);
        // The path map counts month 3 for a customer who started it in "repeat" and moved up, with its touchpoints.
        Assert.Equal((1L, 1L), c.Experiences[(Jan.AddMonths(3), "repeat", "touchpoint:shop|workshop")]);
        Assert.Equal((1L, 1L), c.Experiences[(Jan.AddMonths(3), "repeat", StageContribution.AllExperiences)]);
        // Month 5 had no touchpoint: the move to advocate counts, but the month is not in the path map (not active).
        Assert.DoesNotContain(c.Experiences.Keys, k => k.Month == Jan.AddMonths(5));
        // Month 2's figures: active in "repeat", came back in month 3 and spent 30.
        Assert.Equal(new NextMonth(1, 1, 1, 30, 900, 0, 0), c.Figures[(Jan.AddMonths(2), "repeat")].Active);
        // Month 3: nothing in month 4, so not retained.
        Assert.Equal(new NextMonth(1, 0, 0, 0, 0, 0, 0), c.Figures[(Jan.AddMonths(3), "regular")].Active);
    }

    [Fact]
    public void The_difference_of_two_parts_is_what_a_late_touchpoint_changes()
    {
        var before = StageContribution.Of(StageModel.Default, [Month(0, purchases: 1, revenue: 10), Month(2, purchases: 1, revenue: 10)]);
        // A purchase in month 1 arrives late: the customer was "repeat" from month 1, not month 2.
        var after = StageContribution.Of(StageModel.Default,
            [Month(0, purchases: 1, revenue: 10), Month(1, purchases: 1, revenue: 10), Month(2, purchases: 1, revenue: 10)]);
        var (moves, figures, _) = after.Minus(before);
        Assert.Equal(-1, moves[(Jan.AddMonths(2), "first-purchase", "repeat")]);
        Assert.Equal(1, moves[(Jan.AddMonths(1), "first-purchase", "repeat")]);
        Assert.Equal(1, moves[(Jan.AddMonths(2), "repeat", "regular")]);
        Assert.Equal(3, moves.Count);
        // Month 0's customer now came back in month 1.
        Assert.Equal(new NextMonth(0, 1, 1, 10, 100, 0, 0), figures[(Jan, "first-purchase")].Active);
    }

    [Fact]
    public void The_promoter_condition_follows_the_latest_answer_and_can_drop_a_customer_back()
    {
        var model = new StageModel(2,
        [
            new("known", "Known", "", new StageRule()),
            new("fan", "Fan", "", new StageRule(Promoter: true)),
        ]);
        var c = StageContribution.Of(model, [Month(0, rating: 10), Month(1, rating: 4), Month(2, rating: 9)]);
        Assert.Equal(["fan", "known", "fan"], c.Path.Select(p => p.Stage));
        Assert.Equal(1, c.Moves[(Jan.AddMonths(1), "fan", "known")]);
        Assert.Equal((1L, 0L), c.Experiences[(Jan.AddMonths(1), "fan", "nps:detractor")]);
    }

    [Fact]
    public void Transitions_add_up_from_the_monthly_moves_alone()
    {
        (DateOnly, string, string, long)[] moves =
        [
            (Jan, "", "a", 10),
            (Jan.AddMonths(1), "a", "b", 4),
            (Jan.AddMonths(1), "", "a", 3),
            (Jan.AddMonths(2), "b", "c", 1),
            (Jan.AddMonths(2), "a", "b", 2),
        ];
        var t = StageTransitions.Of(moves, Jan.AddMonths(1), Jan.AddMonths(2));
        Assert.Equal(10, t.AtStart["a"]);
        Assert.Equal((7L, 5L, 1L), (t.AtEnd["a"], t.AtEnd["b"], t.AtEnd["c"]));
        // Month 1: 6 of 10 stayed in a, 4 moved to b, 3 new. Month 2: 9 in a, 2 left; 4 in b, 1 left.
        Assert.Equal(6 + 7, t.Cells[("a", "a")]);
        Assert.Equal(4 + 2, t.Cells[("a", "b")]);
        Assert.Equal(3, t.Cells[("b", "b")]);
        Assert.Equal(1, t.Cells[("b", "c")]);
        Assert.Equal(3, t.Cells[("", "a")]);
    }
}
