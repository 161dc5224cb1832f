using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.Scoring.V1;
using CxMesh.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace CxMesh.Scoring.Tests;

/// <summary>
/// Relationship stages against a recomputation from the raw events: customers over eight months buy, attend a tasting
/// workshop (planted: it makes a purchase that month far likelier), refer friends and answer NPS; every figure is then
/// recomputed here by replaying each customer's events under the model, independently of scoring's code.
/// </summary>
public sealed class RelationshipStagesApiTests(OwnScoringHost fixture) : IClassFixture<OwnScoringHost>
{
    private const string Journey = "coffee-club";
    private readonly ScoringService.ScoringServiceClient _analyst = fixture.Host.Client<ScoringService.ScoringServiceClient>(Roles.Analyst);
    private readonly ScoringService.ScoringServiceClient _admin = fixture.Host.Client<ScoringService.ScoringServiceClient>(Roles.Admin);

    private sealed record Visit(string Customer, DateTime At, string Touchpoint, double Revenue, string ReferredBy = "");

    private sealed record Answer(string Customer, DateTime At, int Rating);

    private sealed record Rule(int Purchases, int PurchaseMonths, int Referrals, bool Promoter, string? Touchpoint = null, int Count = 0);

    private static readonly (string Key, Rule Rule)[] DefaultLadder =
    [
        ("prospect", new Rule(0, 0, 0, false)),
        ("first-purchase", new Rule(1, 0, 0, false)),
        ("repeat", new Rule(2, 0, 0, false)),
        ("regular", new Rule(3, 3, 0, false)),
        ("loyal", new Rule(6, 6, 0, false)),
        ("advocate", new Rule(3, 3, 1, false)),
        ("partner", new Rule(6, 6, 3, true)),
    ];

    private static DateOnly ThisMonth => new(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1);

    private static DateOnly MonthOf(DateTime at) => new(at.Year, at.Month, 1);

    private static (List<Visit> Visits, List<Answer> Answers) Population(int customers, int seed)
    {
        var random = new Random(seed);
        var visits = new List<Visit>();
        var answers = new List<Answer>();
        var first = ThisMonth.AddMonths(-8);
        for (var c = 0; c < customers; c++)
        {
            var customer = $"stage-{seed}-{c:D4}";
            var joined = random.Next(0, 6);
            for (var m = joined; m < 8; m++)
            {
                if (m > joined && random.NextDouble() < 0.25) continue; // a quiet month
                var month = first.AddMonths(m).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
                DateTime Day() => month.AddDays(random.Next(0, 27)).AddMinutes(random.Next(0, 1440));
                visits.Add(new Visit(customer, Day(), "browse", 0));
                var workshop = random.NextDouble() < 0.3;
                if (workshop) visits.Add(new Visit(customer, Day(), "tasting-workshop", 0));
                if (random.NextDouble() < (workshop ? 0.9 : 0.35))
                {
                    // A friend's referral names someone who joined earlier.
                    var referredBy = c > 0 && random.NextDouble() < 0.15 ? $"stage-{seed}-{random.Next(0, c):D4}" : "";
                    visits.Add(new Visit(customer, Day(), referredBy.Length > 0 ? "referral-order" : "box-ordered", Math.Round(20 + random.NextDouble() * 30, 2), referredBy));
                }
                if (random.NextDouble() < 0.4) answers.Add(new Answer(customer, Day(), random.Next(0, 11)));
            }
        }
        return (visits, answers);
    }

    private async Task DeliverAsync(List<Visit> visits, List<Answer> answers, int seed)
    {
        var random = new Random(seed);
        var touchpoints = visits.Select((v, i) =>
        {
            var e = new JourneyTouchpointRecorded
            {
                EventId = $"journey.touchpoint.recorded/{seed}/{i}",
                OccurredAt = Timestamp.FromDateTime(v.At),
                TouchpointEventId = Guid.NewGuid().ToString(),
                CustomerId = v.Customer,
                JourneyKey = Journey,
                TouchpointKey = v.Touchpoint,
                Revenue = v.Revenue,
            };
            if (v.ReferredBy.Length > 0) e.Attributes["referred_by"] = v.ReferredBy;
            return e;
        }).OrderBy(_ => random.Next()).ToList();
        var feedback = answers.Select(a =>
        {
            var id = Guid.NewGuid().ToString();
            var e = new FeedbackReceived
            {
                EventId = $"feedback.received/{id}",
                OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
                FeedbackId = id,
                Channel = Channel.Survey,
                CustomerId = a.Customer,
                Audience = "customer",
                GivenAt = Timestamp.FromDateTime(a.At),
            };
            e.Ratings.Add(new RatingValue { QuestionId = "nps", Metric = Metric.Nps, Value = a.Rating, ScaleMin = 0, ScaleMax = 10, TopBoxValues = { 9, 10 } });
            return e;
        }).ToList();
        // Shuffled touchpoints arrive before and after the answers; a tenth of them twice.
        var half = touchpoints.Count / 2;
        await ScoringEvents.DeliverAsync(fixture.Host, Topics.JourneyTouchpointRecorded, touchpoints[..half], e => e.EventId);
        await ScoringEvents.DeliverAsync(fixture.Host, Topics.FeedbackReceived, feedback, e => e.EventId);
        await ScoringEvents.DeliverAsync(fixture.Host, Topics.JourneyTouchpointRecorded, touchpoints[half..], e => e.EventId);
        await ScoringEvents.DeliverAsync(fixture.Host, Topics.JourneyTouchpointRecorded, touchpoints.Where((_, i) => i % 10 == 0).ToList(), e => e.EventId);
    }

    /// <summary>Each customer's stage at the end of every month they had an event in, replayed from the raw events.</summary>
    private static Dictionary<string, List<(DateOnly Month, string Stage, bool Active, HashSet<string> Touchpoints, int? Rating)>> Replay(
        List<Visit> visits, List<Answer> answers, (string Key, Rule Rule)[] ladder)
    {
        var result = new Dictionary<string, List<(DateOnly, string, bool, HashSet<string>, int?)>>();
        var referralsOf = visits.Where(v => v.ReferredBy.Length > 0 && v.ReferredBy != v.Customer)
            .GroupBy(v => (v.ReferredBy, v.Customer)).Select(g => (Referrer: g.Key.ReferredBy, Month: MonthOf(g.Min(v => v.At))))
            .ToLookup(r => r.Referrer, r => r.Month);
        var customers = visits.Select(v => v.Customer).Concat(answers.Select(a => a.Customer)).Concat(referralsOf.Select(g => g.Key)).Distinct();
        foreach (var customer in customers)
        {
            var mine = visits.Where(v => v.Customer == customer).ToList();
            var said = answers.Where(a => a.Customer == customer).ToList();
            var months = mine.Select(v => MonthOf(v.At)).Concat(said.Select(a => MonthOf(a.At))).Concat(referralsOf[customer]).Distinct().Order();
            int purchases = 0, purchaseMonths = 0, referrals = 0, last = -1;
            var counts = new Dictionary<string, int>();
            var path = new List<(DateOnly, string, bool, HashSet<string>, int?)>();
            foreach (var month in months)
            {
                var inMonth = mine.Where(v => MonthOf(v.At) == month).ToList();
                var bought = inMonth.Count(v => v.Revenue > 0);
                purchases += bought;
                if (bought > 0) purchaseMonths++;
                referrals += referralsOf[customer].Count(m => m == month);
                var answer = said.Where(a => MonthOf(a.At) == month).OrderBy(a => a.At).LastOrDefault();
                if (answer is not null) last = answer.Rating;
                foreach (var v in inMonth) counts[v.Touchpoint] = counts.GetValueOrDefault(v.Touchpoint) + 1;
                var stage = ladder.LastOrDefault(s => purchases >= s.Rule.Purchases && purchaseMonths >= s.Rule.PurchaseMonths && referrals >= s.Rule.Referrals
                    && (!s.Rule.Promoter || last >= 9) && (s.Rule.Touchpoint is null || counts.GetValueOrDefault(s.Rule.Touchpoint) >= s.Rule.Count)).Key ?? "";
                path.Add((month, stage, inMonth.Count > 0, inMonth.Select(v => $"touchpoint:{Journey}|{v.Touchpoint}").ToHashSet(), answer?.Rating));
            }
            result[customer] = path;
        }
        return result;
    }

    private static void AssertMatches(GetRelationshipStagesResponse response, Dictionary<string, List<(DateOnly Month, string Stage, bool Active, HashSet<string> Touchpoints, int? Rating)>> replay,
        DateOnly from, DateOnly to)
    {
        string StageAt(List<(DateOnly Month, string Stage, bool, HashSet<string>, int?)> path, DateOnly end) =>
            path.Where(p => p.Month <= end).Select(p => p.Stage).LastOrDefault() ?? "";
        foreach (var stage in response.Stages)
        {
            Assert.Equal(replay.Values.Count(p => p[0].Month <= to && StageAt(p, to) == stage.StageKey), stage.Customers);
            Assert.Equal(replay.Values.Count(p => p[0].Month < from && StageAt(p, from.AddMonths(-1)) == stage.StageKey), stage.CustomersAtStart);
            Assert.Equal(replay.Values.Sum(p => p.Count(m => m.Month >= from && m.Month <= to && m.Active && m.Stage == stage.StageKey)), stage.ActiveCustomers);
            Assert.Equal(replay.Values.Sum(p => p.Count(m => m.Month >= from && m.Month <= to && m.Rating is not null && m.Stage == stage.StageKey)), stage.Answers);
        }
        // Every cell: customers who started a month of the window in one stage (or were new) and ended it in another.
        var expected = new Dictionary<(string, string), long>();
        foreach (var path in replay.Values)
        {
            for (var month = from; month <= to; month = month.AddMonths(1))
            {
                if (path[0].Month > month) continue;
                var start = path[0].Month == month ? "" : StageAt(path, month.AddMonths(-1));
                var key = (start, StageAt(path, month));
                expected[key] = expected.GetValueOrDefault(key) + 1;
            }
        }
        Assert.Equal(expected.OrderBy(e => e.Key).ToList(),
            response.Transitions.Select(t => KeyValuePair.Create((t.FromStage, t.ToStage), t.Customers)).OrderBy(e => e.Key).ToList());
    }

    [Fact]
    public async Task Stages_transitions_and_the_path_map_equal_a_replay_of_the_raw_events_under_any_model()
    {
        var (visits, answers) = Population(customers: 250, seed: 41);
        await DeliverAsync(visits, answers, seed: 3);
        var from = ThisMonth.AddMonths(-6);
        var to = ThisMonth.AddMonths(-1);
        var window = new GetRelationshipStagesRequest { StartMonth = from.ToString("yyyy-MM"), EndMonth = to.ToString("yyyy-MM") };

        var model = (await _analyst.GetStageModelAsync(new GetStageModelRequest())).Model;
        Assert.Equal(DefaultLadder.Select(s => s.Key), model.Stages.Select(s => s.Key));
        var replay = Replay(visits, answers, DefaultLadder);
        var response = await _analyst.GetRelationshipStagesAsync(window);
        Assert.False(response.Rebuilding);
        AssertMatches(response, replay, from, to);
        Assert.Contains(response.Transitions, t => t.FromStage == "repeat" && t.ToStage == "regular");
        Assert.Contains(response.Transitions, t => t.ToStage == "advocate");

        // The path map of "first-purchase": the planted workshop goes with moving up, significantly.
        var paths = await _analyst.GetStagePathsAsync(new GetStagePathsRequest { StageKey = "first-purchase", StartMonth = window.StartMonth, EndMonth = window.EndMonth });
        var workshop = paths.Steps.Single(s => s.TouchpointKey == "tasting-workshop");
        Assert.Equal(Journey, workshop.JourneyKey);
        Assert.True(workshop.Lift > 1.5, $"lift {workshop.Lift}");
        Assert.True(workshop.DifferencePoints.Significant);
        Assert.Equal(ExpectedPath(replay, "first-purchase", from, to, $"touchpoint:{Journey}|tasting-workshop"), (workshop.Customers, workshop.MovedUp));
        Assert.Equal(ExpectedPath(replay, "first-purchase", from, to, null), (paths.Customers, paths.MovedUp));

        // One customer's own history.
        var someone = replay.First(r => r.Value.Select(p => p.Stage).Distinct().Count() >= 3);
        var mine = await _analyst.GetCustomerStageAsync(new GetCustomerStageRequest { CustomerId = someone.Key });
        Assert.Equal(someone.Value[^1].Stage, mine.StageKey);
        Assert.Equal(someone.Value.Select(p => p.Stage).Where((s, i) => i == 0 || s != someone.Value[i - 1].Stage), mine.History.Select(h => h.ToStage));

        // A new model: every customer is replayed under it in the background, then the figures follow it.
        var updated = (await _admin.UpdateStageModelAsync(new UpdateStageModelRequest
        {
            ExpectedVersion = model.Version,
            Model = new V1.StageModel
            {
                Stages =
                {
                    new V1.StageDefinition { Key = "guest", Name = "Guest", Rule = new V1.StageRule() },
                    new V1.StageDefinition
                    {
                        Key = "enthusiast", Name = "Enthusiast",
                        Rule = new V1.StageRule { Touchpoints = { new TouchpointRequirement { JourneyKey = Journey, TouchpointKey = "tasting-workshop", MinCount = 2 } } },
                    },
                    new V1.StageDefinition { Key = "fan", Name = "Fan", Rule = new V1.StageRule { MinPurchases = 2, Promoter = true } },
                },
            },
        })).Model;
        Assert.Equal(model.Version + 1, updated.Version);
        var rebuilt = await Eventually.Until(() => _analyst.GetRelationshipStagesAsync(window).ResponseAsync, r => !r.Rebuilding, TimeSpan.FromSeconds(120),
            "every customer replayed under the new model");
        AssertMatches(rebuilt, Replay(visits, answers,
            [("guest", new Rule(0, 0, 0, false)), ("enthusiast", new Rule(0, 0, 0, false, "tasting-workshop", 2)), ("fan", new Rule(2, 0, 0, true))]), from, to);

        // An update from the old version is refused: it would overwrite this one.
        var stale = await Assert.ThrowsAsync<RpcException>(() => _admin.UpdateStageModelAsync(new UpdateStageModelRequest { ExpectedVersion = model.Version, Model = updated }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, stale.StatusCode);
        Assert.Equal("VERSION_MISMATCH", RpcErrors.Reason(stale));
    }

    private static (long, long) ExpectedPath(Dictionary<string, List<(DateOnly Month, string Stage, bool Active, HashSet<string> Touchpoints, int? Rating)>> replay,
        string stage, DateOnly from, DateOnly to, string? experience)
    {
        long customers = 0, moved = 0;
        var ranks = DefaultLadder.Select(s => s.Key).ToList();
        foreach (var path in replay.Values)
        {
            for (var i = 1; i < path.Count; i++)
            {
                var (month, now, active, touchpoints, _) = path[i];
                if (month < from || month > to || !active || path[i - 1].Stage != stage) continue;
                if (experience is not null && !touchpoints.Contains(experience)) continue;
                customers++;
                if (ranks.IndexOf(now) > ranks.IndexOf(stage)) moved++;
            }
        }
        return (customers, moved);
    }

    public static TheoryData<string, string> BadModels => new()
    {
        { "one stage", "model.stages" },
        { "duplicate key", "model.stages[1].key" },
        { "bad key", "model.stages[0].key" },
        { "no name", "model.stages[0].name" },
        { "negative purchases", "model.stages[1].rule.min_purchases" },
        { "zero touchpoint count", "model.stages[1].rule.touchpoints[0].min_count" },
        { "bad touchpoint key", "model.stages[1].rule.touchpoints[0].touchpoint_key" },
    };

    [Theory]
    [MemberData(nameof(BadModels))]
    public async Task A_bad_model_is_refused_naming_the_field(string how, string field)
    {
        var model = new V1.StageModel
        {
            Stages =
            {
                new V1.StageDefinition { Key = "a", Name = "A" },
                new V1.StageDefinition { Key = "b", Name = "B", Rule = new V1.StageRule { Touchpoints = { new TouchpointRequirement { JourneyKey = "j", TouchpointKey = "t", MinCount = 1 } } } },
            },
        };
        switch (how)
        {
            case "one stage": model.Stages.RemoveAt(1); break;
            case "duplicate key": model.Stages[1].Key = "a"; break;
            case "bad key": model.Stages[0].Key = "A B"; break;
            case "no name": model.Stages[0].Name = ""; break;
            case "negative purchases": model.Stages[1].Rule.MinPurchases = -1; break;
            case "zero touchpoint count": model.Stages[1].Rule.Touchpoints[0].MinCount = 0; break;
            case "bad touchpoint key": model.Stages[1].Rule.Touchpoints[0].TouchpointKey = ""; break;
        }
        var error = await Assert.ThrowsAsync<RpcException>(() => _admin.UpdateStageModelAsync(new UpdateStageModelRequest { Model = model }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(field, RpcErrors.Fields(error));
    }

    [Fact]
    public async Task An_unknown_stage_has_no_path_map_and_an_unknown_customer_no_stage()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _analyst.GetStagePathsAsync(new GetStagePathsRequest { StageKey = "no-such-stage" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        var nobody = await _analyst.GetCustomerStageAsync(new GetCustomerStageRequest { CustomerId = "never-seen" });
        Assert.Equal(("", 0), (nobody.StageKey, nobody.History.Count));
    }
}
