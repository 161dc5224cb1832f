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
/// eNPS beside NPS per unit against a recomputation from the raw events: twelve stores, each with two teams of two agents;
/// customers rate the agent who served them, employees rate their team or store. Planted: a store's staff mood (its eNPS
/// leaning) moves its customers' NPS, so the correlation across stores is strong. One small store has three employees'
/// answers only: its eNPS is withheld.
/// </summary>
public sealed class UnitsFixture : IAsyncLifetime
{
    public CxMeshTestHost Host { get; private set; } = null!;

    public sealed record Answer(string Unit, bool Employee, int Rating, DateTime At, IReadOnlyList<UnitRef> Path, IReadOnlyList<UnitRef> Praised, int? Csat)
    {
        /// <summary>Employees' attribute ratings (1-5, driver_of enps): the workload (planted: it drives eNPS) and the rota app (it does not).</summary>
        public int? Workload { get; init; }
        public int? Rota { get; init; }
        /// <summary>Their words mention short staffing (a theme, said negatively).</summary>
        public bool ShortStaffed { get; init; }
    }

    public List<Answer> Answers { get; } = [];

    private readonly Dictionary<string, UnitRef> _units = [];
    public string Run { get; } = Guid.NewGuid().ToString("N")[..6];

    private UnitRef Unit(string key, UnitKind kind, string parent = "") =>
        _units[key] = new UnitRef { Key = key, Kind = kind, Name = $"Name of {key}", ParentKey = parent };

    private IReadOnlyList<UnitRef> PathOf(string key)
    {
        var path = new List<UnitRef>();
        for (var unit = _units[key]; ; unit = _units[unit.ParentKey])
        {
            path.Add(unit);
            if (unit.ParentKey.Length == 0) return path;
        }
    }

    public async Task InitializeAsync()
    {
        Host = await CxMeshTestHost.StartAsync(s => s.Services = "scoring");
        var random = new Random(2112);
        var today = DateTime.UtcNow.Date;
        for (var s = 0; s < 12; s++)
        {
            var store = Unit($"s{Run}-{s}", UnitKind.Store);
            var mood = (s - 5.5) / 5.5; // -1 .. 1: how the staff feel, and (planted) how the customers are served
            var small = s == 11;
            for (var t = 0; t < 2; t++)
            {
                var team = Unit($"{store.Key}-t{t}", UnitKind.Team, store.Key);
                for (var a = 0; a < 2; a++)
                {
                    var agent = Unit($"{team.Key}-a{a}", UnitKind.Agent, team.Key);
                    for (var i = 0; i < 15; i++)
                    {
                        var rating = Math.Clamp((int)Math.Round(7 + 2.5 * mood + random.NextDouble() * 4 - 2), 0, 10);
                        var praised = rating >= 9 && i % 3 == 0 ? new[] { agent } : [];
                        Answers.Add(new Answer(agent.Key, false, rating, today.AddDays(-random.Next(0, 60)), PathOf(agent.Key), praised, i % 2 == 0 ? Math.Clamp(rating / 2, 1, 5) : null));
                    }
                }
                for (var e = 0; e < (small ? (t == 0 ? 3 : 0) : 6); e++)
                {
                    // Planted: the workload follows the staff mood and drives eNPS; the rota app is noise.
                    var workload = Math.Clamp((int)Math.Round(3 + 1.6 * mood + random.NextDouble() * 2.4 - 1.2), 1, 5);
                    var rating = Math.Clamp((int)Math.Round(1.8 * workload + 0.5 + random.NextDouble() * 3 - 1.5), 0, 10);
                    Answers.Add(new Answer(team.Key, true, rating, today.AddDays(-random.Next(0, 60)), PathOf(team.Key), [], null)
                    {
                        Workload = workload,
                        Rota = random.Next(1, 6),
                        ShortStaffed = workload <= 2,
                    });
                }
            }
            // Employees who name their store, not a team.
            if (!small)
            {
                for (var e = 0; e < 4; e++) Answers.Add(new Answer(store.Key, true, Math.Clamp((int)Math.Round(6 + 3 * mood), 0, 10), today.AddDays(-3), PathOf(store.Key), [], null));
            }
        }
        // An answer outside the 90-day window counts nowhere.
        Answers.Add(new Answer($"s{Run}-0-t0-a0", false, 0, today.AddDays(-200), PathOf($"s{Run}-0-t0-a0"), [], null));

        var events = Answers.Select((a, n) =>
        {
            var evt = new FeedbackReceived
            {
                EventId = $"feedback.received/{Run}-{n}",
                OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
                FeedbackId = Guid.NewGuid().ToString(),
                Channel = Channel.ContactCentre,
                Audience = a.Employee ? "employee" : "customer",
                GivenAt = Timestamp.FromDateTime(DateTime.SpecifyKind(a.At.AddHours(10), DateTimeKind.Utc)),
                Units = { a.Path },
                PraisedUnits = { a.Praised },
            };
            evt.Ratings.Add(new RatingValue
            {
                QuestionId = a.Employee ? "enps" : "nps",
                Metric = a.Employee ? Metric.Enps : Metric.Nps,
                Value = a.Rating,
                ScaleMin = 0,
                ScaleMax = 10,
                TopBoxValues = { 9, 10 },
            });
            if (a.Csat is { } csat) evt.Ratings.Add(new RatingValue { QuestionId = "csat", Metric = Metric.Csat, Value = csat, ScaleMin = 1, ScaleMax = 5, TopBoxValues = { 4, 5 } });
            foreach (var (question, value) in new[] { ("enps-workload", a.Workload), ("enps-rota", a.Rota) })
            {
                if (value is { } v) evt.Ratings.Add(new RatingValue { QuestionId = question, Metric = Metric.Custom, Value = v, ScaleMin = 1, ScaleMax = 5, TopBoxValues = { 4, 5 }, DriverOf = "enps" });
            }
            if (a.Employee && a.Workload is not null)
            {
                evt.RedactedVerbatim = a.ShortStaffed ? "We are short-staffed every weekend." : "Fine shifts this month.";
                (evt.Language, evt.SentimentScore) = ("en", a.ShortStaffed ? -0.6 : 0.2);
                if (a.ShortStaffed) evt.Themes.Add(new ThemeMention { ThemeKey = "short-staffing", SentimentScore = -0.6, Polarity = Polarity.Negative });
            }
            return evt;
        }).ToList();
        await ScoringEvents.DeliverAsync(Host, Topics.FeedbackReceived, events, e => e.EventId);
        // A broker redelivers some: nothing counts twice.
        await ScoringEvents.DeliverAsync(Host, Topics.FeedbackReceived, events.Where((_, i) => i % 10 == 0).ToList(), e => e.EventId);
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public sealed class UnitComparisonTests(UnitsFixture fixture) : IClassFixture<UnitsFixture>
{
    private readonly ScoringService.ScoringServiceClient _analyst = fixture.Host.Client<ScoringService.ScoringServiceClient>(Roles.Analyst);
    private readonly List<UnitsFixture.Answer> _answers = fixture.Answers;
    private readonly string _run = fixture.Run;

    private IEnumerable<UnitsFixture.Answer> Within(string unit, bool employee) =>
        _answers.Where(a => a.Employee == employee && a.At >= DateTime.UtcNow.Date.AddDays(-89) && a.Path.Any(p => p.Key == unit));

    private static double Nps(IEnumerable<UnitsFixture.Answer> answers)
    {
        var list = answers.ToList();
        return 100.0 * (list.Count(a => a.Rating >= 9) - list.Count(a => a.Rating <= 6)) / list.Count;
    }

    private static double Pearson(IReadOnlyList<(double X, double Y)> p)
    {
        var (mx, my) = (p.Average(q => q.X), p.Average(q => q.Y));
        return p.Sum(q => (q.X - mx) * (q.Y - my)) / Math.Sqrt(p.Sum(q => (q.X - mx) * (q.X - mx)) * p.Sum(q => (q.Y - my) * (q.Y - my)));
    }

    [Fact]
    public async Task Each_stores_NPS_and_eNPS_and_their_correlation_equal_a_recomputation_from_the_raw_answers()
    {
        var response = await _analyst.CompareUnitsAsync(new CompareUnitsRequest { Kind = UnitKind.Store });
        var stores = response.Units.Where(u => u.Unit.Key.StartsWith($"s{_run}-", StringComparison.Ordinal)).ToList();
        Assert.Equal(12, stores.Count);
        foreach (var store in stores)
        {
            var customers = Within(store.Unit.Key, employee: false).ToList();
            Assert.Equal(customers.Count, store.Nps.N);
            Assert.Equal(Nps(customers), store.Nps.Value, 9);
            var employees = Within(store.Unit.Key, employee: true).ToList();
            if (employees.Count < 5)
            {
                Assert.True(store.EnpsWithheld);
                Assert.Equal((0L, false), (store.Enps.N, store.Enps.HasValue));
                Assert.False(store.InCorrelation);
            }
            else
            {
                Assert.Equal(employees.Count, store.Enps.N);
                Assert.Equal(Nps(employees), store.Enps.Value, 9);
                Assert.True(store.InCorrelation);
            }
            Assert.Equal($"Name of {store.Unit.Key}", store.Unit.Name);
        }
        Assert.Single(stores, s => s.EnpsWithheld);
        Assert.Equal(stores.OrderByDescending(s => s.Nps.Value).Select(s => s.Unit.Key), stores.Select(s => s.Unit.Key));

        // Only this run's stores exist in this host, so the correlation is theirs.
        var points = stores.Where(s => s.InCorrelation).Select(s => (s.Enps.Value, s.Nps.Value)).ToList();
        var r = Pearson(points);
        var c = response.Correlation;
        Assert.Equal((11, true), (c.Units, c.HasValue));
        Assert.Equal(r, c.R, 9);
        var half = 1.959963984540054 / Math.Sqrt(points.Count - 3);
        Assert.Equal(Math.Tanh(Math.Atanh(r) - half), c.RLow, 6);
        Assert.Equal(Math.Tanh(Math.Atanh(r) + half), c.RHigh, 6);
        // Planted: staff mood moves the customers' NPS.
        Assert.True(c.R > 0.8 && c.RLow > 0.3 && c.PValue < 0.01, $"r {c.R:F3} ({c.RLow:F3}..{c.RHigh:F3}), p {c.PValue:G3}");
        Assert.True(c.SpearmanRho > 0.7, $"rho {c.SpearmanRho:F3}");
        var (mx, my) = (points.Average(p => p.Item1), points.Average(p => p.Item2));
        Assert.Equal(points.Sum(p => (p.Item1 - mx) * (p.Item2 - my)) / points.Sum(p => (p.Item1 - mx) * (p.Item1 - mx)), c.Slope, 9);
    }

    [Fact]
    public async Task Agents_have_customers_NPS_and_never_an_eNPS_and_a_parent_narrows_the_list()
    {
        var team = $"s{_run}-3-t1";
        var response = await _analyst.CompareUnitsAsync(new CompareUnitsRequest { Kind = UnitKind.Agent, ParentKey = team, MinN = 5 });
        Assert.Equal([$"{team}-a0", $"{team}-a1"], response.Units.Select(u => u.Unit.Key).Order());
        foreach (var agent in response.Units)
        {
            Assert.Equal(Nps(Within(agent.Unit.Key, false)), agent.Nps.Value, 9);
            Assert.Equal((0L, false), (agent.Enps.N, agent.InCorrelation));
        }
        Assert.False(response.Correlation.HasValue);
    }

    [Fact]
    public async Task A_scorecard_shows_the_unit_beside_its_parent_and_peers_with_its_praise()
    {
        var agent = $"s{_run}-7-t0-a1";
        var card = await _analyst.GetUnitScorecardAsync(new GetUnitScorecardRequest { UnitKey = agent });
        Assert.Equal((UnitKind.Agent, $"s{_run}-7-t0"), (card.Unit.Kind, card.Unit.ParentKey));
        Assert.Equal(Nps(Within(agent, false)), card.Nps.Value, 9);
        Assert.Equal(Nps(Within($"s{_run}-7-t0", false)), card.ParentNps.Value, 9);
        var csat = Within(agent, false).Where(a => a.Csat is not null).ToList();
        Assert.Equal(csat.Count, card.Csat.N);
        Assert.Equal(100.0 * csat.Count(a => a.Csat >= 4) / csat.Count, card.Csat.Value, 9);
        Assert.Equal(Within(agent, false).Count(a => a.Praised.Count > 0), card.Praise);
        Assert.Equal((2, 0), (card.Peers, card.UnitsBelow));
        var sibling = Nps(Within($"s{_run}-7-t0-a0", false));
        Assert.Equal(card.Nps.Value >= sibling ? 1 : 2, card.NpsRank);

        var store = await _analyst.GetUnitScorecardAsync(new GetUnitScorecardRequest { UnitKey = $"s{_run}-7" });
        Assert.Equal((6, false), (store.UnitsBelow, store.ParentNps.HasValue));
        Assert.Equal(_answers.Count(a => a.Praised.Count > 0 && a.Path.Any(p => p.Key == $"s{_run}-7") && a.At >= DateTime.UtcNow.Date.AddDays(-89)), store.Praise);
        Assert.Equal(Nps(Within($"s{_run}-7", true)), store.Enps.Value, 9);
        Assert.Equal(12, store.Peers);
    }

    [Fact]
    public async Task What_moves_eNPS_is_found_from_employees_attribute_ratings_and_words()
    {
        var employees = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Audience, Value = "employee" } } };
        var attributes = await _analyst.GetKeyDriversAsync(new GetKeyDriversRequest
        {
            Scope = employees,
            Outcome = Outcome.NpsRating,
            DriverKind = DriverKind.AttributeRating,
            Window = new Window { LastDays = 90 },
        });
        var rated = _answers.Where(a => a.Workload is not null).ToList();
        Assert.Equal(rated.Count, attributes.N);
        var workload = attributes.Drivers.First();
        Assert.Equal("enps-workload", workload.QuestionId);
        Assert.True(workload.Significant && workload.RelativeWeightPercent > 80, $"workload {workload.RelativeWeightPercent:0}% p {workload.PValue:G3}");
        Assert.Equal(Pearson(rated.Select(a => ((double)a.Workload!.Value, (double)a.Rating)).ToList()), workload.Correlation, 9);
        Assert.Equal(rated.Average(a => a.Workload!.Value), workload.MeanRating, 9);
        var rota = attributes.Drivers.Single(d => d.QuestionId == "enps-rota");
        Assert.Equal(Pearson(rated.Select(a => ((double)a.Rota!.Value, (double)a.Rating)).ToList()), rota.Correlation, 9);
        Assert.True(rota.RelativeWeightPercent < 20, $"rota {rota.RelativeWeightPercent:0}%");

        var words = await _analyst.GetKeyDriversAsync(new GetKeyDriversRequest
        {
            Scope = employees,
            Outcome = Outcome.NpsRating,
            DriverKind = DriverKind.ThemePresence,
            Window = new Window { LastDays = 90 },
        });
        var staffing = words.Drivers.Single(d => d.ThemeKey == "short-staffing");
        Assert.Equal(rated.Count(a => a.ShortStaffed), staffing.Mentions);
        // Over every employee's eNPS answer in the window, words or none (no words: no mention).
        var answered = _answers.Where(a => a.Employee && a.At >= DateTime.UtcNow.Date.AddDays(-89)).ToList();
        Assert.Equal(answered.Count, words.N);
        Assert.Equal(Pearson(answered.Select(a => (a.ShortStaffed ? 1.0 : 0.0, (double)a.Rating)).ToList()), staffing.Correlation, 9);
        Assert.True(staffing.Significant && staffing.Correlation < -0.5, $"short staffing r {staffing.Correlation:0.00}");
    }

    [Fact]
    public async Task A_unit_is_a_scope_of_its_own_for_every_score()
    {
        var team = $"s{_run}-2-t0";
        var score = await _analyst.GetScoreAsync(new GetScoreRequest
        {
            Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Unit, Value = team } } },
            Metric = Metric.Nps,
            Window = new Window { LastDays = 90 },
        });
        Assert.Equal(Nps(Within(team, false)), score.Score.Value, 9);
        await RpcAssert.InvalidArgumentAsync(() => _analyst.GetScoreAsync(new GetScoreRequest
        {
            Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Unit, Value = team }, new Dimension { Kind = DimensionKind.Journey, Value = "x" } } },
            Metric = Metric.Nps,
        }).ResponseAsync, "scope.dimensions");
    }

    [Fact]
    public async Task Bad_requests_name_the_field_and_unknown_units_are_NOT_FOUND()
    {
        await RpcAssert.InvalidArgumentAsync(() => _analyst.CompareUnitsAsync(new CompareUnitsRequest()).ResponseAsync, "kind");
        await RpcAssert.InvalidArgumentAsync(() => _analyst.CompareUnitsAsync(new CompareUnitsRequest { Kind = UnitKind.Store, MinN = -1 }).ResponseAsync, "min_n");
        await RpcAssert.InvalidArgumentAsync(() => _analyst.CompareUnitsAsync(new CompareUnitsRequest { Kind = UnitKind.Store, ParentKey = "Bad Key" }).ResponseAsync, "parent_key");
        await RpcAssert.InvalidArgumentAsync(() => _analyst.CompareUnitsAsync(new CompareUnitsRequest { Kind = UnitKind.Store, Window = new Window { LastDays = 0 } }).ResponseAsync,
            "window.last_days");
        await RpcAssert.StatusAsync(() => _analyst.CompareUnitsAsync(new CompareUnitsRequest { Kind = UnitKind.Team, ParentKey = "no-such-store" }).ResponseAsync, StatusCode.NotFound);
        await RpcAssert.InvalidArgumentAsync(() => _analyst.GetUnitScorecardAsync(new GetUnitScorecardRequest()).ResponseAsync, "unit_key");
        await RpcAssert.StatusAsync(() => _analyst.GetUnitScorecardAsync(new GetUnitScorecardRequest { UnitKey = "no-such-unit" }).ResponseAsync, StatusCode.NotFound);
    }
}
