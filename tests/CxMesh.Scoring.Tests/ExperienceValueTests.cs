using CxMesh.Scoring.Domain;

namespace CxMesh.Scoring.Tests;

public sealed class ExperienceValueTests
{
    private static NextMonth[] Table(params (int Rating, bool Retained, double Spend)[] customers)
    {
        var table = new NextMonth[ExperienceValue.Ratings];
        foreach (var (rating, retained, spend) in customers)
        {
            table[rating] += NextMonth.Of(retained ? new CustomerMonth(1, spend > 0 ? 1 : 0, spend, 0) : default);
        }
        return table;
    }

    [Fact]
    public void The_AUC_of_the_rating_table_equals_the_pairwise_count_with_ties_counted_half()
    {
        var random = new Random(5);
        var customers = Enumerable.Range(0, 300).Select(_ => random.Next(0, 11)).Select(r => (r, random.NextDouble() < 0.3 + r * 0.05, 0.0)).ToArray();
        var auc = ExperienceValue.Auc(Table(customers));
        var yes = customers.Where(c => c.Item2).Select(c => c.r).ToList();
        var no = customers.Where(c => !c.Item2).Select(c => c.r).ToList();
        var pairs = yes.SelectMany(y => no.Select(n => y > n ? 1.0 : y == n ? 0.5 : 0)).Average();
        Assert.Equal(pairs, auc.Auc, 12);
        Assert.True(auc.HasValue);
        Assert.InRange(auc.Auc, auc.Low, auc.High);
    }

    [Fact]
    public void The_interval_is_Hanley_and_McNeils()
    {
        // 50 who came back, all rating 9; of the 50 who did not, 45 rated 8 and 5 rated 10: AUC = 45/50 = 0.9.
        var table = new NextMonth[ExperienceValue.Ratings];
        table[9] = new NextMonth(50, 50, 0, 0, 0, 0, 0);
        table[8] = new NextMonth(45, 0, 0, 0, 0, 0, 0);
        table[10] = new NextMonth(5, 0, 0, 0, 0, 0, 0);
        var auc = ExperienceValue.Auc(table);
        Assert.Equal(0.9, auc.Auc, 12);
        // Hanley & McNeil (1982): SE² = [A(1-A) + (n1-1)(Q1-A²) + (n2-1)(Q2-A²)] / (n1 n2), Q1 = A/(2-A), Q2 = 2A²/(1+A).
        // 0.09 + 49 (0.818182 - 0.81) + 49 (0.852632 - 0.81) = 2.579806, / 2500: SE = 0.032123.
        Assert.Equal(0.032123, auc.StandardError, 5);
        Assert.Equal(0.9 - 1.96 * auc.StandardError, auc.Low, 12);
        // Perfect separation: every customer who came back rated higher than every one who did not.
        var perfect = ExperienceValue.Auc(Table((10, true, 0), (9, true, 0), (2, false, 0), (1, false, 0)));
        Assert.Equal(1, perfect.Auc);
        Assert.Equal(1, perfect.High);
        // Everyone came back: there is nothing to rank against.
        Assert.False(ExperienceValue.Auc(Table((10, true, 0), (3, true, 0))).HasValue);
    }

    [Fact]
    public void Share_differences_use_the_two_proportion_z_test()
    {
        var d = ExperienceValue.SharePoints(ShareFigure.Of(45, 50), ShareFigure.Of(30, 50));
        Assert.Equal(30, d.Value, 9);
        // pooled p = 0.75: z = 0.3 / sqrt(0.75 * 0.25 * (2 / 50)) = 3.4641, two-sided p = 0.000532.
        Assert.Equal(0.000532, d.PValue, 5);
        // The interval uses the samples' own standard errors: sqrt(.9*.1/50 + .6*.4/50) = 0.08124.
        Assert.Equal(30 - 1.96 * 8.124, d.Low, 1);
        Assert.False(ExperienceValue.SharePoints(ShareFigure.Of(0, 0), ShareFigure.Of(3, 5)).HasValue);
    }

    [Fact]
    public void Revenue_at_risk_is_the_spend_gap_times_the_detractors()
    {
        var promoters = ExperienceValue.Figures(NpsCategory.Promoter, ExperienceValue.Sum(Table((10, true, 40), (9, true, 50), (10, false, 0)), NpsCategory.Promoter));
        var detractors = ExperienceValue.Figures(NpsCategory.Detractor, ExperienceValue.Sum(Table((3, true, 20), (5, false, 0)), NpsCategory.Detractor));
        var risk = ExperienceValue.RevenueAtRisk(promoters, detractors);
        Assert.Equal(2 * (30 - 10), risk.Value, 9);
        var gap = ExperienceValue.Means(promoters.Spend, detractors.Spend);
        Assert.Equal((gap.Low * 2, gap.High * 2), (risk.Low, risk.High));
    }

    [Fact]
    public void Next_month_statistics_move_by_deltas_in_any_order()
    {
        // A customer's month gains a touchpoint with revenue: the delta is the difference of the two states.
        var before = new CustomerMonth(1, 0, 0, 5);
        var after = before + CustomerMonth.Of(25, 0);
        var delta = NextMonth.Of(after) - NextMonth.Of(before);
        Assert.Equal(new NextMonth(0, 0, 1, 25, 625, 0, 0), delta);
        // From nothing (did not come back) to a visit: retained moves too.
        Assert.Equal(new NextMonth(0, 1, 0, 0, 0, 3, 9), NextMonth.Of(CustomerMonth.Of(0, 3)) - NextMonth.Of(default));
    }
}
