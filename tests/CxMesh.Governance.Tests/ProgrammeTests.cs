using CxMesh.Common.V1;
using CxMesh.Governance.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Google.Rpc;
using Grpc.Core;
using static CxMesh.Governance.Tests.GovernanceTestKit;
using ScoringApi = CxMesh.Scoring.V1;

namespace CxMesh.Governance.Tests;

/// <summary>People and ownership, vision, the CX code, sprints, ideas and the culture scorecard.</summary>
public sealed class ProgrammeTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly GovernanceService.GovernanceServiceClient _admin = fixture.Host.Client<GovernanceService.GovernanceServiceClient>();

    [Fact]
    public async Task Journey_ownership_keeps_its_history_and_every_change_is_audited()
    {
        var p = await PeopleAsync(_admin);
        await _admin.AssignJourneyOwnersAsync(new AssignJourneyOwnersRequest { JourneyKey = p.Journey, SponsorId = p.Sponsor, OwnerId = p.Other, Reason = "handover" });
        var tp = await _admin.AssignTouchpointOwnerAsync(new AssignTouchpointOwnerRequest { JourneyKey = p.Journey, TouchpointKey = "delivered", OwnerId = p.Owner });
        Assert.Equal(p.Other, tp.Ownership.OwnerId);
        Assert.Equal(p.Sponsor, tp.Ownership.SponsorId);
        Assert.Equal(p.Owner, Assert.Single(tp.Ownership.TouchpointOwners).OwnerId);
        // Newest first: touchpoint owner, the handover, then the first assignment (sponsor and owner).
        Assert.Equal(["touchpoint-owner", "owner", "owner", "sponsor"], tp.Ownership.History.Select(h => h.Role));
        Assert.Equal((p.Owner, p.Other, "handover"), (tp.Ownership.History[1].PreviousMemberId, tp.Ownership.History[1].MemberId, tp.Ownership.History[1].Reason));
        Assert.Equal("test-admin", tp.Ownership.History[0].ChangedBy);

        var removed = await _admin.AssignTouchpointOwnerAsync(new AssignTouchpointOwnerRequest { JourneyKey = p.Journey, TouchpointKey = "delivered" });
        Assert.Empty(removed.Ownership.TouchpointOwners);

        var audit = await _admin.ListAuditEntriesAsync(new ListAuditEntriesRequest { Kind = "ownership.changed", PageSize = 1000 });
        Assert.Equal(5, audit.Entries.Count(e => e.Subject.StartsWith($"journey/{p.Journey}", StringComparison.Ordinal)));

        await RpcAssert.InvalidArgumentAsync(() => _admin.AssignJourneyOwnersAsync(new AssignJourneyOwnersRequest
        {
            JourneyKey = p.Journey,
            SponsorId = "nobody-" + Guid.NewGuid().ToString("N")[..6],
            OwnerId = p.Owner,
        }).ResponseAsync, "sponsor_id");
        await RpcAssert.InvalidArgumentAsync(() => _admin.AssignJourneyOwnersAsync(new AssignJourneyOwnersRequest { JourneyKey = "Bad Key", SponsorId = p.Sponsor, OwnerId = p.Owner }).ResponseAsync,
            "journey_key");
        await RpcAssert.InvalidArgumentAsync(() => _admin.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = Unique("m"), Name = "x", TeamId = "no-such-team" } }).ResponseAsync,
            "member.team_id");
        var analyst = fixture.Host.Client<GovernanceService.GovernanceServiceClient>(Roles.Analyst);
        await RpcAssert.StatusAsync(() => analyst.AssignJourneyOwnersAsync(new AssignJourneyOwnersRequest { JourneyKey = p.Journey, SponsorId = p.Sponsor, OwnerId = p.Owner }).ResponseAsync,
            StatusCode.PermissionDenied);
    }

    [Fact]
    public async Task The_vision_is_versioned()
    {
        var v1 = (await _admin.PublishVisionAsync(new PublishVisionRequest { Vision = "Fresh coffee, first time.", Mission = "Roast to order." })).Vision;
        var v2 = (await _admin.PublishVisionAsync(new PublishVisionRequest { Vision = "Fresh coffee, every time.", Mission = "Roast to order, deliver on the day." })).Vision;
        Assert.Equal(v1.Version + 1, v2.Version);
        var latest = await _admin.GetVisionAsync(new GetVisionRequest());
        Assert.Equal("Fresh coffee, every time.", latest.Vision.Vision_);
        Assert.Equal("Fresh coffee, first time.", (await _admin.GetVisionAsync(new GetVisionRequest { Version = v1.Version })).Vision.Vision_);
        Assert.True(latest.History.Count >= 2);
        await RpcAssert.InvalidArgumentAsync(() => _admin.PublishVisionAsync(new PublishVisionRequest { Vision = "", Mission = "x" }).ResponseAsync, "vision");
        await RpcAssert.StatusAsync(() => _admin.GetVisionAsync(new GetVisionRequest { Version = 9999 }).ResponseAsync, StatusCode.NotFound);
    }

    private static CodeDriver Driver(string theme) => new() { Name = theme, ThemeKey = theme, Definition = $"{theme}, as the customer sees it.", Target = "better" };

    [Theory]
    [InlineData(2)]
    [InlineData(6)]
    public async Task A_cx_code_with_too_few_or_too_many_drivers_fails_naming_the_rule(int count)
    {
        var themes = new[] { "delivery", "freshness", "taste", "packaging", "price-value", "ease-of-use" }.Take(count);
        var ex = await RpcAssert.StatusAsync(() => _admin.SetCxCodeAsync(new SetCxCodeRequest { Drivers = { themes.Select(Driver) } }).ResponseAsync,
            StatusCode.FailedPrecondition);
        var info = ex.GetRpcStatus()!.GetDetail<ErrorInfo>();
        Assert.Equal("CX_CODE_DRIVER_COUNT", info.Reason);
        Assert.Equal("3-5 drivers", info.Metadata["rule"]);
        Assert.Contains("3 to 5 key drivers", ex.Status.Detail);
    }

    [Fact]
    public async Task A_cx_code_is_versioned_and_audited()
    {
        var first = (await _admin.SetCxCodeAsync(new SetCxCodeRequest { Drivers = { Driver("delivery"), Driver("freshness"), Driver("taste") } })).Code;
        var second = (await _admin.SetCxCodeAsync(new SetCxCodeRequest { Drivers = { Driver("delivery"), Driver("freshness"), Driver("taste"), Driver("packaging") } })).Code;
        Assert.Equal(first.Version + 1, second.Version);
        Assert.Equal(4, (await _admin.GetCxCodeAsync(new GetCxCodeRequest())).Code.Drivers.Count);
        Assert.Equal(3, (await _admin.GetCxCodeAsync(new GetCxCodeRequest { Version = first.Version })).Code.Drivers.Count);
        var audit = await _admin.ListAuditEntriesAsync(new ListAuditEntriesRequest { Kind = "cx-code.changed", PageSize = 1000 });
        Assert.Contains(audit.Entries, e => e.Subject == $"cx-code/v{second.Version}" && e.Details.Contains("packaging", StringComparison.Ordinal));

        await RpcAssert.InvalidArgumentAsync(() => _admin.SetCxCodeAsync(new SetCxCodeRequest { Drivers = { Driver("delivery"), Driver("delivery"), Driver("taste") } }).ResponseAsync,
            "drivers[1].theme_key");
        await RpcAssert.InvalidArgumentAsync(() => _admin.SetCxCodeAsync(new SetCxCodeRequest
        {
            Drivers = { Driver("delivery"), Driver("freshness"), new CodeDriver { Name = "x", ThemeKey = "taste", Definition = "", Target = "t" } },
        }).ResponseAsync, "drivers[2].definition");
        // A driver is measured by its theme: one that does not exist in the taxonomy is refused.
        await RpcAssert.InvalidArgumentAsync(() => _admin.SetCxCodeAsync(new SetCxCodeRequest
        {
            Drivers = { Driver("delivery"), Driver("no-such-theme"), Driver("taste") },
        }).ResponseAsync, "drivers[1].theme_key");
    }

    private static Priority Priority(string owner, string journey, double target = 5) => new()
    {
        Title = "Faster delivery",
        OwnerId = owner,
        Scope = new ScoringApi.Scope { Dimensions = { new ScoringApi.Dimension { Kind = ScoringApi.DimensionKind.Journey, Value = journey } } },
        Metric = Metric.Nps,
        TargetChange = target,
    };

    [Fact]
    public async Task A_sprint_lasts_twelve_weeks_and_holds_four_to_six_priorities()
    {
        var p = await PeopleAsync(_admin);
        var start = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-10);
        Sprint Sprint(int weeks, int priorities) => new()
        {
            Name = "Sprint",
            StartDate = start.ToString("yyyy-MM-dd"),
            EndDate = start.AddDays(weeks * 7 - 1).ToString("yyyy-MM-dd"),
            Priorities = { Enumerable.Range(0, priorities).Select(_ => Priority(p.Owner, p.Journey)) },
        };

        var tenWeeks = await RpcAssert.StatusAsync(() => _admin.CreateSprintAsync(new CreateSprintRequest { Sprint = Sprint(10, 4) }).ResponseAsync, StatusCode.FailedPrecondition);
        var info = tenWeeks.GetRpcStatus()!.GetDetail<ErrorInfo>();
        Assert.Equal(("SPRINT_LENGTH", start.AddDays(83).ToString("yyyy-MM-dd")), (info.Reason, info.Metadata["expected_end_date"]));
        var seven = await RpcAssert.StatusAsync(() => _admin.CreateSprintAsync(new CreateSprintRequest { Sprint = Sprint(12, 7) }).ResponseAsync, StatusCode.FailedPrecondition);
        Assert.Equal("SPRINT_PRIORITY_COUNT", seven.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
        await RpcAssert.StatusAsync(() => _admin.CreateSprintAsync(new CreateSprintRequest { Sprint = Sprint(12, 3) }).ResponseAsync, StatusCode.FailedPrecondition);

        var unknownOwner = Sprint(12, 4);
        unknownOwner.Priorities[2].OwnerId = "nobody-at-all";
        await RpcAssert.InvalidArgumentAsync(() => _admin.CreateSprintAsync(new CreateSprintRequest { Sprint = unknownOwner }).ResponseAsync, "sprint.priorities[2].owner_id");
        var noTarget = Sprint(12, 4);
        noTarget.Priorities[0].TargetChange = 0;
        await RpcAssert.InvalidArgumentAsync(() => _admin.CreateSprintAsync(new CreateSprintRequest { Sprint = noTarget }).ResponseAsync, "sprint.priorities[0].target_change");
        var badDate = Sprint(12, 4);
        badDate.StartDate = "01/05/2026";
        await RpcAssert.InvalidArgumentAsync(() => _admin.CreateSprintAsync(new CreateSprintRequest { Sprint = badDate }).ResponseAsync, "sprint.start_date");
        // The last day of the calendar: twelve weeks later does not exist (was INTERNAL, and HTTP 500 on the JSON route).
        var lastDay = Sprint(12, 4);
        (lastDay.StartDate, lastDay.EndDate) = ("9999-12-31", "9999-12-31");
        await RpcAssert.InvalidArgumentAsync(() => _admin.CreateSprintAsync(new CreateSprintRequest { Sprint = lastDay }).ResponseAsync, "sprint.start_date");
        var http = fixture.Host.Http();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", fixture.Host.Token(Roles.Admin));
        var json = await http.PostAsync("/v1/sprints", new System.Net.Http.StringContent(
            Google.Protobuf.JsonFormatter.Default.Format(lastDay), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, json.StatusCode);

        var created = (await _admin.CreateSprintAsync(new CreateSprintRequest { Sprint = Sprint(12, 6) })).Sprint;
        Assert.Equal(6, created.Priorities.Count);
        Assert.Equal(created.Id, (await _admin.GetSprintAsync(new GetSprintRequest { SprintId = created.Id })).Sprint.Id);
        Assert.Contains((await _admin.ListSprintsAsync(new ListSprintsRequest())).Sprints, s => s.Id == created.Id);
        Assert.Equal(p.Journey, created.Priorities[0].Scope.Dimensions[0].Value);
    }

    [Fact]
    public async Task Ideas_take_one_vote_per_member_move_forward_only_and_quick_wins_come_first()
    {
        var p = await PeopleAsync(_admin);
        var theme = Unique("theme");
        async Task<Idea> Submit(string title, Effort effort) =>
            (await _admin.SubmitIdeaAsync(new SubmitIdeaRequest { Idea = new Idea { Title = title, ThemeKey = theme, Effort = effort, SubmittedBy = p.Owner } })).Idea;
        var big = await Submit("Build our own courier fleet", Effort.High);
        var quick = await Submit("Roast date on the front", Effort.Low);
        var popular = await Submit("Text before delivery", Effort.Medium);

        Assert.Equal(1, (await _admin.VoteIdeaAsync(new VoteIdeaRequest { IdeaId = popular.Id, MemberId = p.Sponsor })).Idea.Votes);
        await RpcAssert.StatusAsync(() => _admin.VoteIdeaAsync(new VoteIdeaRequest { IdeaId = popular.Id, MemberId = p.Sponsor }).ResponseAsync, StatusCode.AlreadyExists);
        Assert.Equal(2, (await _admin.VoteIdeaAsync(new VoteIdeaRequest { IdeaId = popular.Id, MemberId = p.Other })).Idea.Votes);
        await RpcAssert.InvalidArgumentAsync(() => _admin.VoteIdeaAsync(new VoteIdeaRequest { IdeaId = popular.Id, MemberId = "ghost" }).ResponseAsync, "member_id");

        var skip = await RpcAssert.StatusAsync(() => _admin.AdvanceIdeaAsync(new AdvanceIdeaRequest { IdeaId = big.Id, To = IdeaState.Implemented }).ResponseAsync,
            StatusCode.FailedPrecondition);
        Assert.Equal("IDEA_TRANSITION", skip.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
        await _admin.AdvanceIdeaAsync(new AdvanceIdeaRequest { IdeaId = quick.Id, To = IdeaState.Accepted, Note = "cheap and visible" });
        await _admin.AdvanceIdeaAsync(new AdvanceIdeaRequest { IdeaId = big.Id, To = IdeaState.Rejected, Note = "not now" });
        await RpcAssert.StatusAsync(() => _admin.VoteIdeaAsync(new VoteIdeaRequest { IdeaId = big.Id, MemberId = p.Other }).ResponseAsync, StatusCode.FailedPrecondition);

        var listed = (await _admin.ListIdeasAsync(new ListIdeasRequest { ThemeKey = theme })).Ideas;
        Assert.Equal([quick.Id, popular.Id, big.Id], listed.Select(i => i.Id));
        // Page by page (AIP-158) in the same order: the keyset follows quick wins, then votes, then age.
        var paged = new List<string>();
        var token = "";
        do
        {
            var page = await _admin.ListIdeasAsync(new ListIdeasRequest { ThemeKey = theme, PageSize = 1, PageToken = token });
            Assert.True(page.Ideas.Count <= 1);
            paged.AddRange(page.Ideas.Select(i => i.Id));
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        Assert.Equal([quick.Id, popular.Id, big.Id], paged);
        await RpcAssert.InvalidArgumentAsync(() => _admin.ListIdeasAsync(new ListIdeasRequest { PageToken = "not-a-token!" }).ResponseAsync, "page_token");

        // Implemented, then measured with its result (required).
        await _admin.AdvanceIdeaAsync(new AdvanceIdeaRequest { IdeaId = quick.Id, To = IdeaState.Implemented });
        await RpcAssert.InvalidArgumentAsync(() => _admin.AdvanceIdeaAsync(new AdvanceIdeaRequest { IdeaId = quick.Id, To = IdeaState.Measured }).ResponseAsync, "note");
        var measured = (await _admin.AdvanceIdeaAsync(new AdvanceIdeaRequest { IdeaId = quick.Id, To = IdeaState.Measured, Note = "freshness complaints -30%" })).Idea;
        Assert.Equal((IdeaState.Measured, "freshness complaints -30%"), (measured.State, measured.MeasuredResult));

        await RpcAssert.InvalidArgumentAsync(() => _admin.SubmitIdeaAsync(new SubmitIdeaRequest { Idea = new Idea { Title = "x", SubmittedBy = p.Owner } }).ResponseAsync, "idea.effort");
        var app = fixture.Host.Client<GovernanceService.GovernanceServiceClient>(Roles.App);
        Assert.Equal(IdeaState.Proposed, (await app.SubmitIdeaAsync(new SubmitIdeaRequest { Idea = new Idea { Title = "From the intranet", Effort = Effort.Low, SubmittedBy = p.Other } })).Idea.State);
    }

    /// <summary>A sprint that started three days ago with <paramref name="priorities"/> priorities on the people's journey.</summary>
    private async Task<Sprint> RunningSprintAsync(People p, int priorities)
    {
        var start = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-3);
        return (await _admin.CreateSprintAsync(new CreateSprintRequest
        {
            Sprint = new Sprint
            {
                Name = $"Sprint of {priorities}",
                StartDate = start.ToString("yyyy-MM-dd"),
                EndDate = start.AddDays(83).ToString("yyyy-MM-dd"),
                Priorities = { Enumerable.Range(0, priorities).Select(_ => Priority(p.Owner, p.Journey)) },
            },
        })).Sprint;
    }

    [Fact]
    public async Task Accepted_ideas_and_actions_join_sprint_priorities()
    {
        var p = await PeopleAsync(_admin);
        var sprint = await RunningSprintAsync(p, 4);
        var idea = (await _admin.SubmitIdeaAsync(new SubmitIdeaRequest { Idea = new Idea { Title = "Idea", Effort = Effort.Low, SubmittedBy = p.Owner } })).Idea;
        var priority = sprint.Priorities[1].Id;
        await RpcAssert.StatusAsync(() => _admin.LinkToPriorityAsync(new LinkToPriorityRequest { SprintId = sprint.Id, PriorityId = priority, IdeaId = idea.Id }).ResponseAsync,
            StatusCode.FailedPrecondition);
        await _admin.AdvanceIdeaAsync(new AdvanceIdeaRequest { IdeaId = idea.Id, To = IdeaState.Accepted });
        var action = (await _admin.CreateActionAsync(new CreateActionRequest { Action = new Governance.V1.Action { Title = "Do it", IdeaId = idea.Id, OwnerId = p.Owner } })).Action;
        Assert.Equal(("idea", p.Team), (action.Source, action.TeamId));
        await _admin.LinkToPriorityAsync(new LinkToPriorityRequest { SprintId = sprint.Id, PriorityId = priority, IdeaId = idea.Id });
        await _admin.LinkToPriorityAsync(new LinkToPriorityRequest { SprintId = sprint.Id, PriorityId = priority, ActionId = action.Id });
        var linked = (await _admin.LinkToPriorityAsync(new LinkToPriorityRequest { SprintId = sprint.Id, PriorityId = priority, ActionId = action.Id })).Sprint;
        Assert.Equal([action.Id], linked.Priorities[1].ActionIds);
        Assert.Equal([idea.Id], linked.Priorities[1].IdeaIds);
        await RpcAssert.InvalidArgumentAsync(() => _admin.LinkToPriorityAsync(new LinkToPriorityRequest { SprintId = sprint.Id, PriorityId = priority }).ResponseAsync, "action_id");
        await RpcAssert.StatusAsync(() => _admin.LinkToPriorityAsync(new LinkToPriorityRequest { SprintId = sprint.Id, PriorityId = Guid.NewGuid().ToString(), ActionId = action.Id }).ResponseAsync,
            StatusCode.NotFound);
    }

    [Fact]
    public async Task An_accepted_idea_becomes_a_new_priority_while_the_sprint_has_room()
    {
        var p = await PeopleAsync(_admin);
        var sprint = await RunningSprintAsync(p, 5);
        var idea = (await _admin.SubmitIdeaAsync(new SubmitIdeaRequest { Idea = new Idea { Title = "Text before delivery", Effort = Effort.Medium, SubmittedBy = p.Other } })).Idea;
        var fromIdea = Priority(p.Other, p.Journey, 3);
        fromIdea.Title = "Text before delivery";
        await RpcAssert.StatusAsync(() => _admin.AddPriorityAsync(new AddPriorityRequest { SprintId = sprint.Id, Priority = fromIdea, IdeaId = idea.Id }).ResponseAsync,
            StatusCode.FailedPrecondition);
        await _admin.AdvanceIdeaAsync(new AdvanceIdeaRequest { IdeaId = idea.Id, To = IdeaState.Accepted });
        var sixth = (await _admin.AddPriorityAsync(new AddPriorityRequest { SprintId = sprint.Id, Priority = fromIdea, IdeaId = idea.Id })).Sprint;
        Assert.Equal(6, sixth.Priorities.Count);
        Assert.Equal(("Text before delivery", p.Other), (sixth.Priorities[5].Title, sixth.Priorities[5].OwnerId));
        Assert.Equal([idea.Id], sixth.Priorities[5].IdeaIds);

        var seventh = await RpcAssert.StatusAsync(() => _admin.AddPriorityAsync(new AddPriorityRequest { SprintId = sprint.Id, Priority = Priority(p.Owner, p.Journey) }).ResponseAsync,
            StatusCode.FailedPrecondition);
        Assert.Equal("SPRINT_PRIORITY_COUNT", seventh.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
        await RpcAssert.InvalidArgumentAsync(() => _admin.AddPriorityAsync(new AddPriorityRequest { SprintId = sprint.Id, Priority = new Priority { Title = "x", OwnerId = p.Owner, TargetChange = 1 } }).ResponseAsync,
            "priority.metric");
        await RpcAssert.StatusAsync(() => _admin.AddPriorityAsync(new AddPriorityRequest { SprintId = Guid.NewGuid().ToString(), Priority = Priority(p.Owner, p.Journey) }).ResponseAsync,
            StatusCode.NotFound);
    }

    [Fact]
    public async Task People_vote_and_propose_as_themselves_while_apps_act_for_their_users()
    {
        var p = await PeopleAsync(_admin);
        // The journey-owner test token's subject is "test-journey-owner": make that person a member.
        await _admin.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = "test-journey-owner", Name = "Jo Owner", TeamId = p.Team } });
        var idea = (await _admin.SubmitIdeaAsync(new SubmitIdeaRequest { Idea = new Idea { Title = "Self-serve refunds", Effort = Effort.Low, SubmittedBy = p.Owner } })).Idea;
        var owner = fixture.Host.Client<GovernanceService.GovernanceServiceClient>(Roles.JourneyOwner);

        var impersonation = await RpcAssert.StatusAsync(() => owner.VoteIdeaAsync(new VoteIdeaRequest { IdeaId = idea.Id, MemberId = p.Sponsor }).ResponseAsync,
            StatusCode.PermissionDenied);
        Assert.Contains("member_id", impersonation.Status.Detail);
        await RpcAssert.StatusAsync(() => owner.SubmitIdeaAsync(new SubmitIdeaRequest { Idea = new Idea { Title = "x", Effort = Effort.Low, SubmittedBy = p.Sponsor } }).ResponseAsync,
            StatusCode.PermissionDenied);
        Assert.Equal(1, (await owner.VoteIdeaAsync(new VoteIdeaRequest { IdeaId = idea.Id, MemberId = "test-journey-owner" })).Idea.Votes);

        var app = fixture.Host.Client<GovernanceService.GovernanceServiceClient>(Roles.App);
        Assert.Equal(2, (await app.VoteIdeaAsync(new VoteIdeaRequest { IdeaId = idea.Id, MemberId = p.Sponsor })).Idea.Votes);
    }

    [Fact]
    public async Task The_culture_scorecard_shows_change_and_where_there_is_most_room_to_grow()
    {
        var p = await PeopleAsync(_admin);
        async Task Record(string period, int a, int b, int c, int d) => await _admin.RecordCultureAssessmentAsync(new RecordCultureAssessmentRequest
        {
            Assessment = new CultureAssessment { TeamId = p.Team, Period = period, Conscience = a, Communication = b, Consistency = c, Credibility = d },
        });
        await Record("2026-Q2", 3, 3, 4, 3);
        await Record("2026-Q3", 4, 3, 2, 3);
        await Record("2026-Q3", 4, 3, 2, 4); // re-recorded: replaces
        var card = await _admin.GetCultureScorecardAsync(new GetCultureScorecardRequest { TeamId = p.Team });
        var team = Assert.Single(card.Teams);
        Assert.Equal((4, 2, 4), (team.Latest.Conscience, team.Latest.Consistency, team.Latest.Credibility));
        Assert.Equal((1, 0, -2, 1), (team.ConscienceChange, team.CommunicationChange, team.ConsistencyChange, team.CredibilityChange));
        Assert.Equal("consistency", team.MostRoomToGrow);
        Assert.Equal(["2026-Q2", "2026-Q3"], card.Organisation.Select(o => o.Period));
        Assert.Equal("consistency", card.MostRoomToGrow);

        await RpcAssert.InvalidArgumentAsync(() => _admin.RecordCultureAssessmentAsync(new RecordCultureAssessmentRequest
        {
            Assessment = new CultureAssessment { TeamId = p.Team, Period = "2026-Q3", Conscience = 6, Communication = 3, Consistency = 3, Credibility = 3 },
        }).ResponseAsync, "assessment.conscience");
        await RpcAssert.InvalidArgumentAsync(() => _admin.RecordCultureAssessmentAsync(new RecordCultureAssessmentRequest
        {
            Assessment = new CultureAssessment { TeamId = p.Team, Period = "Q3 2026", Conscience = 3, Communication = 3, Consistency = 3, Credibility = 3 },
        }).ResponseAsync, "assessment.period");
    }
}
