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
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Tests;

public sealed class ScoringFixture : IAsyncLifetime
{
    public CxMeshTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await CxMeshTestHost.StartAsync(s =>
    {
        s.Services = "scoring";
        s.Settings["Scoring:DropAlertMinN"] = "20";
        s.Settings["Scoring:ScoreChangedThrottle"] = "00:00:00.2";
    });

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>What scoring's API tests share: a client, delivery of events as the transport delivers them, and builders.</summary>
public abstract class ScoringTests(ScoringFixture fixture)
{
    protected ScoringFixture Fixture => fixture;

    protected readonly ScoringService.ScoringServiceClient _client = fixture.Host.Client<ScoringService.ScoringServiceClient>(Roles.Analyst);
    protected static readonly DateTime Today = DateTime.UtcNow.Date;

    // Not one of the hot windows (7, 30, 90 days), so read from Postgres: what was just delivered is there at once,
    // while the hot windows follow within the refresher's round.
    protected static readonly V1.Window Store = new() { LastDays = 8 };

    protected async Task DeliverAsync<TEvent>(EventTopic<TEvent> topic, string eventId, TEvent evt) where TEvent : IMessage<TEvent>, new()
    {
        var subscription = fixture.Host.Services.GetServices<EventSubscription>().Single(s => s.Service == "scoring" && s.Topic.Name == topic.Name);
        var dispatcher = fixture.Host.Services.GetRequiredService<EventDispatcher>();
        var outcome = await dispatcher.DeliverAsync(subscription, new IncomingEvent(eventId, topic.Name, topic.EventType, EventJson.Format(evt), null), default);
        Assert.NotEqual(DeliveryOutcome.DeadLettered, outcome);
    }

    protected static RatingValue Nps(int value) => new() { QuestionId = "nps", Metric = Metric.Nps, Value = value, ScaleMin = 0, ScaleMax = 10, TopBoxValues = { 9, 10 } };

    protected static FeedbackReceived Feedback(string journey, DateTime givenAt, params RatingValue[] ratings)
    {
        var evt = new FeedbackReceived
        {
            EventId = Guid.NewGuid().ToString(),
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
            FeedbackId = Guid.NewGuid().ToString(),
            Channel = Channel.Survey,
            JourneyKey = journey,
            GivenAt = Timestamp.FromDateTime(givenAt),
        };
        evt.Ratings.AddRange(ratings);
        return evt;
    }

    protected Task DeliverAsync(FeedbackReceived evt) => DeliverAsync(Topics.FeedbackReceived, evt.EventId, evt);

    protected static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..24];

    protected static Scope Journey(string journey, params Dimension[] more)
    {
        var scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Journey, Value = journey } } };
        scope.Dimensions.AddRange(more);
        return scope;
    }
}

/// <summary>
/// Score-drop alerts in a host of their own: a drop is not raised again when one nested with it was raised today
/// (even "all"), so drops raised by other tests' data in a shared database would hide these.
/// </summary>
public sealed class ScoreDropApiTests(ScoringFixture fixture) : ScoringTests(fixture), IClassFixture<ScoringFixture>
{
    /// <summary>
    /// Steady answers in another journey in both weeks, so that the drop under test is not all the feedback there is
    /// (a scope holding exactly the same answers as a broader one gives way to it).
    /// </summary>
    private Task SteadyBackgroundAsync()
    {
        var steady = Unique("steady");
        return ScoringEvents.DeliverAsync(Fixture.Host, Topics.FeedbackReceived,
            new[] { Today.AddDays(-9).AddHours(1), Today.AddHours(1) }.SelectMany(at => Enumerable.Range(0, 40).Select(_ => Feedback(steady, at, Nps(9)))).ToList(),
            e => e.EventId);
    }

    [Fact]
    public async Task A_drop_in_one_channel_of_a_journey_raises_one_alert_there_linking_the_journey()
    {
        var journey = Unique("nested");
        await SteadyBackgroundAsync();
        FeedbackReceived Via(Channel channel, DateTime at, int nps)
        {
            var evt = Feedback(journey, at, Nps(nps));
            evt.Channel = channel;
            return evt;
        }
        // Both weeks in one delivery, so one refresh sees every scope the drop shows in (journey, journey × web, web, all).
        var events = new List<FeedbackReceived>();
        for (var i = 0; i < 40; i++)
        {
            events.Add(Via(Channel.Web, Today.AddDays(-9).AddHours(1), 10));
            events.Add(Via(Channel.Review, Today.AddDays(-9).AddHours(1), 10));
            events.Add(Via(Channel.Web, Today.AddHours(1), 2));
            events.Add(Via(Channel.Review, Today.AddHours(1), 10));
        }
        // Web answers of another journey, as content in both weeks: the web channel is more than this journey's web answers.
        var other = Unique("other");
        for (var i = 0; i < 30; i++)
        {
            foreach (var at in new[] { Today.AddDays(-9).AddHours(1), Today.AddHours(1) })
            {
                var evt = Feedback(other, at, Nps(i % 2 == 0 ? 9 : 10));
                evt.Channel = Channel.Web;
                events.Add(evt);
            }
        }
        var subscription = Fixture.Host.Services.GetServices<EventSubscription>().Single(s => s.Service == "scoring" && s.Topic.Name == Topics.FeedbackReceived.Name);
        var outcomes = await Fixture.Host.Services.GetRequiredService<EventDispatcher>().DeliverManyAsync(subscription,
            events.Select(e => new IncomingEvent(e.EventId, Topics.FeedbackReceived.Name, Topics.FeedbackReceived.EventType, EventJson.Format(e), null)).ToList(), default);
        Assert.DoesNotContain(DeliveryOutcome.DeadLettered, outcomes);
        var db = Fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");
        await using var connection = await db.OpenConnectionAsync();
        var web = $"journey={journey}|channel=web";
        await Eventually.Until(() => connection.ExecuteScalarAsync<long>(
            "select count(*) from alerts where kind = 'ScoreDrop' and scope_key = @web", new { web }), n => n == 1);
        // The journey dropped significantly too, but the web channel explains it: no alert of its own.
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from alerts where kind = 'ScoreDrop' and scope_key = @scope", new { scope = $"journey={journey}" }));
        var alert = (await _client.ListAlertsAsync(new ListAlertsRequest { Kind = AlertKind.ScoreDrop, PageSize = 200 })).Alerts.Single(a => a.ScopeKey == web);
        Assert.Contains($"journey={journey}", alert.BroaderScopeKeys);
        Assert.Equal("customer", alert.Audience);
    }

    [Fact]
    public async Task A_significant_drop_raises_one_alert_for_the_scope_and_hot_scores_publish_score_changed()
    {
        var journey = Unique("drop");
        await SteadyBackgroundAsync();
        // Both weeks in one delivery, so one refresh sees every scope the drop shows in: delivered one by one, a refresh
        // between them could find "all" dropping before the journey had enough answers, and that alert would stand for it.
        await ScoringEvents.DeliverAsync(Fixture.Host, Topics.FeedbackReceived,
            Enumerable.Range(0, 30).Select(_ => Feedback(journey, Today.AddDays(-9).AddHours(1), Nps(10)))
                .Concat(Enumerable.Range(0, 30).Select(i => Feedback(journey, Today.AddHours(1), Nps(i % 3 == 0 ? 9 : 2)))).ToList(), e => e.EventId);

        var scopeKey = $"journey={journey}";
        var db = Fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");
        await using var connection = await db.OpenConnectionAsync();
        await Eventually.Until(() => connection.ExecuteScalarAsync<long>(
            "select count(*) from alerts where kind = 'ScoreDrop' and scope_key = @scopeKey", new { scopeKey }), n => n == 1);
        var drop = (await _client.ListAlertsAsync(new ListAlertsRequest { JourneyKey = "", Kind = AlertKind.ScoreDrop })).Alerts.First(a => a.ScopeKey == scopeKey);
        // Raised as soon as the drop was significant with enough responses (at least 20 here), not at the end.
        Assert.InRange(drop.N, 20, 30);
        Assert.Equal((30L, 100.0, 7), (drop.PreviousN, drop.PreviousValue, drop.WindowDays));
        Assert.True(drop.PValue < 0.01);

        await Eventually.Until(() => connection.ExecuteScalarAsync<long>(
            "select count(*) from outbox where topic = 'score.changed.v1' and payload like @key", new { key = $"%\"{scopeKey}\"%" }), n => n > 0);
        // The hot 7-day value is read from Redis once the refresher wrote it.
        var hot = await Eventually.Until(
            async () => (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Scope = Journey(journey), Window = new V1.Window { LastDays = 7 } })).Score,
            s => s.Source == "cache" && s.N == 30);
        Assert.Equal(100.0 * (10 - 20) / 30, hot.Value, 9);

        // More responses the same day: still one drop alert for this scope and window.
        for (var i = 0; i < 5; i++) await DeliverAsync(Feedback(journey, Today.AddHours(2), Nps(0)));
        await Eventually.Until(
            async () => (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Scope = Journey(journey), Window = new V1.Window { LastDays = 7 } })).Score,
            s => s.Source == "cache" && s.N == 35);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("select count(*) from alerts where kind = 'ScoreDrop' and scope_key = @scopeKey", new { scopeKey }));
    }
}

/// <summary>Scoring's RPCs over events delivered as the transport delivers them.</summary>
public sealed class ScoringApiTests(ScoringFixture fixture) : ScoringTests(fixture), IClassFixture<ScoringFixture>
{
    [Fact]
    public async Task CSAT_and_CES_are_scored_by_the_definitions_their_questions_carry()
    {
        var journey = Unique("csat");
        var csat = new[] { 5, 5, 4, 3, 1 };
        var ces = new[] { 7, 6, 2, 5 };
        foreach (var v in csat)
        {
            await DeliverAsync(Feedback(journey, Today.AddHours(1), new RatingValue { QuestionId = "csat", Metric = Metric.Csat, Value = v, ScaleMin = 1, ScaleMax = 5, HigherIsBetter = true, TopBoxValues = { 4, 5 } }));
        }
        foreach (var v in ces)
        {
            await DeliverAsync(Feedback(journey, Today.AddHours(1), new RatingValue { QuestionId = "ces", Metric = Metric.Ces, Value = v, ScaleMin = 1, ScaleMax = 7, HigherIsBetter = true, TopBoxValues = { 5, 6, 7 } }));
        }
        await DeliverAsync(Feedback(journey, Today.AddHours(1), new RatingValue { QuestionId = "ces-legacy", Metric = Metric.Ces, Value = 2, ScaleMin = 1, ScaleMax = 5, HigherIsBetter = false, TopBoxValues = { 1, 2 } }));

        var window = new V1.Window { Range = new DateRange { StartDate = $"{Today.AddDays(-1):yyyy-MM-dd}", EndDate = $"{Today:yyyy-MM-dd}" } };
        var c = (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Csat, Scope = Journey(journey), Window = window })).Score;
        Assert.Equal((5L, 60.0, 3L, "csat"), (c.N, c.Value, c.Promoters, c.QuestionId));
        Assert.Equal(3.6, c.Mean, 9);
        var e = (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Ces, Scope = Journey(journey), Window = window })).Score;
        Assert.Equal((4L, 5.0, 75.0), (e.N, e.Value, e.TopBoxShare));
        Assert.True(e.HigherIsBetter);
        var legacy = (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Ces, QuestionId = "ces-legacy", Scope = Journey(journey), Window = window })).Score;
        Assert.Equal((1L, 2.0), (legacy.N, legacy.Value));
        Assert.False(legacy.HigherIsBetter);
        var none = (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Enps, Scope = Journey(journey), Window = window })).Score;
        Assert.Equal(0, none.N);
    }

    [Fact]
    public async Task Responses_count_in_each_of_their_dimensions_and_each_pair_of_them()
    {
        var journey = Unique("pairs");
        for (var i = 0; i < 6; i++)
        {
            var evt = Feedback(journey, Today.AddHours(2), Nps(i < 4 ? 10 : 0));
            evt.Channel = i % 2 == 0 ? Channel.Web : Channel.ContactCentre;
            evt.TouchpointKey = "delivered";
            evt.Segment["plan"] = i < 3 ? "monthly" : "annual";
            await DeliverAsync(evt);
        }
        async Task<Score> Of(params Dimension[] more) =>
            (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Scope = Journey(journey, more), Window = Store })).Score;

        Assert.Equal(6, (await Of()).N);
        var monthly = await Of(new Dimension { Kind = DimensionKind.Segment, Attribute = "plan", Value = "monthly" });
        Assert.Equal((3L, 100.0), (monthly.N, monthly.Value));
        Assert.Equal(3, (await Of(new Dimension { Kind = DimensionKind.Channel, Value = "contact-centre" })).N);
        Assert.Equal(6, (await Of(new Dimension { Kind = DimensionKind.Touchpoint, Value = "delivered" })).N);
        var annual = (await _client.GetScoreAsync(new GetScoreRequest
        {
            Metric = Metric.Nps,
            Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Channel, Value = "web" }, new Dimension { Kind = DimensionKind.Segment, Attribute = "plan", Value = "annual" } } },
            Window = Store,
        })).Score;
        Assert.True(annual.N >= 1, "channel x segment is a scope of its own");
    }

    [Fact]
    public async Task Responses_are_scored_by_the_partners_their_product_lot_or_touchpoint_is_mapped_to()
    {
        var journey = Unique("partner");
        var (farm, courier) = (Unique("farm"), Unique("courier"));
        async Task MapAsync(string partner, string kind, string value)
        {
            var evt = new PartnerMappingChanged { EventId = Guid.NewGuid().ToString(), OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow), PartnerId = partner, Kind = kind, Value = value, Mapped = true };
            await DeliverAsync(Topics.PartnerMappingChanged, evt.EventId, evt);
        }
        await MapAsync(farm, "lot", $"{journey}-lot");
        await MapAsync(courier, "touchpoint", $"{journey}-delivered");
        for (var i = 0; i < 4; i++)
        {
            var evt = Feedback(journey, Today.AddHours(1), Nps(i < 3 ? 10 : 0));
            evt.LotId = $"{journey}-lot";
            if (i < 2) evt.TouchpointKey = $"{journey}-delivered";
            await DeliverAsync(evt);
        }
        async Task<Score> Of(params Dimension[] dimensions) =>
            (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Scope = new Scope { Dimensions = { dimensions } }, Window = Store })).Score;
        var byFarm = await Of(new Dimension { Kind = DimensionKind.Partner, Value = farm });
        Assert.Equal((4L, 50.0), (byFarm.N, byFarm.Value));
        Assert.Equal(2, (await Of(new Dimension { Kind = DimensionKind.Partner, Value = courier })).N);
        Assert.Equal(4, (await Of(new Dimension { Kind = DimensionKind.Partner, Value = farm }, new Dimension { Kind = DimensionKind.Journey, Value = journey })).N);
        await RpcAssert.InvalidArgumentAsync(() => _client.GetScoreAsync(new GetScoreRequest
        {
            Metric = Metric.Nps,
            Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Partner, Value = farm }, new Dimension { Kind = DimensionKind.Partner, Value = courier } } },
        }).ResponseAsync, "scope.dimensions");
    }

    [Fact]
    public async Task Feedback_without_a_journey_is_attributed_to_the_customer_s_latest_touchpoint_within_the_window_and_erasure_forgets_it()
    {
        var journey = Unique("attr");
        var customer = Unique("cust");
        var givenAt = DateTime.UtcNow.AddMinutes(-5);
        JourneyTouchpointRecorded Touchpoint(string key, DateTime at) => new()
        {
            EventId = $"journey.touchpoint.recorded/{Guid.NewGuid()}",
            OccurredAt = Timestamp.FromDateTime(at),
            TouchpointEventId = Guid.NewGuid().ToString(),
            CustomerId = customer,
            JourneyKey = journey,
            TouchpointKey = key,
        };
        foreach (var tp in new[] { Touchpoint("ordered", givenAt.AddDays(-3)), Touchpoint("delivered", givenAt.AddHours(-2)), Touchpoint("reviewed", givenAt.AddHours(1)) })
        {
            await DeliverAsync(Topics.JourneyTouchpointRecorded, tp.EventId, tp);
            await DeliverAsync(Topics.JourneyTouchpointRecorded, tp.EventId, tp); // redelivered: still one row
        }
        var unlinked = Feedback("", givenAt, Nps(3));
        unlinked.CustomerId = customer;
        await DeliverAsync(unlinked);
        var stranger = Feedback("", givenAt, Nps(10));
        stranger.CustomerId = Unique("nobody");
        await DeliverAsync(stranger);

        var score = (await _client.GetScoreAsync(new GetScoreRequest
        {
            Metric = Metric.Nps,
            Scope = Journey(journey, new Dimension { Kind = DimensionKind.Touchpoint, Value = "delivered" }),
            Window = Store,
        })).Score;
        Assert.Equal((1L, 1L), (score.N, score.Detractors));
        var alert = (await _client.ListAlertsAsync(new ListAlertsRequest { JourneyKey = journey })).Alerts.Single();
        Assert.Equal(("delivered", customer), (alert.TouchpointKey, alert.CustomerId));

        var erased = new FeedbackErased { EventId = Guid.NewGuid().ToString(), OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow), CustomerId = customer };
        await DeliverAsync(Topics.FeedbackErased, erased.EventId, erased);
        var db = Fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");
        await using var connection = await db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from touchpoint_projection where customer_id = @customer", new { customer }));
        var after = (await _client.ListAlertsAsync(new ListAlertsRequest { JourneyKey = journey })).Alerts.Single();
        Assert.Equal(("", ""), (after.CustomerId, after.RedactedVerbatim));
        // Scores are anonymous and stay.
        Assert.Equal(1, (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Scope = Journey(journey), Window = Store })).Score.N);
    }

    [Fact]
    public async Task A_trend_has_a_point_for_every_day_or_week_with_its_own_n()
    {
        var journey = Unique("trend");
        for (var d = 0; d < 10; d++)
        {
            for (var i = 0; i <= d % 3; i++) await DeliverAsync(Feedback(journey, Today.AddDays(-d).AddHours(3), Nps(d % 2 == 0 ? 10 : 0)));
        }
        var daily = (await _client.GetTrendAsync(new GetTrendRequest { Metric = Metric.Nps, Scope = Journey(journey), Window = new V1.Window { LastDays = 14 }, Granularity = Granularity.Day })).Points;
        Assert.Equal(14, daily.Count);
        Assert.Equal(Enumerable.Range(0, 14).Select(i => Today.AddDays(-13 + i).ToString("yyyy-MM-dd")), daily.Select(p => p.StartDate));
        Assert.Equal(Enumerable.Range(0, 14).Select(i => 13 - i < 10 ? (13 - i) % 3 + 1L : 0L), daily.Select(p => p.N));
        Assert.Equal(100, daily[^1].Value);
        var weekly = (await _client.GetTrendAsync(new GetTrendRequest { Metric = Metric.Nps, Scope = Journey(journey), Window = new V1.Window { LastDays = 14 }, Granularity = Granularity.Week })).Points;
        Assert.Equal(daily.Sum(p => p.N), weekly.Sum(p => p.N));
        Assert.All(weekly.Skip(1).SkipLast(1), p => Assert.Equal(DayOfWeek.Monday, DateOnly.Parse(p.StartDate).DayOfWeek));
    }

    [Fact]
    public async Task Two_scopes_compare_with_a_difference_its_interval_and_a_p_value()
    {
        var good = Unique("good");
        var poor = Unique("poor");
        for (var i = 0; i < 60; i++)
        {
            await DeliverAsync(Feedback(good, Today.AddHours(1), Nps(i % 5 == 0 ? 6 : 10)));
            await DeliverAsync(Feedback(poor, Today.AddHours(1), Nps(i % 2 == 0 ? 3 : 9)));
        }
        var week = new V1.Window { LastDays = 7 };
        var comparison = await _client.CompareScoresAsync(new CompareScoresRequest
        {
            Metric = Metric.Nps,
            A = new ScoreQuery { Scope = Journey(good), Window = week },
            B = new ScoreQuery { Scope = Journey(poor), Window = week },
        });
        Assert.Equal(60 - 0, comparison.Difference, 9);
        Assert.True(comparison.Significant);
        Assert.True(comparison.PValue < 0.001);
        // se = 100·√((1 − 0.6²)/60 + 1/60) ≈ 16.5, so the 95% margin is about 32.4.
        Assert.Equal(1.959964 * 100 * Math.Sqrt((1 - 0.36) / 60 + 1.0 / 60), comparison.DifferenceMarginOfError, 3);

        var same = await _client.CompareScoresAsync(new CompareScoresRequest
        {
            Metric = Metric.Nps,
            A = new ScoreQuery { Scope = Journey(good), Window = week },
            B = new ScoreQuery { Scope = Journey(good), Window = new V1.Window { LastDays = 8 } },
        });
        Assert.False(same.Significant);
    }

    [Fact]
    public async Task No_responses_is_no_value_one_response_has_no_margin_and_a_thin_score_says_so()
    {
        var empty = (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Scope = Journey(Unique("empty")), Window = Store })).Score;
        Assert.Equal((0L, false, false, true), (empty.N, empty.HasValue, empty.HasMargin, empty.LowConfidence));
        Assert.Equal("no responses", empty.LowConfidenceReason);

        var single = Unique("single");
        await DeliverAsync(Feedback(single, Today.AddHours(1), Nps(10)));
        var one = (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Scope = Journey(single), Window = Store })).Score;
        Assert.Equal((1L, true, false, true, 100.0), (one.N, one.HasValue, one.HasMargin, one.LowConfidence, one.Value));
        Assert.StartsWith("too few responses: 1", one.LowConfidenceReason);
        // Wilson: one promoter of one is 20.7%..100%, not 100% ± 0.
        Assert.Equal(100 / (1 + 1.96 * 1.96), one.TopBoxShareLow, 6); // n / (n + z²) for a share of 1
        Assert.Equal(100, one.TopBoxShareHigh, 6);

        // 40 responses, all promoters but four detractors: enough responses, yet the interval runs past +100.
        var extreme = Unique("extreme");
        for (var i = 0; i < 40; i++) await DeliverAsync(Feedback(extreme, Today.AddHours(1), Nps(i < 38 ? 10 : 0)));
        var high = (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Scope = Journey(extreme), Window = Store })).Score;
        Assert.True(high.Value + high.MarginOfError > 100);
        Assert.True(high.LowConfidence);
        Assert.StartsWith("the 95% interval runs past the scale", high.LowConfidenceReason);

        var plenty = Unique("plenty");
        for (var i = 0; i < 40; i++) await DeliverAsync(Feedback(plenty, Today.AddHours(1), Nps(i % 3 == 0 ? 3 : i % 3 == 1 ? 8 : 10)));
        var fine = (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Scope = Journey(plenty), Window = Store })).Score;
        Assert.Equal((true, true, false, ""), (fine.HasValue, fine.HasMargin, fine.LowConfidence, fine.LowConfidenceReason));
    }

    [Fact]
    public async Task Comparisons_without_responses_have_no_difference_without_spread_use_the_pooled_one_and_every_figure_can_be_compared()
    {
        var week = new V1.Window { LastDays = 7 };
        var (one, other, nobody) = (Unique("cmp-one"), Unique("cmp-other"), Unique("cmp-nobody"));
        await DeliverAsync(Feedback(one, Today.AddHours(1), Nps(10)));
        await DeliverAsync(Feedback(other, Today.AddHours(1), Nps(0)));
        var noSpread = await _client.CompareScoresAsync(new CompareScoresRequest
        {
            Metric = Metric.Nps,
            A = new ScoreQuery { Scope = Journey(one), Window = week },
            B = new ScoreQuery { Scope = Journey(other), Window = week },
        });
        // One answer each has no spread of its own: the test uses the pooled spread, and one answer each proves nothing.
        Assert.Equal((true, 200.0, true, false), (noSpread.HasDifference, noSpread.Difference, noSpread.HasPValue, noSpread.Significant));
        Assert.Equal(2 * (1 - 0.9213504), noSpread.PValue, 4); // z = 200 / (100·√2) = √2
        var empty = await _client.CompareScoresAsync(new CompareScoresRequest
        {
            Metric = Metric.Nps,
            A = new ScoreQuery { Scope = Journey(one), Window = week },
            B = new ScoreQuery { Scope = Journey(nobody), Window = week },
        });
        Assert.Equal((false, false, false), (empty.HasDifference, empty.HasPValue, empty.Significant));

        // The mean and the promoters' share of two groups that differ in both.
        var (better, worse) = (Unique("cmp-better"), Unique("cmp-worse"));
        for (var i = 0; i < 50; i++)
        {
            await DeliverAsync(Feedback(better, Today.AddHours(1), Nps(i % 2 == 0 ? 10 : 8)));
            await DeliverAsync(Feedback(worse, Today.AddHours(1), Nps(i % 5 == 0 ? 9 : 5)));
        }
        foreach (var (figure, expected) in new[] { (Figure.Mean, 9.0 - (0.2 * 9 + 0.8 * 5)), (Figure.TopBoxShare, 50.0 - 20.0), (Figure.Nps, 50.0 - (20.0 - 80.0)), (Figure.Unspecified, 110.0) })
        {
            var compared = await _client.CompareScoresAsync(new CompareScoresRequest
            {
                Metric = Metric.Nps,
                Figure = figure,
                A = new ScoreQuery { Scope = Journey(better), Window = week },
                B = new ScoreQuery { Scope = Journey(worse), Window = week },
            });
            Assert.Equal(expected, compared.Difference, 9);
            Assert.True(compared.HasPValue && compared.Significant, $"{figure}: p = {compared.PValue}");
            Assert.Equal(figure == Figure.Unspecified ? Figure.Nps : figure, compared.Figure);
        }
    }

    [Fact]
    public async Task Ranking_the_touchpoints_of_a_journey_flags_the_one_significantly_below_the_rest()
    {
        var journey = Unique("rank");
        foreach (var (touchpoint, ratings) in new[] { ("ordered", 10), ("roasted", 9), ("delivered", 2) })
        {
            for (var i = 0; i < 40; i++)
            {
                var evt = Feedback(journey, Today.AddHours(1), Nps(i % 4 == 0 ? 8 : ratings));
                evt.TouchpointKey = touchpoint;
                await DeliverAsync(evt);
            }
        }
        var ranked = await _client.RankScopesAsync(new RankScopesRequest
        {
            Parent = Journey(journey),
            Dimension = DimensionKind.Touchpoint,
            Metric = Metric.Nps,
            Window = new V1.Window { LastDays = 7 },
        });
        Assert.Equal(120, ranked.Parent.N);
        Assert.Equal(["ordered", "roasted", "delivered"], ranked.Ranked.Select(r => r.Scope.Dimensions.Single(d => d.Kind == DimensionKind.Touchpoint).Value));
        Assert.True(ranked.Ranked[^1].SignificantlyBelow);
        Assert.False(ranked.Ranked[0].SignificantlyBelow);
        Assert.Equal(journey, ranked.Ranked[0].Scope.Dimensions.Single(d => d.Kind == DimensionKind.Journey).Value);
    }

    [Fact]
    public async Task Key_drivers_come_from_the_themes_of_the_scope_s_responses()
    {
        var journey = Unique("drivers");
        var random = new Random(17);
        for (var i = 0; i < 300; i++)
        {
            var delivery = random.Next(0, 3) == 0 ? random.Next(-100, 101) / 100.0 : 0;
            var taste = random.Next(0, 3) == 0 ? random.Next(-100, 101) / 100.0 : 0;
            var rating = Math.Clamp((int)Math.Round(7 + 3 * delivery + 0.3 * taste + random.Next(-1, 2)), 0, 10);
            var evt = Feedback(journey, Today.AddHours(1).AddDays(-random.Next(0, 5)), Nps(rating));
            if (delivery != 0) evt.Themes.Add(new ThemeMention { ThemeKey = "delivery", SentimentScore = delivery });
            if (taste != 0) evt.Themes.Add(new ThemeMention { ThemeKey = "taste", SentimentScore = taste });
            await DeliverAsync(evt);
        }
        var drivers = await _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = Journey(journey), Outcome = Outcome.NpsRating, Window = new V1.Window { LastDays = 30 } });
        Assert.Equal(300, drivers.N);
        Assert.Equal("delivery", drivers.Drivers[0].ThemeKey);
        Assert.True(drivers.Drivers[0].Significant);
        Assert.True(drivers.ShapleyComputed);
        Assert.Equal(drivers.RSquared, drivers.Drivers.Sum(d => d.RelativeWeight), 9);
        Assert.Equal(100, drivers.Drivers.Sum(d => d.RelativeWeightPercent), 6);

        var detractors = await _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = Journey(journey), Outcome = Outcome.Detractor, Window = new V1.Window { LastDays = 30 } });
        Assert.Equal("delivery", detractors.Drivers[0].ThemeKey);
        Assert.True(detractors.Drivers[0].Correlation < 0, "a better delivery sentiment makes a detractor less likely");

        var empty = await _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = Journey(Unique("silent")), Outcome = Outcome.NpsRating });
        Assert.Equal(0, empty.N);
        Assert.NotEmpty(empty.Note);
    }

    [Fact]
    public async Task A_detractor_raises_one_alert_however_often_the_event_is_delivered_and_a_bitter_complaint_raises_one_too()
    {
        var journey = Unique("alert");
        var detractor = Feedback(journey, Today.AddHours(1), Nps(2));
        detractor.CustomerId = "cust-alert-1";
        detractor.RedactedVerbatim = "Coffee arrived cold, call me on [phone]";
        await DeliverAsync(detractor);
        await DeliverAsync(detractor);
        var complaint = Feedback(journey, Today.AddHours(1));
        complaint.Channel = Channel.Complaint;
        complaint.RedactedVerbatim = "Terrible, rude and broken";
        complaint.SentimentScore = -0.8;
        await DeliverAsync(complaint);
        await DeliverAsync(Feedback(journey, Today.AddHours(1), Nps(9)));

        var alerts = (await _client.ListAlertsAsync(new ListAlertsRequest { JourneyKey = journey })).Alerts;
        Assert.Equal(2, alerts.Count);
        var d = alerts.Single(a => a.Kind == AlertKind.Detractor);
        Assert.Equal((detractor.FeedbackId, "cust-alert-1", 2, "Coffee arrived cold, call me on [phone]"), (d.FeedbackId, d.CustomerId, d.Rating, d.RedactedVerbatim));
        Assert.Equal(complaint.FeedbackId, alerts.Single(a => a.Kind == AlertKind.NegativeComplaint).FeedbackId);

        var db = Fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");
        await using var connection = await db.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>(
            "select count(*) from outbox where topic = 'alert.raised.v1' and payload like @id", new { id = $"%{detractor.FeedbackId}%" }));

        var page = await _client.ListAlertsAsync(new ListAlertsRequest { JourneyKey = journey, PageSize = 1 });
        var next = await _client.ListAlertsAsync(new ListAlertsRequest { JourneyKey = journey, PageSize = 1, PageToken = page.NextPageToken });
        Assert.NotEqual(page.Alerts[0].Id, next.Alerts[0].Id);
        Assert.Equal("", next.NextPageToken);
    }

    public static TheoryData<string, string> BadRequests => new()
    {
        { "rank by the parent's dimension", "dimension" },
        { "rank without a dimension", "dimension" },
        { "drivers of a pair", "scope.dimensions" },
        { "drivers without an outcome", "outcome" },
        { "attribute drivers of the text's sentiment", "driver_kind" },
        { "drivers of an unknown kind", "driver_kind" },
        { "compare without a", "a" },
        { "compare a scope with itself", "b" },
        { "compare at alpha 0.7", "alpha" },
        { "trend with an unknown granularity", "granularity" },
        { "alerts with a forged page token", "page_token" },
        { "alerts with page size 500", "page_size" },
        { "compare the NPS of a CSAT question", "figure" },
        { "compare an unknown figure", "figure" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_to_every_RPC_is_INVALID_ARGUMENT_naming_the_field(string how, string field)
    {
        var journey = Journey("coffee");
        var week = new V1.Window { LastDays = 7 };
        Func<Task> call = how switch
        {
            "rank by the parent's dimension" => () => _client.RankScopesAsync(new RankScopesRequest { Parent = journey, Dimension = DimensionKind.Journey, Metric = Metric.Nps }).ResponseAsync,
            "rank without a dimension" => () => _client.RankScopesAsync(new RankScopesRequest { Parent = journey, Metric = Metric.Nps }).ResponseAsync,
            "drivers of a pair" => () => _client.GetKeyDriversAsync(new GetKeyDriversRequest
            {
                Scope = Journey("coffee", new Dimension { Kind = DimensionKind.Channel, Value = "web" }),
                Outcome = Outcome.NpsRating,
            }).ResponseAsync,
            "drivers without an outcome" => () => _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = journey }).ResponseAsync,
            "attribute drivers of the text's sentiment" => () => _client.GetKeyDriversAsync(new GetKeyDriversRequest
            {
                Scope = journey,
                Outcome = Outcome.Sentiment,
                DriverKind = DriverKind.AttributeRating,
            }).ResponseAsync,
            "drivers of an unknown kind" => () => _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = journey, Outcome = Outcome.NpsRating, DriverKind = (DriverKind)9 }).ResponseAsync,
            "compare without a" => () => _client.CompareScoresAsync(new CompareScoresRequest { Metric = Metric.Nps, B = new ScoreQuery { Scope = journey } }).ResponseAsync,
            "compare a scope with itself" => () => _client.CompareScoresAsync(new CompareScoresRequest
            {
                Metric = Metric.Nps,
                A = new ScoreQuery { Scope = journey, Window = week },
                B = new ScoreQuery { Scope = journey, Window = week },
            }).ResponseAsync,
            "compare the NPS of a CSAT question" => () => _client.CompareScoresAsync(new CompareScoresRequest
            {
                Metric = Metric.Csat,
                Figure = Figure.Nps,
                A = new ScoreQuery { Scope = journey, Window = week },
                B = new ScoreQuery { Window = week },
            }).ResponseAsync,
            "compare an unknown figure" => () => _client.CompareScoresAsync(new CompareScoresRequest
            {
                Metric = Metric.Nps,
                Figure = (Figure)9,
                A = new ScoreQuery { Scope = journey, Window = week },
                B = new ScoreQuery { Window = week },
            }).ResponseAsync,
            "compare at alpha 0.7" => () => _client.CompareScoresAsync(new CompareScoresRequest
            {
                Metric = Metric.Nps,
                Alpha = 0.7,
                A = new ScoreQuery { Scope = journey, Window = week },
                B = new ScoreQuery { Window = week },
            }).ResponseAsync,
            "trend with an unknown granularity" => () => _client.GetTrendAsync(new GetTrendRequest { Metric = Metric.Nps, Granularity = (Granularity)9 }).ResponseAsync,
            "alerts with a forged page token" => () => _client.ListAlertsAsync(new ListAlertsRequest { PageToken = "bm90LW91cnM" }).ResponseAsync,
            "alerts with page size 500" => () => _client.ListAlertsAsync(new ListAlertsRequest { PageSize = 500 }).ResponseAsync,
            _ => throw new ArgumentOutOfRangeException(nameof(how)),
        };
        await RpcAssert.InvalidArgumentAsync(call, field);
    }

    private static FeedbackReceived Voice(string journey, DateTime givenAt, Channel channel, double sentiment, params (string Theme, double Sentiment)[] themes)
    {
        var evt = Feedback(journey, givenAt);
        evt.Channel = channel;
        evt.RedactedVerbatim = "what the customer wrote, redacted";
        evt.SentimentScore = sentiment;
        evt.Themes.AddRange(themes.Select(t => new ThemeMention { ThemeKey = t.Theme, SentimentScore = t.Sentiment }));
        return evt;
    }

    [Fact]
    public async Task Employees_and_customers_never_mix_and_language_and_audience_are_scopes_of_their_own()
    {
        var (store, journey) = (Unique("store"), Unique("aud"));
        var employee = Voice(journey, Today.AddHours(1), Channel.Survey, -0.6, ("staff-friendliness", -0.6));
        (employee.Audience, employee.StoreId, employee.Language) = ("employee", store, "en");
        employee.Ratings.Add(new RatingValue { QuestionId = "enps", Metric = Metric.Enps, Value = 2, ScaleMin = 0, ScaleMax = 10, TopBoxValues = { 9, 10 } });
        await DeliverAsync(employee);
        var customer = Voice(journey, Today.AddHours(1), Channel.Survey, 0.5, ("taste", 0.5));
        (customer.StoreId, customer.Language) = (store, "zh");
        customer.Ratings.Add(Nps(9));
        await DeliverAsync(customer);
        // A customer's eNPS, from a publisher before feedback refused such ratings: not scored.
        var stray = Feedback(journey, Today.AddHours(1), new RatingValue { QuestionId = "enps", Metric = Metric.Enps, Value = 10, ScaleMin = 0, ScaleMax = 10, TopBoxValues = { 9, 10 } });
        stray.StoreId = store;
        await DeliverAsync(stray);

        Scope Of(DimensionKind kind, string value) => new() { Dimensions = { new Dimension { Kind = kind, Value = value } } };
        var atStore = Of(DimensionKind.Store, store);
        var enps = (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Enps, Scope = atStore, Window = Store })).Score;
        Assert.Equal((1L, -100.0), (enps.N, enps.Value));
        Assert.Equal(1, (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Scope = atStore, Window = Store })).Score.N);
        // The store's voice is its customers': the employee's words are not in it, nor in all.
        var voice = await _client.GetVoiceTrendAsync(new GetVoiceTrendRequest { Scope = atStore, Window = Store });
        Assert.Equal(1, voice.Total.Items);
        Assert.Equal(["taste"], voice.Total.Themes.Select(t => t.ThemeKey));
        var all = await _client.GetVoiceTrendAsync(new GetVoiceTrendRequest { Window = Store });
        Assert.DoesNotContain(all.Total.Themes, t => t.ThemeKey == "staff-friendliness");
        var staff = await _client.GetVoiceTrendAsync(new GetVoiceTrendRequest { Scope = Of(DimensionKind.Audience, "employee"), Window = Store });
        Assert.Contains(staff.Total.Themes, t => t.ThemeKey == "staff-friendliness");
        var chinese = await _client.GetVoiceTrendAsync(new GetVoiceTrendRequest { Scope = Of(DimensionKind.Language, "zh"), Window = Store });
        Assert.Contains(chinese.Total.Themes, t => t.ThemeKey == "taste");

        // The employee's detractor alert says whose voice it is, so governance routes it to the people team.
        await using var connection = new Npgsql.NpgsqlConnection(Fixture.Host.Settings.Databases["scoring"]);
        var payload = await Dapper.SqlMapper.ExecuteScalarAsync<string>(connection,
            "select payload from outbox where topic = 'alert.raised.v1' and payload like @id", new { id = $"%{employee.FeedbackId}%" });
        Assert.Equal("employee", EventJson.Parse<AlertRaised>(payload!).Audience);

        await RpcAssert.InvalidArgumentAsync(() => _client.GetScoreAsync(new GetScoreRequest
        {
            Metric = Metric.Nps,
            Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Language, Value = "zh" }, new Dimension { Kind = DimensionKind.Journey, Value = journey } } },
        }).ResponseAsync, "scope.dimensions");
    }

    [Fact]
    public async Task A_complaint_without_a_rating_counts_in_the_voice_and_raises_an_alert_but_never_in_a_metric()
    {
        var journey = Unique("unrated");
        await DeliverAsync(Voice(journey, Today.AddHours(-1), Channel.Complaint, -0.8, ("delivery", -0.9), ("packaging", -0.4)));
        await DeliverAsync(Voice(journey, Today.AddHours(-2), Channel.Review, 0.6, ("taste", 0.7)));
        await DeliverAsync(Feedback(journey, Today.AddHours(-3), Nps(10)));

        var score = await _client.GetScoreAsync(new GetScoreRequest { Scope = Journey(journey), Metric = Metric.Nps, Window = Store });
        Assert.Equal(1, score.Score.N);

        var voice = await _client.GetVoiceTrendAsync(new GetVoiceTrendRequest { Scope = Journey(journey), Window = Store });
        Assert.Equal(8, voice.Points.Count);
        Assert.Equal(2, voice.Total.Items);
        Assert.Equal((0.6 - 0.8) / 2, voice.Total.MeanSentiment, 9);
        Assert.Equal(50, voice.Total.NegativePercent, 9);
        Assert.Equal(["delivery", "packaging", "taste"], voice.Total.Themes.Select(t => t.ThemeKey));
        var delivery = voice.Total.Themes[0];
        Assert.Equal((1L, 1L, -0.9, 50.0), (delivery.Mentions, delivery.NegativeMentions, delivery.MeanSentiment, delivery.SharePercent));
        Assert.Equal(2, Assert.Single(voice.Points, p => p.Items > 0).Items);

        var only = await _client.GetVoiceTrendAsync(new GetVoiceTrendRequest { Scope = Journey(journey), Window = Store, ThemeKeys = { "taste" } });
        Assert.Equal(["taste"], only.Total.Themes.Select(t => t.ThemeKey));

        var alert = Assert.Single((await _client.ListAlertsAsync(new ListAlertsRequest { JourneyKey = journey })).Alerts);
        Assert.Equal((CxMesh.Events.V1.AlertKind.NegativeComplaint, Metric.Unspecified), (alert.Kind, alert.Metric));
    }

    [Fact]
    public async Task A_bitter_voice_with_no_rating_raises_an_alert_whatever_its_channel_and_a_mild_one_does_not()
    {
        var journey = Unique("bitter");
        await DeliverAsync(Voice(journey, Today.AddHours(-1), Channel.Review, -0.9, ("delivery", -0.9)));
        await DeliverAsync(Voice(journey, Today.AddHours(-1), Channel.Social, -0.2, ("delivery", -0.2)));
        var alert = Assert.Single((await _client.ListAlertsAsync(new ListAlertsRequest { JourneyKey = journey })).Alerts);
        Assert.Equal(Channel.Review, alert.Channel);
    }

    [Fact]
    public async Task History_is_scored_on_the_day_it_was_given_raises_no_alert_and_reads_back_by_month()
    {
        var journey = Unique("history");
        var threeYearsAgo = Today.AddYears(-3).AddDays(-10);
        await DeliverAsync(Feedback(journey, threeYearsAgo.AddHours(9), Nps(2)));
        await DeliverAsync(Feedback(journey, threeYearsAgo.AddHours(10), Nps(10)));
        await DeliverAsync(Voice(journey, threeYearsAgo.AddHours(11), Channel.Complaint, -0.95, ("delivery", -0.95)));

        Assert.Empty((await _client.ListAlertsAsync(new ListAlertsRequest { JourneyKey = journey })).Alerts);

        var fourYears = new V1.Window { LastDays = 4 * 366 };
        var trend = await _client.GetTrendAsync(new GetTrendRequest { Scope = Journey(journey), Metric = Metric.Nps, Window = fourYears, Granularity = Granularity.Month });
        Assert.InRange(trend.Points.Count, 48, 50);
        var month = Assert.Single(trend.Points, p => p.N > 0);
        Assert.Equal((2L, 0.0), (month.N, month.Value));
        Assert.True(DateOnly.Parse(month.StartDate) <= DateOnly.FromDateTime(threeYearsAgo) && DateOnly.FromDateTime(threeYearsAgo) <= DateOnly.Parse(month.EndDate));

        var voice = await _client.GetVoiceTrendAsync(new GetVoiceTrendRequest { Scope = Journey(journey), Window = fourYears, Granularity = Granularity.Week });
        Assert.Equal(1, Assert.Single(voice.Points, p => p.Items > 0).Items);

        // A decade of days is too many points: the error says which field and what to do.
        await RpcAssert.InvalidArgumentAsync(() => _client.GetTrendAsync(new GetTrendRequest { Scope = Journey(journey), Metric = Metric.Nps, Window = fourYears }).ResponseAsync, "granularity");
        await RpcAssert.InvalidArgumentAsync(() => _client.GetVoiceTrendAsync(new GetVoiceTrendRequest { Window = fourYears, Granularity = (Granularity)9 }).ResponseAsync, "granularity");
        await RpcAssert.InvalidArgumentAsync(() => _client.GetVoiceTrendAsync(new GetVoiceTrendRequest { ThemeKeys = { "Not A Key" } }).ResponseAsync, "theme_keys[0]");
    }

    [Fact]
    public async Task Text_drivers_explain_the_sentiment_of_voices_with_and_without_ratings()
    {
        var journey = Unique("textdrv");
        var random = new Random(7);
        for (var i = 0; i < 120; i++)
        {
            // Delivery drives how customers sound; packaging is noise.
            var delivery = random.Next(-100, 101) / 100.0;
            var packaging = random.Next(-100, 101) / 100.0;
            var sentiment = Math.Clamp(0.8 * delivery + 0.05 * packaging + random.Next(-10, 11) / 100.0, -1, 1);
            var voice = Voice(journey, Today.AddHours(-1 - i % 20), i % 3 == 0 ? Channel.Survey : Channel.Complaint, sentiment, ("delivery", delivery), ("packaging", packaging));
            if (i % 3 == 0) voice.Ratings.Add(Nps(random.Next(0, 11)));
            await DeliverAsync(voice);
        }
        var drivers = await _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = Journey(journey), Outcome = Outcome.Sentiment, Window = Store });
        Assert.Equal(120, drivers.N);
        Assert.Equal("delivery", drivers.Drivers[0].ThemeKey);
        Assert.True(drivers.Drivers[0].Significant);
        Assert.True(drivers.RSquared > 0.8, $"R² {drivers.RSquared}");

        // The rated third alone is the NPS population, with its own sums.
        var nps = await _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = Journey(journey), Outcome = Outcome.NpsRating, Window = Store });
        Assert.Equal(40, nps.N);
    }

    private static RatingValue Attribute(string question, int value, string driverOf = "nps") =>
        new() { QuestionId = question, Metric = Metric.Custom, Value = value, ScaleMin = 1, ScaleMax = 5, HigherIsBetter = true, TopBoxValues = { 4, 5 }, DriverOf = driverOf };

    [Fact]
    public async Task Key_drivers_by_attribute_ratings_by_theme_presence_and_of_the_promoter_outcome_in_any_scope_including_language()
    {
        var (journey, language) = (Unique("kinds"), "x-" + Guid.NewGuid().ToString("N")[..8]);
        var random = new Random(29);
        var said = new List<(double Rating, double Packaging)>();
        for (var i = 0; i < 240; i++)
        {
            int speed = random.Next(1, 6), staff = random.Next(1, 6), price = random.Next(1, 6);
            var rating = Math.Clamp(2 * speed - 1 + (staff >= 4 ? 1 : 0) + random.Next(-1, 2), 0, 10);
            var evt = Voice(journey, Today.AddHours(1).AddDays(-random.Next(0, 5)), Channel.Survey, 0, []);
            evt.Language = language;
            evt.Ratings.Add(Nps(rating));
            // Every response rates the speed; a fifth skips the staff; price is registered against CSAT, which no one rated.
            evt.Ratings.Add(Attribute("delivery-speed", speed));
            if (i % 5 != 0) evt.Ratings.Add(Attribute("staff-manner", staff));
            evt.Ratings.Add(Attribute("price-fairness", price, driverOf: "csat"));
            // Customers who bring up the packaging at all are the unhappy ones, whatever they say about it.
            var packaging = rating <= 6 && i % 2 == 0 || i % 7 == 0;
            if (packaging) evt.Themes.Add(new ThemeMention { ThemeKey = "packaging", SentimentScore = 0.1 });
            said.Add((rating, packaging ? 1 : 0));
            if (i % 3 == 0) evt.Themes.Add(new ThemeMention { ThemeKey = "taste", SentimentScore = 0.2 });
            await DeliverAsync(evt);
        }
        var window = new V1.Window { LastDays = 30 };

        var attributes = await _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = Journey(journey), Outcome = Outcome.NpsRating, Window = window, DriverKind = DriverKind.AttributeRating });
        Assert.Equal(DriverKind.AttributeRating, attributes.DriverKind);
        Assert.Equal(["delivery-speed", "staff-manner"], attributes.Drivers.Select(d => d.QuestionId));
        Assert.All(attributes.Drivers, d => Assert.Equal("", d.ThemeKey));
        Assert.True(attributes.Drivers[0].Significant);
        Assert.True(attributes.Drivers[0].HasMeanRating);
        Assert.InRange(attributes.Drivers[0].MeanRating, 1, 5);
        Assert.Equal(240, attributes.Drivers[0].Mentions);
        Assert.Equal(192, attributes.Drivers[1].Mentions);
        Assert.Equal(192, attributes.N);

        var promoters = await _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = Journey(journey), Outcome = Outcome.Promoter, Window = window, DriverKind = DriverKind.AttributeRating });
        Assert.Equal("delivery-speed", promoters.Drivers[0].QuestionId);
        Assert.True(promoters.Drivers[0].Correlation > 0, "a faster delivery makes a promoter more likely");

        // Packaging mentions carry a mildly positive sentiment, so as sentiment they explain little; their presence explains much.
        var presence = await _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = Journey(journey), Outcome = Outcome.NpsRating, Window = window, DriverKind = DriverKind.ThemePresence });
        Assert.Equal(DriverKind.ThemePresence, presence.DriverKind);
        var packagingDriver = presence.Drivers.Single(d => d.ThemeKey == "packaging");
        double meanR = said.Average(s => s.Rating), meanP = said.Average(s => s.Packaging);
        var r = said.Sum(s => (s.Rating - meanR) * (s.Packaging - meanP))
            / Math.Sqrt(said.Sum(s => (s.Rating - meanR) * (s.Rating - meanR)) * said.Sum(s => (s.Packaging - meanP) * (s.Packaging - meanP)));
        Assert.Equal(r, packagingDriver.Correlation, 9);
        Assert.True(packagingDriver.Correlation < -0.2 && packagingDriver.Significant, $"presence correlation {packagingDriver.Correlation}");
        var detractors = await _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = Journey(journey), Outcome = Outcome.Detractor, Window = window, DriverKind = DriverKind.ThemePresence });
        Assert.True(detractors.Drivers.Single(d => d.ThemeKey == "packaging").Correlation > 0.2);
        var sentiment = await _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = Journey(journey), Outcome = Outcome.NpsRating, Window = window });
        Assert.Equal(DriverKind.ThemeSentiment, sentiment.DriverKind);

        // The same model in the language's scope (the scope's responses are this test's alone).
        var inLanguage = await _client.GetKeyDriversAsync(new GetKeyDriversRequest
        {
            Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Language, Value = language } } },
            Outcome = Outcome.NpsRating,
            Window = window,
            DriverKind = DriverKind.AttributeRating,
        });
        Assert.Equal(attributes.N, inLanguage.N);
        Assert.Equal(attributes.RSquared, inLanguage.RSquared, 9);
    }

    [Fact]
    public async Task CSAT_only_responses_do_not_enter_the_NPS_model_through_the_themes_they_mention_together()
    {
        var (alone, mixed) = (Unique("nps-only"), Unique("nps-csat"));
        var random = new Random(31);
        for (var i = 0; i < 200; i++)
        {
            var delivery = random.Next(-100, 101) / 100.0;
            var taste = i % 2 == 0 ? random.Next(-100, 101) / 100.0 : 0;
            var rating = Math.Clamp((int)Math.Round(6 + 3 * delivery + taste + random.Next(-1, 2)), 0, 10);
            foreach (var journey in new[] { alone, mixed })
            {
                var evt = Voice(journey, Today.AddHours(1), Channel.Survey, 0, ("delivery", delivery));
                if (taste != 0) evt.Themes.Add(new ThemeMention { ThemeKey = "taste", SentimentScore = taste });
                evt.Ratings.Add(Nps(rating));
                await DeliverAsync(evt);
            }
            // The other journey also hears from CSAT-only responses that speak of both themes.
            var csatOnly = Voice(mixed, Today.AddHours(1), Channel.Survey, 0, ("delivery", -0.9), ("taste", 0.9));
            csatOnly.Ratings.Add(new RatingValue { QuestionId = "csat", Metric = Metric.Csat, Value = 3, ScaleMin = 1, ScaleMax = 5, HigherIsBetter = true, TopBoxValues = { 4, 5 } });
            await DeliverAsync(csatOnly);
        }
        async Task<GetKeyDriversResponse> NpsModel(string journey) =>
            await _client.GetKeyDriversAsync(new GetKeyDriversRequest { Scope = Journey(journey), Outcome = Outcome.NpsRating, Window = Store });
        var (a, b) = (await NpsModel(alone), await NpsModel(mixed));
        Assert.Equal(200, b.N);
        Assert.Equal(a.RSquared, b.RSquared, 9);
        foreach (var d in a.Drivers) Assert.Equal(d.Beta, b.Drivers.Single(x => x.ThemeKey == d.ThemeKey).Beta, 9);
    }
}
