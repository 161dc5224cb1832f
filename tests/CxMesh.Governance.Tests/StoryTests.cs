using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Governance.V1;
using CxMesh.Journey.V1;
using CxMesh.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using static CxMesh.Governance.Tests.GovernanceTestKit;
using ScoringApi = CxMesh.Scoring.V1;

namespace CxMesh.Governance.Tests;

/// <summary>Case studies built from real feedback and journeys over gRPC, erasure, and sprint progress read from scoring.</summary>
public sealed class StoryTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly GovernanceService.GovernanceServiceClient _admin = fixture.Host.Client<GovernanceService.GovernanceServiceClient>();
    private readonly FeedbackService.FeedbackServiceClient _feedback = fixture.Host.Client<FeedbackService.FeedbackServiceClient>();

    private async Task<string> JourneyAsync()
    {
        var key = Unique("coffee");
        var definition = new JourneyDefinition { Key = key, Name = "Coffee", InactivityTimeout = Duration.FromTimeSpan(TimeSpan.FromDays(7)) };
        definition.Stages.Add(new Stage { Key = "order", Name = "Order", Touchpoints = { new TouchpointDefinition { Key = "order-placed", Name = "Order placed", Channel = TouchpointChannel.Web, StartsJourney = true } } });
        definition.Stages.Add(new Stage { Key = "deliver", Name = "Deliver", Touchpoints = { new TouchpointDefinition { Key = "delivered", Name = "Delivered", Channel = TouchpointChannel.Partner, EndsJourney = true } } });
        await fixture.Host.Client<JourneyService.JourneyServiceClient>().CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = definition });
        return key;
    }

    [Fact]
    public async Task A_case_study_starts_from_a_review_with_its_redacted_words_ratings_and_the_customers_journey()
    {
        var journey = await JourneyAsync();
        var customer = Unique("customer");
        var journeys = fixture.Host.Client<JourneyService.JourneyServiceClient>();
        var start = DateTime.UtcNow.AddDays(-3);
        foreach (var (touchpoint, at) in new[] { ("order-placed", start), ("delivered", start.AddDays(2)) })
        {
            await journeys.RecordTouchpointAsync(new RecordTouchpointRequest
            {
                Touchpoint = new TouchpointEvent { IdempotencyKey = Unique("tp-key"), CustomerId = customer, JourneyKey = journey, TouchpointKey = touchpoint, OccurredAt = Timestamp.FromDateTime(at) },
            });
        }
        // The journey service projects touchpoints into instances in the background: wait for both.
        await Eventually.Until(async () => (await journeys.GetCustomerJourneysAsync(new GetCustomerJourneysRequest { CustomerId = customer, JourneyKey = journey }))
            .Instances.Sum(i => i.Timeline.Count), n => n == 2, because: "both touchpoints are projected");
        var item = (await _feedback.SubmitFeedbackAsync(new SubmitFeedbackRequest
        {
            IdempotencyKey = Unique("review"),
            Channel = Channel.Review,
            JourneyKey = journey,
            CustomerId = customer,
            Ratings = { new Rating { QuestionId = "nps", Value = 3 } },
            Verbatim = "Delivery was two days late and the beans were stale. Write to ann@example.com",
            Links = new Links { TouchpointKey = "delivered" },
            GivenAt = Timestamp.FromDateTime(DateTime.UtcNow.AddHours(-1)),
        })).Item;

        // The journey's owner writes it up (a journey-owner acts on their own journeys only).
        var admin = fixture.Host.Client<GovernanceService.GovernanceServiceClient>();
        var people = await PeopleAsync(admin);
        await admin.AssignJourneyOwnersAsync(new AssignJourneyOwnersRequest { JourneyKey = journey, SponsorId = people.Sponsor, OwnerId = people.Owner });
        var owner = fixture.Host.ClientWithToken<GovernanceService.GovernanceServiceClient>(fixture.Host.Token(CxMesh.Platform.Auth.Roles.JourneyOwner, subject: people.Owner));
        var study = (await owner.CreateCaseStudyFromFeedbackAsync(new CreateCaseStudyFromFeedbackRequest { FeedbackId = item.Id })).CaseStudy;
        Assert.Equal(journey, study.JourneyKey);
        Assert.Contains("[email]", study.RedactedVerbatim);
        Assert.DoesNotContain("ann@example.com", study.RedactedVerbatim);
        Assert.Equal(("nps", 3, Metric.Nps), (study.Ratings[0].QuestionId, study.Ratings[0].Value, study.Ratings[0].Metric));
        Assert.Equal(["order-placed", "delivered"], study.Timeline.Select(t => t.TouchpointKey));
        Assert.Contains("delivery", study.ThemeKeys);
        Assert.Contains("freshness", study.ThemeKeys);
        Assert.Contains("delivered", study.TouchpointKeys);
        Assert.NotEmpty(study.CustomerPainPoints);

        study.Lessons.Add("Tell customers about delays first.");
        study.PerfectJourney = "Roasted Monday, delivered Tuesday, told the window.";
        study.BusinessPainPoints.Add("We learn about delays from complaints.");
        var updated = (await owner.UpdateCaseStudyAsync(new UpdateCaseStudyRequest { CaseStudy = study })).CaseStudy;
        Assert.Equal("Tell customers about delays first.", Assert.Single(updated.Lessons));
        Assert.Equal(study.RedactedVerbatim, updated.RedactedVerbatim); // what came from feedback stays
        var step = (await owner.CreateActionAsync(new CreateActionRequest { Action = new Governance.V1.Action { Title = "Delay texts", CaseStudyId = study.Id, JourneyKey = journey } })).Action;
        Assert.Equal(("case-study", people.Owner), (step.Source, step.OwnerId)); // the journey's owner
        Assert.Equal([step.Id], (await _admin.GetCaseStudyAsync(new GetCaseStudyRequest { CaseStudyId = study.Id })).CaseStudy.NextStepActionIds);

        Assert.Single((await _admin.ListCaseStudiesAsync(new ListCaseStudiesRequest { JourneyKey = journey })).CaseStudies);
        Assert.Single((await _admin.ListCaseStudiesAsync(new ListCaseStudiesRequest { JourneyKey = journey, ThemeKey = "freshness" })).CaseStudies);
        Assert.Empty((await _admin.ListCaseStudiesAsync(new ListCaseStudiesRequest { JourneyKey = journey, ThemeKey = "price-value" })).CaseStudies);

        // The customer's erasure reaches the case study: their words, ratings and timeline go, the lessons stay.
        await _feedback.EraseCustomerAsync(new EraseCustomerRequest { CustomerId = customer });
        var erased = await Eventually.Until(async () => (await _admin.GetCaseStudyAsync(new GetCaseStudyRequest { CaseStudyId = study.Id })).CaseStudy,
            c => c.RedactedVerbatim.Length == 0, because: "feedback.erased reaches governance");
        Assert.Empty(erased.Ratings);
        Assert.Empty(erased.Timeline);
        Assert.Single(erased.Lessons);
        Assert.Contains((await _admin.ListAuditEntriesAsync(new ListAuditEntriesRequest { Kind = "customer.erased", PageSize = 1000 })).Entries,
            e => !e.Details.Contains(customer, StringComparison.Ordinal) && e.Details.Contains("\"caseStudies\":1", StringComparison.Ordinal));
        await RpcAssert.StatusAsync(() => owner.CreateCaseStudyFromFeedbackAsync(new CreateCaseStudyFromFeedbackRequest { FeedbackId = item.Id }).ResponseAsync,
            StatusCode.FailedPrecondition);
    }

    [Fact]
    public async Task Case_studies_refuse_missing_feedback_and_bad_input()
    {
        await RpcAssert.StatusAsync(() => _admin.CreateCaseStudyFromFeedbackAsync(new CreateCaseStudyFromFeedbackRequest { FeedbackId = Guid.NewGuid().ToString() }).ResponseAsync,
            StatusCode.NotFound);
        await RpcAssert.InvalidArgumentAsync(() => _admin.CreateCaseStudyFromFeedbackAsync(new CreateCaseStudyFromFeedbackRequest { FeedbackId = "x" }).ResponseAsync, "feedback_id");
        await RpcAssert.InvalidArgumentAsync(() => _admin.CreateCaseStudyAsync(new CreateCaseStudyRequest
        {
            CaseStudy = new CaseStudy { Title = "t", Lessons = { Enumerable.Range(0, 21).Select(i => $"lesson {i}") } },
        }).ResponseAsync, "case_study.lessons");
        await RpcAssert.InvalidArgumentAsync(() => _admin.CreateCaseStudyAsync(new CreateCaseStudyRequest { CaseStudy = new CaseStudy { Title = "" } }).ResponseAsync, "case_study.title");
        var manual = (await _admin.CreateCaseStudyAsync(new CreateCaseStudyRequest
        {
            CaseStudy = new CaseStudy { Title = "The lost parcel", JourneyKey = "delivery", ThemeKeys = { "delivery" }, CustomerPainPoints = { "No news for a week" } },
        })).CaseStudy;
        Assert.Equal(("The lost parcel", ""), (manual.Title, manual.FeedbackId));
        await RpcAssert.StatusAsync(() => _admin.GetCaseStudyAsync(new GetCaseStudyRequest { CaseStudyId = Guid.NewGuid().ToString() }).ResponseAsync, StatusCode.NotFound);
    }

    [Fact]
    public async Task Sprint_progress_compares_each_priority_before_and_during_the_sprint_through_scoring()
    {
        var p = await PeopleAsync(_admin);
        var today = DateTime.UtcNow.Date;
        // Before the sprint (it started 10 days ago): mostly detractors; during it: mostly promoters.
        var items = new List<SubmitFeedbackRequest>();
        for (var i = 0; i < 40; i++)
        {
            items.Add(Nps(p.Journey, i % 4 == 0 ? 9 : 3, today.AddDays(-20 - i % 30).AddHours(9)));
            items.Add(Nps(p.Journey, i % 4 == 0 ? 4 : 10, today.AddDays(-1 - i % 9).AddHours(9)));
        }
        foreach (var item in items) await _feedback.SubmitFeedbackAsync(item);
        var start = DateOnly.FromDateTime(today).AddDays(-9);
        var journeyScope = new ScoringApi.Scope { Dimensions = { new ScoringApi.Dimension { Kind = ScoringApi.DimensionKind.Journey, Value = p.Journey } } };
        var otherScope = new ScoringApi.Scope { Dimensions = { new ScoringApi.Dimension { Kind = ScoringApi.DimensionKind.Journey, Value = Unique("quiet") } } };
        var sprint = (await _admin.CreateSprintAsync(new CreateSprintRequest
        {
            Sprint = new Sprint
            {
                Name = "Turnaround",
                StartDate = start.ToString("yyyy-MM-dd"),
                EndDate = start.AddDays(83).ToString("yyyy-MM-dd"),
                Priorities =
                {
                    new Priority { Title = "Happier deliveries", OwnerId = p.Owner, Scope = journeyScope, Metric = Metric.Nps, TargetChange = 50 },
                    new Priority { Title = "Moonshot", OwnerId = p.Owner, Scope = journeyScope, Metric = Metric.Nps, TargetChange = 150 },
                    new Priority { Title = "Nothing measured yet", OwnerId = p.Owner, Scope = otherScope, Metric = Metric.Nps, TargetChange = 5 },
                    new Priority { Title = "Fewer promoters please", OwnerId = p.Owner, Scope = journeyScope, Metric = Metric.Nps, TargetChange = -5 },
                },
            },
        })).Sprint;

        var progress = await Eventually.Until(async () => await _admin.GetSprintProgressAsync(new GetSprintProgressRequest { SprintId = sprint.Id }),
            r => r.Priorities[0].Before.N == 40 && r.Priorities[0].Now.N == 40, because: "scoring has scored all 80 items");
        Assert.Equal(10, progress.DaysElapsed);
        var happier = progress.Priorities[0];
        Assert.Equal(-50, happier.Before.Value, 6); // 10 promoters, 30 detractors
        Assert.Equal(50, happier.Now.Value, 6);
        Assert.Equal(100, happier.Change, 6);
        Assert.True(happier.Significant);
        Assert.True(happier.ChangeMarginOfError > 0);
        Assert.True(happier.TargetMet);
        Assert.False(progress.Priorities[1].TargetMet);
        Assert.False(progress.Priorities[2].TargetMet); // no responses: not met, not made up
        Assert.Equal(0, progress.Priorities[2].Now.N);
        Assert.False(progress.Priorities[3].TargetMet);
        Assert.Equal((1, 1), (progress.TargetsMet, progress.TargetsMetSignificantly));
        Assert.Contains("Happier deliveries: +100.0", progress.Summary);
        Assert.Contains("no responses to compare yet", progress.Summary);

        var future = DateOnly.FromDateTime(today).AddDays(30);
        var later = (await _admin.CreateSprintAsync(new CreateSprintRequest
        {
            Sprint = new Sprint
            {
                Name = "Next",
                StartDate = future.ToString("yyyy-MM-dd"),
                EndDate = future.AddDays(83).ToString("yyyy-MM-dd"),
                Priorities = { sprint.Priorities.Select(x => { var c = x.Clone(); c.Id = ""; c.ActionIds.Clear(); c.IdeaIds.Clear(); return c; }) },
            },
        })).Sprint;
        var notStarted = await _admin.GetSprintProgressAsync(new GetSprintProgressRequest { SprintId = later.Id });
        Assert.Equal(0, notStarted.DaysElapsed);
        Assert.Null(notStarted.Priorities[0].Now);
        Assert.Contains("not started", notStarted.Summary);
        await RpcAssert.InvalidArgumentAsync(() => _admin.GetSprintProgressAsync(new GetSprintProgressRequest { SprintId = sprint.Id, Alpha = 0.7 }).ResponseAsync, "alpha");

        // A sprint from before scoring's retention: scoring refuses the window, and governance says so rather than guess.
        var ancient = DateOnly.FromDateTime(today).AddDays(-4000); // scoring keeps 3,700 days
        var old = (await _admin.CreateSprintAsync(new CreateSprintRequest
        {
            Sprint = new Sprint
            {
                Name = "Long ago",
                StartDate = ancient.ToString("yyyy-MM-dd"),
                EndDate = ancient.AddDays(83).ToString("yyyy-MM-dd"),
                Priorities = { sprint.Priorities.Select(x => { var c = x.Clone(); c.Id = ""; c.ActionIds.Clear(); c.IdeaIds.Clear(); return c; }) },
            },
        })).Sprint;
        var refused = await RpcAssert.StatusAsync(() => _admin.GetSprintProgressAsync(new GetSprintProgressRequest { SprintId = old.Id }).ResponseAsync,
            StatusCode.FailedPrecondition);
        Assert.Equal("SCORING_REFUSED", refused.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>().Reason);
        Assert.Contains("scoring service refused", refused.Status.Detail);
    }

    private static SubmitFeedbackRequest Nps(string journey, int value, DateTime givenAt) => new()
    {
        IdempotencyKey = Unique("nps"),
        Channel = Channel.Survey,
        JourneyKey = journey,
        Ratings = { new Rating { QuestionId = "nps", Value = value } },
        GivenAt = Timestamp.FromDateTime(givenAt),
    };
}
