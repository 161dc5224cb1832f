using CxMesh.Common.V1;
using CxMesh.Governance.V1;
using Grpc.Core;
using ScoringApi = CxMesh.Scoring.V1;

namespace CxMesh.Cli;

/// <summary>
/// The coffee demo's governance: teams and members, journey sponsors and owners (the returns journey is left without
/// one, so its detractors go to the CX team), partner contacts, a vision, a CX code, a running sprint, ideas with votes,
/// a case study from a real demo review and a culture scorecard. Repeatable: a second run changes nothing.
/// </summary>
internal static class GovernanceDemo
{
    private static readonly (string Id, string Name)[] Teams =
    [
        ("cx", "Customer experience"), ("subscriptions", "Subscriptions"), ("logistics", "Logistics"), ("roastery", "Roastery"),
    ];

    private static readonly (string Id, string Name, string Team, string Role)[] Members =
    [
        ("mei.chen", "Mei Chen", "cx", "cx-lead"),
        ("raj.patel", "Raj Patel", "cx", "analyst"),
        ("tom.reyes", "Tom Reyes", "subscriptions", "sponsor"),
        ("ana.silva", "Ana Silva", "subscriptions", "journey-owner"),
        ("li.wei", "Li Wei", "logistics", "journey-owner"),
        ("sam.okafor", "Sam Okafor", "logistics", "courier-manager"),
        ("eva.novak", "Eva Novak", "roastery", "head-roaster"),
    ];

    /// <summary>Before the demo feedback: who owns what, so the detractor alerts find their owners.</summary>
    public static async Task SeedPeopleAsync(GovernanceService.GovernanceServiceClient client, IEnumerable<string> partnerIds, CancellationToken ct)
    {
        foreach (var (id, name) in Teams)
        {
            try
            {
                await client.CreateTeamAsync(new CreateTeamRequest { Team = new Team { Id = id, Name = name } }, deadline: Connection.Deadline(), cancellationToken: ct);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
            {
            }
        }
        foreach (var (id, name, team, role) in Members)
        {
            await client.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = id, Name = name, TeamId = team, Roles = { role } } },
                deadline: Connection.Deadline(), cancellationToken: ct);
        }
        await client.AssignJourneyOwnersAsync(new AssignJourneyOwnersRequest { JourneyKey = JourneyDemo.Key, SponsorId = "tom.reyes", OwnerId = "ana.silva", Reason = "demo" },
            deadline: Connection.Deadline(), cancellationToken: ct);
        await client.AssignJourneyOwnersAsync(new AssignJourneyOwnersRequest { JourneyKey = "order", SponsorId = "tom.reyes", OwnerId = "ana.silva", Reason = "demo" },
            deadline: Connection.Deadline(), cancellationToken: ct);
        await client.AssignJourneyOwnersAsync(new AssignJourneyOwnersRequest { JourneyKey = "delivery", SponsorId = "tom.reyes", OwnerId = "li.wei", Reason = "demo" },
            deadline: Connection.Deadline(), cancellationToken: ct);
        await client.AssignTouchpointOwnerAsync(new AssignTouchpointOwnerRequest { JourneyKey = "delivery", TouchpointKey = "delivered", OwnerId = "sam.okafor", Reason = "demo" },
            deadline: Connection.Deadline(), cancellationToken: ct);
        foreach (var partner in partnerIds)
        {
            await client.SetPartnerContactAsync(new SetPartnerContactRequest { PartnerId = partner, MemberId = partner.StartsWith("courier", StringComparison.Ordinal) ? "sam.okafor" : "eva.novak" },
                deadline: Connection.Deadline(), cancellationToken: ct);
        }
        if ((await Absent(() => client.GetVisionAsync(new GetVisionRequest(), deadline: Connection.Deadline(), cancellationToken: ct).ResponseAsync)))
        {
            await client.PublishVisionAsync(new PublishVisionRequest
            {
                Vision = "Every cup tastes like it was roasted yesterday, and every customer feels we know them.",
                Mission = "We roast to order, deliver on the day we promise, and answer every unhappy customer within a day.",
            }, deadline: Connection.Deadline(), cancellationToken: ct);
        }
        if (await Absent(() => client.GetCxCodeAsync(new GetCxCodeRequest(), deadline: Connection.Deadline(), cancellationToken: ct).ResponseAsync))
        {
            await client.SetCxCodeAsync(new SetCxCodeRequest
            {
                Drivers =
                {
                    new CodeDriver { Name = "Arrives fresh", ThemeKey = "freshness", Definition = "Beans reach the customer within 7 days of roasting, and the bag says so.", Target = "Under 5% negative freshness mentions" },
                    new CodeDriver { Name = "On the day we promise", ThemeKey = "delivery", Definition = "The parcel arrives on the promised day, and if not, we tell the customer first.", Target = "NPS of the delivery journey above +20" },
                    new CodeDriver { Name = "One answer, fast", ThemeKey = "problem-resolution", Definition = "A complaint is answered within 4 hours and solved in one contact.", Target = "90% of actions resolved within SLA" },
                    new CodeDriver { Name = "Easy to change", ThemeKey = "ease-of-use", Definition = "Pausing, skipping or changing a subscription takes one tap.", Target = "Under 3% negative ease-of-use mentions" },
                },
            }, deadline: Connection.Deadline(), cancellationToken: ct);
        }
    }

    /// <summary>Approves a submitted sharing agreement as the governance admin, once governance has heard of it.</summary>
    public static async Task ApproveAsync(GovernanceService.GovernanceServiceClient client, string agreementId, int version, CancellationToken ct)
    {
        for (var i = 0; i < 100; i++)
        {
            var approvals = await client.ListSharingApprovalsAsync(new ListSharingApprovalsRequest(), deadline: Connection.Deadline(), cancellationToken: ct);
            if (approvals.Approvals.Any(a => a.AgreementId == agreementId && a.Version == version))
            {
                await client.DecideSharingAsync(new DecideSharingRequest { AgreementId = agreementId, Version = version, Approved = true, Reason = "demo: fields and k reviewed" },
                    deadline: Connection.Deadline(), cancellationToken: ct);
                return;
            }
            await Task.Delay(100, ct);
        }
        throw new InvalidOperationException($"agreement {agreementId} v{version} never reached governance for approval.");
    }

    /// <summary>After the demo feedback: a running sprint, ideas, a case study from a demo review and culture scores.</summary>
    public static async Task SeedProgrammeAsync(GovernanceService.GovernanceServiceClient client, string? reviewFeedbackId, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        if ((await client.ListSprintsAsync(new ListSprintsRequest(), deadline: Connection.Deadline(), cancellationToken: ct)).Sprints.Count == 0)
        {
            var start = today.AddDays(-20);
            ScoringApi.Scope Journey(string key) => new() { Dimensions = { new ScoringApi.Dimension { Kind = ScoringApi.DimensionKind.Journey, Value = key } } };
            await client.CreateSprintAsync(new CreateSprintRequest
            {
                Sprint = new Sprint
                {
                    Name = "Fresh and on time",
                    StartDate = start.ToString("yyyy-MM-dd"),
                    EndDate = start.AddDays(83).ToString("yyyy-MM-dd"),
                    Priorities =
                    {
                        new Priority { Title = "Deliveries on the promised day", OwnerId = "li.wei", Scope = Journey("delivery"), Metric = Metric.Nps, TargetChange = 10 },
                        new Priority { Title = "Refunds in one contact", OwnerId = "mei.chen", Scope = Journey("returns"), Metric = Metric.Nps, TargetChange = 8 },
                        new Priority { Title = "Roast-date promise on every bag", OwnerId = "eva.novak", Scope = Journey("coffee-subscription"), Metric = Metric.Nps, TargetChange = 5 },
                        new Priority { Title = "One-tap subscription changes", OwnerId = "ana.silva", Scope = Journey("order"), Metric = Metric.Csat, TargetChange = 3 },
                    },
                },
            }, deadline: Connection.Deadline(), cancellationToken: ct);
        }
        if ((await client.ListIdeasAsync(new ListIdeasRequest(), deadline: Connection.Deadline(), cancellationToken: ct)).Ideas.Count == 0)
        {
            var ideas = new (string Title, string Theme, Effort Effort, string By, IdeaState To)[]
            {
                ("Print the roast date large on the front of the bag", "freshness", Effort.Low, "eva.novak", IdeaState.Accepted),
                ("Text the customer when the courier is 30 minutes away", "delivery", Effort.Medium, "sam.okafor", IdeaState.Accepted),
                ("Let support refund up to 20 EUR without approval", "problem-resolution", Effort.Low, "mei.chen", IdeaState.Implemented),
                ("A 'skip next delivery' button on the home screen", "ease-of-use", Effort.Low, "ana.silva", IdeaState.Proposed),
                ("Compostable valve bags", "packaging", Effort.High, "eva.novak", IdeaState.Proposed),
            };
            foreach (var (title, theme, effort, by, to) in ideas)
            {
                var idea = (await client.SubmitIdeaAsync(new SubmitIdeaRequest { Idea = new Idea { Title = title, ThemeKey = theme, Effort = effort, SubmittedBy = by, JourneyKey = JourneyDemo.Key } },
                    deadline: Connection.Deadline(), cancellationToken: ct)).Idea;
                foreach (var voter in Members.Select(m => m.Id).Where(m => m != by).Take(title.Length % 5 + 1))
                {
                    await client.VoteIdeaAsync(new VoteIdeaRequest { IdeaId = idea.Id, MemberId = voter }, deadline: Connection.Deadline(), cancellationToken: ct);
                }
                foreach (var step in new[] { IdeaState.Accepted, IdeaState.Implemented }.Where(s => s <= to))
                {
                    await client.AdvanceIdeaAsync(new AdvanceIdeaRequest { IdeaId = idea.Id, To = step, Note = "demo" }, deadline: Connection.Deadline(), cancellationToken: ct);
                }
            }
        }
        if (reviewFeedbackId is not null
            && (await client.ListCaseStudiesAsync(new ListCaseStudiesRequest(), deadline: Connection.Deadline(), cancellationToken: ct)).CaseStudies.Count == 0)
        {
            var study = (await client.CreateCaseStudyFromFeedbackAsync(new CreateCaseStudyFromFeedbackRequest { FeedbackId = reviewFeedbackId },
                deadline: Connection.Deadline(), cancellationToken: ct)).CaseStudy;
            study.BusinessPainPoints.Add("The courier's delay reaches us only when the customer complains.");
            study.Lessons.Add("Tell the customer about a delay before they have to ask.");
            study.PerfectJourney = "Roasted on Monday, shipped Monday night, a text on Tuesday morning with a two-hour window, delivered in it.";
            await client.UpdateCaseStudyAsync(new UpdateCaseStudyRequest { CaseStudy = study }, deadline: Connection.Deadline(), cancellationToken: ct);
            await client.CreateActionAsync(new CreateActionRequest
            {
                Action = new Governance.V1.Action
                {
                    Title = "Agree a delay notification with the courier",
                    CaseStudyId = study.Id,
                    OwnerId = "sam.okafor",
                    JourneyKey = "delivery",
                    DueAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow.AddDays(14)),
                },
            }, deadline: Connection.Deadline(), cancellationToken: ct);
        }
        var quarter = $"{today.Year}-Q{(today.Month - 1) / 3 + 1}";
        var previous = today.AddMonths(-3);
        var lastQuarter = $"{previous.Year}-Q{(previous.Month - 1) / 3 + 1}";
        foreach (var (team, scores, before) in new[]
        {
            ("cx", (4, 4, 3, 4), (3, 4, 3, 3)), ("subscriptions", (3, 3, 3, 4), (3, 2, 3, 4)), ("logistics", (3, 2, 2, 3), (3, 2, 3, 3)), ("roastery", (4, 3, 4, 4), (4, 3, 4, 3)),
        })
        {
            foreach (var (period, s) in new[] { (lastQuarter, before), (quarter, scores) })
            {
                await client.RecordCultureAssessmentAsync(new RecordCultureAssessmentRequest
                {
                    Assessment = new CultureAssessment { TeamId = team, Period = period, Conscience = s.Item1, Communication = s.Item2, Consistency = s.Item3, Credibility = s.Item4 },
                }, deadline: Connection.Deadline(), cancellationToken: ct);
            }
        }
    }

    private static async Task<bool> Absent(Func<Task> call)
    {
        try
        {
            await call();
            return false;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return true;
        }
    }
}
