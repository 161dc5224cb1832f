using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Scoring.V1;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Tests;

/// <summary>
/// GetValueOfExperience against a recomputation from the raw events: a synthetic population with planted effects
/// (promoters come back more and spend more; the journey answer drives coming back, touchpoint answers only echo it)
/// delivered in a shuffled order with redeliveries, then every figure recomputed from the events themselves.
/// </summary>
public sealed class ValueOfExperienceTests(OwnScoringHost fixture) : IClassFixture<OwnScoringHost>
{
    private const string Journey = "coffee-club";
    private static readonly string[] Touchpoints = ["box-delivered", "support-call"];

    // The planted effects: the chance to come back the month after, by the class of the customer's journey answer.
    private static readonly Dictionary<string, double> ComesBack = new() { ["promoter"] = 0.85, ["passive"] = 0.7, ["detractor"] = 0.45 };
    private static readonly Dictionary<string, double> MeanOrder = new() { ["promoter"] = 42, ["passive"] = 35, ["detractor"] = 28 };

    private readonly ScoringService.ScoringServiceClient _client = fixture.Host.Client<ScoringService.ScoringServiceClient>(Roles.Analyst);

    private sealed record Answer(string Customer, DateTime GivenAt, Guid Id, int Rating, string Journey, string Touchpoint);

    private sealed record Visit(string Customer, DateTime At, double Revenue, double Cost, string Touchpoint);

    private static string Class(int rating) => rating >= 9 ? "promoter" : rating >= 7 ? "passive" : "detractor";

    private static DateOnly ThisMonth => new(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1);

    /// <summary>Customers over five months ending last month: answers in the first four, each followed by the next month's visits.</summary>
    private static (List<Answer> Answers, List<Visit> Visits) Population(int customers, int seed)
    {
        var random = new Random(seed);
        var answers = new List<Answer>();
        var visits = new List<Visit>();
        var first = ThisMonth.AddMonths(-5);
        for (var c = 0; c < customers; c++)
        {
            var customer = $"value-{seed}-{c:D4}";
            var satisfaction = random.NextDouble() * 10;
            var active = true;
            for (var m = 0; m < 5 && active; m++)
            {
                var month = first.AddMonths(m).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
                DateTime Day(int from, int to) => month.AddDays(random.Next(from, to)).AddMinutes(random.Next(0, 1440));
                var ordered = Day(0, 10);
                var spend = Math.Round(MeanOrder[Class((int)Math.Round(satisfaction))] + (random.NextDouble() - 0.5) * 20, 2);
                visits.Add(new Visit(customer, ordered, spend, 0, "box-ordered"));
                visits.Add(new Visit(customer, ordered.AddDays(2), 0, 0, "box-delivered"));
                var rating = Math.Clamp((int)Math.Round(satisfaction + (random.NextDouble() - 0.5) * 2), 0, 10);
                if (rating <= 6 && random.NextDouble() < 0.6) visits.Add(new Visit(customer, ordered.AddDays(3), 0, 6.5, "support-call"));
                if (random.NextDouble() < 0.85) answers.Add(new Answer(customer, Day(12, 16), Guid.NewGuid(), rating, Journey, ""));
                // An earlier, different answer in the same month: the last one counts, whatever order they arrive in.
                if (random.NextDouble() < 0.1) answers.Add(new Answer(customer, Day(0, 5), Guid.NewGuid(), random.Next(0, 11), Journey, ""));
                // Touchpoint answers echo the experience only loosely.
                if (random.NextDouble() < 0.8)
                {
                    var noisy = Math.Clamp((int)Math.Round(satisfaction + (random.NextDouble() - 0.5) * 12), 0, 10);
                    answers.Add(new Answer(customer, Day(16, 20), Guid.NewGuid(), noisy, Journey, Touchpoints[random.Next(Touchpoints.Length)]));
                }
                satisfaction = Math.Clamp(satisfaction + (random.NextDouble() - 0.5) * 2, 0, 10);
                active = random.NextDouble() < ComesBack[Class(rating)];
            }
        }
        return (answers, visits);
    }

    private Task DeliverAsync<TEvent>(EventTopic<TEvent> topic, IReadOnlyList<TEvent> events, Func<TEvent, string> id) where TEvent : IMessage<TEvent>, new() =>
        ScoringEvents.DeliverAsync(fixture.Host, topic, events, id);

    private static FeedbackReceived ToEvent(Answer a)
    {
        var evt = new FeedbackReceived
        {
            EventId = $"feedback.received/{a.Id}",
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
            FeedbackId = a.Id.ToString(),
            Channel = Channel.Survey,
            JourneyKey = a.Journey,
            TouchpointKey = a.Touchpoint,
            CustomerId = a.Customer,
            Audience = "customer",
            GivenAt = Timestamp.FromDateTime(a.GivenAt),
        };
        evt.Ratings.Add(new RatingValue { QuestionId = "nps", Metric = Metric.Nps, Value = a.Rating, ScaleMin = 0, ScaleMax = 10, TopBoxValues = { 9, 10 } });
        return evt;
    }

    private static JourneyTouchpointRecorded ToEvent(Visit v, int n) => new()
    {
        EventId = $"journey.touchpoint.recorded/{v.Customer}/{n}",
        OccurredAt = Timestamp.FromDateTime(v.At),
        TouchpointEventId = Guid.NewGuid().ToString(),
        CustomerId = v.Customer,
        JourneyKey = Journey,
        TouchpointKey = v.Touchpoint,
        Revenue = v.Revenue,
        CostToServe = v.Cost,
    };

    /// <summary>Delivers answers and visits interleaved in a shuffled order, a tenth of them twice.</summary>
    private async Task DeliverPopulationAsync(List<Answer> answers, List<Visit> visits, int seed)
    {
        var random = new Random(seed);
        var feedback = answers.Select(ToEvent).OrderBy(_ => random.Next()).ToList();
        var touchpoints = visits.Select(ToEvent).OrderBy(_ => random.Next()).ToList();
        for (var part = 0; part < 4; part++)
        {
            // Touchpoints first in some rounds, answers first in others: the figures cannot depend on the order.
            var f = feedback.Skip(part * feedback.Count / 4).Take((part + 1) * feedback.Count / 4 - part * feedback.Count / 4).ToList();
            var t = touchpoints.Skip(part * touchpoints.Count / 4).Take((part + 1) * touchpoints.Count / 4 - part * touchpoints.Count / 4).ToList();
            if (part % 2 == 0)
            {
                await DeliverAsync(Topics.JourneyTouchpointRecorded, t, e => e.EventId);
                await DeliverAsync(Topics.FeedbackReceived, f, e => e.EventId);
            }
            else
            {
                await DeliverAsync(Topics.FeedbackReceived, f, e => e.EventId);
                await DeliverAsync(Topics.JourneyTouchpointRecorded, t, e => e.EventId);
            }
        }
        await DeliverAsync(Topics.FeedbackReceived, feedback.Where((_, i) => i % 10 == 0).ToList(), e => e.EventId);
        await DeliverAsync(Topics.JourneyTouchpointRecorded, touchpoints.Where((_, i) => i % 10 == 0).ToList(), e => e.EventId);
    }

    /// <summary>The recomputation: for each customer and answer month, the last answer that <paramref name="counts"/>, and the next month's visits.</summary>
    private static List<(int Rating, bool Retained, bool Bought, double Spend, double Cost)> Followed(List<Answer> answers, List<Visit> visits,
        Func<Answer, bool> counts, DateOnly from, DateOnly to)
    {
        static DateOnly MonthOf(DateTime at) => new(at.Year, at.Month, 1);
        var next = visits.GroupBy(v => (v.Customer, MonthOf(v.At))).ToDictionary(g => g.Key, g => g.ToList());
        return answers.Where(counts).Where(a => MonthOf(a.GivenAt) >= from && MonthOf(a.GivenAt) <= to)
            .GroupBy(a => (a.Customer, MonthOf(a.GivenAt)))
            .Select(g =>
            {
                var last = g.OrderBy(a => a.GivenAt).ThenBy(a => a.Id).Last();
                var after = next.GetValueOrDefault((g.Key.Customer, g.Key.Item2.AddMonths(1))) ?? [];
                return (last.Rating, after.Count > 0, after.Any(v => v.Revenue > 0), after.Sum(v => v.Revenue), after.Sum(v => v.Cost));
            })
            .ToList();
    }

    private static double BruteForceAuc(List<(int Rating, bool Retained, bool Bought, double Spend, double Cost)> rows)
    {
        var yes = rows.Where(r => r.Retained).Select(r => r.Rating).ToList();
        var no = rows.Where(r => !r.Retained).Select(r => r.Rating).ToList();
        double wins = 0;
        foreach (var y in yes)
        {
            foreach (var n in no) wins += y > n ? 1 : y == n ? 0.5 : 0;
        }
        return wins / ((double)yes.Count * no.Count);
    }

    [Fact]
    public async Task Every_figure_equals_a_recomputation_from_the_raw_events_and_the_planted_effects_are_found_within_their_intervals()
    {
        var (answers, visits) = Population(customers: 400, seed: 2611);
        await DeliverPopulationAsync(answers, visits, seed: 7);
        var from = ThisMonth.AddMonths(-5);
        var to = ThisMonth.AddMonths(-2);

        var response = await _client.GetValueOfExperienceAsync(new GetValueOfExperienceRequest
        {
            Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Journey, Value = Journey } } },
            StartMonth = from.ToString("yyyy-MM"),
            EndMonth = to.ToString("yyyy-MM"),
        });
        Assert.Empty(response.IncompleteMonths);

        // Every answer about the journey counts in its scope, journey-level and touchpoint-level alike.
        var all = Followed(answers, visits, _ => true, from, to);
        foreach (var (cls, figures) in new[] { "promoter", "passive", "detractor" }.Zip(response.Classes))
        {
            var rows = all.Where(r => Class(r.Rating) == cls).ToList();
            Assert.Equal(rows.Count, figures.Customers);
            Assert.Equal(rows.Count(r => r.Retained), figures.Retained.Count);
            Assert.Equal(100.0 * rows.Count(r => r.Retained) / rows.Count, figures.Retained.Percent, 9);
            Assert.Equal(rows.Count(r => r.Bought), figures.RepeatPurchase.Count);
            Assert.Equal(rows.Average(r => r.Spend), figures.Spend.Mean, 6);
            Assert.Equal(rows.Average(r => r.Cost), figures.CostToServe.Mean, 6);
            var sd = Math.Sqrt(rows.Sum(r => Math.Pow(r.Spend - rows.Average(x => x.Spend), 2)) / (rows.Count - 1));
            Assert.Equal(1.96 * sd / Math.Sqrt(rows.Count), figures.Spend.MarginOfError, 6);
        }
        var promoters = all.Where(r => Class(r.Rating) == "promoter").ToList();
        var detractors = all.Where(r => Class(r.Rating) == "detractor").ToList();
        Assert.Equal(detractors.Count * (promoters.Average(r => r.Spend) - detractors.Average(r => r.Spend)), response.RevenueAtRisk.Value, 4);

        // The planted effects: promoters come back 40 points more often (85 % against 45 %) — by their journey answer;
        // counting touchpoint answers too dilutes it, so the planted gap is an upper bound here and must be significant.
        Assert.True(response.RetainedPoints.Significant);
        Assert.InRange(response.RetainedPoints.Value, 15, 40);
        Assert.True(response.Spend.Significant);
        Assert.True(response.RevenueAtRisk.Value > 0);
        Assert.True(response.CostToServe.Value < 0, "detractors call support more: they cost more to serve.");

        // Journey against touchpoint answers: each level's AUC equals the brute-force pairwise count.
        var journeyRows = Followed(answers, visits, a => a.Touchpoint.Length == 0, from, to);
        var touchpointRows = Followed(answers, visits, a => a.Touchpoint.Length > 0, from, to);
        var journeyPower = Assert.Single(response.Journeys);
        Assert.Equal((Journey, ""), (journeyPower.JourneyKey, journeyPower.TouchpointKey));
        Assert.Equal(journeyRows.Count, journeyPower.Customers);
        Assert.Equal(BruteForceAuc(journeyRows), journeyPower.Auc, 9);
        Assert.Equal(2, response.Touchpoints.Count);
        foreach (var power in response.Touchpoints)
        {
            var rows = Followed(answers, visits, a => a.Touchpoint == power.TouchpointKey, from, to);
            Assert.Equal(Journey, power.JourneyKey);
            Assert.Equal(rows.Count, power.Customers);
            Assert.Equal(BruteForceAuc(rows), power.Auc, 9);
            Assert.InRange(power.Auc, power.AucLow, power.AucHigh);
        }
        // Pooled: the sum of the per-touchpoint tables, not a recomputation over customers (one customer may answer about both).
        Assert.Equal(response.Touchpoints.Sum(t => t.Customers), response.TouchpointsPooled.Customers);
        Assert.True(response.JourneysPooled.Auc > response.TouchpointsPooled.Auc);
        Assert.True(response.JourneyMinusTouchpointAuc.Significant, $"journey {response.JourneysPooled.Auc:F3} vs touchpoint {response.TouchpointsPooled.Auc:F3}");
        Assert.InRange(response.JourneyMinusTouchpointAuc.Value, response.JourneyMinusTouchpointAuc.Low, response.JourneyMinusTouchpointAuc.High);

        // The default window (six months up to the last whose following month ended) is the same data here.
        var byDefault = await _client.GetValueOfExperienceAsync(new GetValueOfExperienceRequest());
        Assert.Equal((ThisMonth.AddMonths(-7).ToString("yyyy-MM"), ThisMonth.AddMonths(-2).ToString("yyyy-MM")), (byDefault.StartMonth, byDefault.EndMonth));
        Assert.Equal(all.Count, byDefault.Classes.Sum(c => c.Customers));
    }

    [Fact]
    public async Task A_month_still_running_is_flagged_and_an_erased_customer_leaves_only_anonymous_sums()
    {
        var customer = $"erase-{Guid.NewGuid():N}"[..20];
        var lastMonth = ThisMonth.AddMonths(-1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).AddDays(3);
        var answer = new Answer(customer, lastMonth, Guid.NewGuid(), 10, "erasure-journey", "");
        await DeliverAsync(Topics.FeedbackReceived, [ToEvent(answer)], e => e.EventId);
        await DeliverAsync(Topics.JourneyTouchpointRecorded, [ToEvent(new Visit(customer, ThisMonth.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), 30, 2, "box-ordered"), 0)], e => e.EventId);

        var request = new GetValueOfExperienceRequest
        {
            Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Journey, Value = "erasure-journey" } } },
            StartMonth = ThisMonth.AddMonths(-1).ToString("yyyy-MM"),
            EndMonth = ThisMonth.ToString("yyyy-MM"),
        };
        var before = await _client.GetValueOfExperienceAsync(request);
        Assert.Equal([request.StartMonth, request.EndMonth], before.IncompleteMonths);
        var promoters = before.Classes[0];
        Assert.Equal((1, 1, 30.0), (promoters.Customers, promoters.RepeatPurchase.Count, promoters.Spend.Mean));
        Assert.False(before.RetainedPoints.HasValue); // no detractors: nothing to subtract

        var erased = new FeedbackErased { EventId = Guid.NewGuid().ToString(), OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow), CustomerId = customer };
        await DeliverAsync(Topics.FeedbackErased, [erased], e => e.EventId);
        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");
        await using var connection = await db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "select (select count(*) from value_answers where customer_id = @customer) + (select count(*) from value_outcomes where customer_id = @customer)",
            new { customer }));
        var after = await _client.GetValueOfExperienceAsync(request);
        Assert.Equal(before.Classes, after.Classes);
    }

    [Theory]
    [InlineData("2026-13", "2026-12", "start_month")]
    [InlineData("2026-01", "", "end_month")]
    [InlineData("2026-05", "2026-01", "end_month")]
    [InlineData("2099-01", "2099-02", "end_month")]
    [InlineData("1900-01", "1900-02", "start_month")]
    [InlineData("2026-1", "2026-02", "start_month")]
    public async Task Bad_months_are_refused_naming_the_field(string start, string end, string field)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _client.GetValueOfExperienceAsync(
            new GetValueOfExperienceRequest { StartMonth = start, EndMonth = end }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(field, RpcErrors.Fields(error));
    }

    [Fact]
    public async Task Scopes_the_value_is_not_kept_by_are_refused()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _client.GetValueOfExperienceAsync(new GetValueOfExperienceRequest
        {
            Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Audience, Value = "employee" } } },
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("scope.dimensions[0].kind", RpcErrors.Fields(error));
    }
}
