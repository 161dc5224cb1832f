using System.Text.RegularExpressions;
using CxMesh.Governance.V1;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using Microsoft.Playwright;

namespace CxMesh.Web.Tests;

/// <summary>The console's workbench: actions end to end, the sprint board and its plan, the 1% challenge, case studies, governance, and a session that ends.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class WorkbenchTests(ConsoleHost host)
{
    private GovernanceService.GovernanceServiceClient Governance(string role = Roles.Admin, string subject = "mei.chen") =>
        host.Client<GovernanceService.GovernanceServiceClient>(role, subject);

    /// <summary>Pages of a one-page document printed to PDF by Chromium, as a person printing it would get them.</summary>
    private static async Task<int> PrintedPagesAsync(IPage page)
    {
        var pdf = System.Text.Encoding.Latin1.GetString(await page.PdfAsync(new PagePdfOptions { Format = "A4", PreferCSSPageSize = true }));
        return Regex.Matches(pdf, @"/Type\s*/Page(?![s\w])").Count;
    }

    [Fact]
    public async Task A_journey_owner_comments_reassigns_and_closes_actions_and_each_step_is_in_the_history()
    {
        var page = await host.SignInAsync("admin");
        await host.GoAsync(page, "/actions");
        var panel = page.Locator("[data-action]").Nth(1);
        var id = await panel.GetAttributeAsync("data-action");
        await panel.Locator(".mud-expand-panel-header").ClickAsync();
        panel = page.Locator($"[data-action='{id}']");

        await panel.Locator("[data-testid=add-comment]").ClickAsync();
        await Assertions.Expect(panel.Locator(".mud-input-helper-text.mud-input-error")).ToContainTextAsync("text");
        await panel.Locator("textarea[data-testid=comment]").FillAsync("Called the customer, waiting for the courier's log");
        await panel.Locator("[data-testid=add-comment]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=history] li[data-kind=comment]")).ToContainTextAsync("waiting for the courier's log");

        await panel.GetByRole(AriaRole.Tab, new() { Name = "Reassign" }).ClickAsync();
        await panel.Locator("[data-testid=new-owner]").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "Li Wei" }).ClickAsync();
        await panel.Locator("input[data-testid=reassign-reason]").FillAsync("Logistics owns courier slots");
        await panel.Locator("[data-testid=reassign]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=history] li[data-kind=reassigned]")).ToContainTextAsync("li.wei");
        await Assertions.Expect(panel.Locator("[data-testid=owner]")).ToHaveTextAsync("Li Wei");

        await panel.GetByRole(AriaRole.Tab, new() { Name = "Close as not actionable" }).ClickAsync();
        await panel.Locator("input[data-testid=close-reason]").FillAsync("Duplicate of an earlier complaint");
        await panel.Locator("[data-testid=close]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=state]")).ToHaveTextAsync("closed");

        var action = (await Governance().GetActionAsync(new GetActionRequest { ActionId = id })).Action;
        Assert.Equal((ActionState.Closed, "li.wei", "Duplicate of an earlier complaint"), (action.State, action.OwnerId, action.CloseReason));
        Assert.Contains(action.Comments, c => c.Text == "Called the customer, waiting for the courier's log" && c.Author == "mei.chen");
        Assert.Equal(["created", "reassigned", "closed"], action.History.Select(h => h.Kind).Where(k => k is "created" or "reassigned" or "closed"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task My_team_s_actions_are_the_team_s_and_my_own_as_governance_lists_them()
    {
        var page = await host.SignInAsync("journey-owner");
        await host.GoAsync(page, "/actions");
        await page.Locator("[data-filter=team]").ClickAsync();
        var expected = await Governance(Roles.JourneyOwner, "ana.silva").ListActionsAsync(new ListActionsRequest
        {
            OwnerId = "ana.silva",
            TeamId = "subscriptions",
            States = { ActionState.Open, ActionState.InProgress },
            PageSize = 200,
        });
        Assert.Empty(expected.NextPageToken);
        // Pages of 50: the console loads more until the list is whole.
        await Assertions.Expect(page.Locator("[data-action]")).ToHaveCountAsync(Math.Min(expected.Actions.Count, 50));
        for (var shown = 0; shown < expected.Actions.Count && await page.Locator("[data-testid=more]").IsVisibleAsync(); shown += 50)
        {
            await page.Locator("[data-testid=more]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-action]")).ToHaveCountAsync(Math.Min(expected.Actions.Count, shown + 100));
        }
        await Assertions.Expect(page.Locator("[data-action]")).ToHaveCountAsync(expected.Actions.Count);
        foreach (var a in expected.Actions.Take(10))
        {
            await Assertions.Expect(page.Locator($"[data-action='{a.Id}']")).ToHaveCountAsync(1);
        }
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_sprint_board_shows_governance_s_figures_links_an_idea_and_prints_the_plan_on_one_page()
    {
        var page = await host.SignInAsync("admin");
        await host.GoAsync(page, "/sprints");
        var sprint = (await Governance().ListSprintsAsync(new ListSprintsRequest())).Sprints.First();
        var progress = await Governance().GetSprintProgressAsync(new GetSprintProgressRequest { SprintId = sprint.Id });
        await Assertions.Expect(page.Locator("[data-testid=priorities] tr[data-priority]")).ToHaveCountAsync(progress.Priorities.Count);
        foreach (var p in progress.Priorities)
        {
            var change = page.Locator($"tr[data-priority='{p.PriorityId}'] [data-testid=change]");
            Assert.Equal(p.Change.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture), await change.GetAttributeAsync("data-change"));
            Assert.Equal(p.PValue.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), await change.GetAttributeAsync("data-p"));
            await Assertions.Expect(page.Locator($"tr[data-priority='{p.PriorityId}'] [data-testid=target-met]")).ToHaveCountAsync(p.TargetMet ? 1 : 0);
        }

        // An accepted idea of the 1% challenge becomes part of a priority.
        var idea = (await Governance().ListIdeasAsync(new ListIdeasRequest { States = { IdeaState.Accepted } })).Ideas.First();
        var priority = progress.Sprint.Priorities.Last();
        await page.Locator("[data-testid=link-priority]").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = priority.Title }).ClickAsync();
        await page.Locator("[data-testid=link-item]").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = idea.Title }).ClickAsync();
        await page.Locator("[data-testid=link]").ClickAsync();
        await Assertions.Expect(page.Locator($"tr[data-priority='{priority.Id}'] [data-testid=linked]")).ToContainTextAsync(idea.Title);
        Assert.Contains(idea.Id, (await Governance().GetSprintAsync(new GetSprintRequest { SprintId = sprint.Id })).Sprint.Priorities.Single(p => p.Id == priority.Id).IdeaIds);
        await ConsoleHost.ScreenshotAsync(page, "sprints-board-1280");

        await page.Locator("[data-testid=print-link]").ClickAsync();
        await page.WaitForURLAsync($"**/sprints/{sprint.Id}/print");
        await Assertions.Expect(page.Locator("[data-testid=title]")).ToContainTextAsync(sprint.Name);
        await Assertions.Expect(page.Locator("[data-testid=priorities] tr[data-priority]")).ToHaveCountAsync(progress.Priorities.Count);
        await ConsoleHost.ScreenshotAsync(page, "sprint-plan");
        Assert.Equal(1, await PrintedPagesAsync(page));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Anyone_proposes_an_idea_each_member_votes_once_and_a_journey_owner_accepts_it()
    {
        var title = $"Name the roaster on the bag {Guid.NewGuid():N}"[..40];
        var analyst = await host.SignInAsync("analyst");
        await host.GoAsync(analyst, "/ideas");
        await analyst.Locator("[data-testid=submit-idea]").ClickAsync();
        await Assertions.Expect(analyst.Locator("[data-testid=propose] .mud-input-helper-text.mud-input-error").First).ToBeVisibleAsync();
        await analyst.Locator("input[data-testid=idea-title]").FillAsync(title);
        await analyst.Locator("[data-testid=idea-effort]").ClickAsync();
        await analyst.Locator(".mud-popover-open .mud-list-item", new() { HasText = "low" }).ClickAsync();
        await analyst.Locator("[data-testid=submit-idea]").ClickAsync();
        var row = analyst.Locator("tr[data-idea]", new() { HasText = title });
        await Assertions.Expect(row.Locator("[data-testid=idea-state]")).ToHaveTextAsync("proposed");
        await row.Locator("[data-testid=vote]").ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=votes]")).ToHaveTextAsync("1");
        await row.Locator("[data-testid=vote]").ClickAsync();
        await Assertions.Expect(analyst.Locator("[data-testid=error]")).ToContainTextAsync("already voted");
        await analyst.Context.CloseAsync();

        var owner = await host.SignInAsync("journey-owner");
        await host.GoAsync(owner, "/ideas");
        row = owner.Locator("tr[data-idea]", new() { HasText = title });
        await row.Locator("[data-testid=vote]").ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=votes]")).ToHaveTextAsync("2");
        await row.Locator("[data-advance=Accepted]").ClickAsync();
        await owner.Locator("input[data-testid=advance-note]").FillAsync("Cheap and visible");
        await owner.Locator("[data-testid=advance]").ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=idea-state]")).ToHaveTextAsync("accepted");

        var idea = (await Governance().ListIdeasAsync(new ListIdeasRequest { PageSize = 200 })).Ideas.Single(i => i.Title == title);
        Assert.Equal((IdeaState.Accepted, 2L, "raj.patel", "Cheap and visible"), (idea.State, idea.Votes, idea.SubmittedBy, idea.DecisionNote));
        await owner.Context.CloseAsync();
    }

    [Fact]
    public async Task A_case_study_is_created_from_a_detractor_written_up_and_printed_on_one_page()
    {
        var page = await host.SignInAsync("admin");
        await host.GoAsync(page, "/feedback?question_id=nps&max_rating=6&polarity=negative");
        var first = page.Locator("[data-testid=items] tr[data-item]").First;
        var feedbackId = await first.GetAttributeAsync("data-item");
        await first.Locator("[data-testid=open]").ClickAsync();
        var verbatim = await page.Locator("[data-testid=drawer-text]").InnerTextAsync();
        await page.Locator("[data-testid=create-case-study]").ClickAsync();
        await page.WaitForURLAsync(new Regex("/case-studies/[0-9a-f-]{36}$"));
        var id = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        await Assertions.Expect(page.Locator("[data-testid=verbatim]")).ToHaveTextAsync(verbatim);

        await page.Locator("[data-testid=edit]").ClickAsync();
        await page.Locator("textarea[data-testid=edit-lessons]").FillAsync("Promise only the slots the courier confirmed\nTell the customer before they have to ask");
        await page.Locator("textarea[data-testid=edit-customer-pain-points]").FillAsync("Waited at home for nothing");
        await page.Locator("[data-testid=save]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=lessons] li")).ToHaveCountAsync(2);

        var study = (await Governance().GetCaseStudyAsync(new GetCaseStudyRequest { CaseStudyId = id })).CaseStudy;
        Assert.Equal((feedbackId, verbatim), (study.FeedbackId, study.RedactedVerbatim));
        Assert.Equal(["Promise only the slots the courier confirmed", "Tell the customer before they have to ask"], study.Lessons);
        Assert.Equal(["Waited at home for nothing"], study.CustomerPainPoints);

        await host.GoAsync(page, "/case-studies");
        await Assertions.Expect(page.Locator($"tr[data-case-study='{id}']")).ToHaveCountAsync(1);
        await page.GotoAsync(host.BaseUrl + $"/case-studies/{id}/print");
        await Assertions.Expect(page.Locator("[data-testid=title]")).ToHaveTextAsync(study.Title);
        await ConsoleHost.ScreenshotAsync(page, "case-study-print");
        Assert.Equal(1, await PrintedPagesAsync(page));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_sharing_agreement_is_refused_to_the_admin_who_submitted_it_and_approved_by_a_second_admin()
    {
        // Mei Chen registers a partner and submits its agreement (as an internal app would, through the partner API).
        var partners = host.Client<PartnerService.PartnerServiceClient>(Roles.Admin, "mei.chen");
        var partnerId = $"mill-{Guid.NewGuid():N}"[..20];
        await partners.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = new CxMesh.Partner.V1.Partner { Id = partnerId, Name = "Stone Mill", Kind = PartnerKind.Supplier } });
        await partners.AddMappingAsync(new AddMappingRequest { Mapping = new Mapping { PartnerId = partnerId, Kind = MappingKind.Product, Value = "stone-ground" } });
        var draft = (await partners.ProposeAgreementAsync(new ProposeAgreementRequest
        {
            Agreement = new Agreement
            {
                PartnerId = partnerId,
                Fields = { SharedField.Ratings, SharedField.Themes },
                Scope = { new Mapping { Kind = MappingKind.Product, Value = "stone-ground" } },
                MinGroupSize = 10,
                Cadence = "0 6 1 * *",
                RetentionDays = 180,
            },
        })).Agreement;
        await partners.SubmitAgreementAsync(new SubmitAgreementRequest { AgreementId = draft.AgreementId, Version = draft.Version });
        var key = $"{draft.AgreementId}/{draft.Version}";

        var mei = await host.SignInAsync("admin");
        var card = mei.Locator($"[data-approval='{key}']");
        // The submission reaches governance as an event: the page lists it once it has arrived.
        for (var i = 0; i < 60 && await card.CountAsync() == 0; i++)
        {
            await host.GoAsync(mei, "/governance/sharing");
            if (await card.CountAsync() == 0) await Task.Delay(500);
        }
        await Assertions.Expect(card.Locator("[data-testid=k]")).ToHaveTextAsync("10");
        await card.Locator("[data-testid=approve]").ClickAsync();
        await Assertions.Expect(card.Locator("[data-testid=error]")).ToContainTextAsync("another admin must");
        await Assertions.Expect(card.Locator("[data-testid=approval-state]")).ToHaveTextAsync("pending");
        await ConsoleHost.ScreenshotAsync(mei, "governance-sharing-four-eyes");
        await mei.Context.CloseAsync();

        var tom = await host.SignInAsync("approver");
        await host.GoAsync(tom, "/governance/sharing");
        card = tom.Locator($"[data-approval='{key}']");
        await card.Locator("[data-testid=reject]").ClickAsync();
        await Assertions.Expect(card.Locator(".mud-input-helper-text.mud-input-error")).ToContainTextAsync("reason");
        await card.Locator("input[data-testid=reason]").FillAsync("Fields and k reviewed");
        await card.Locator("[data-testid=approve]").ClickAsync();
        await Assertions.Expect(card.Locator("[data-testid=approval-state]")).ToHaveTextAsync("approved");

        var decided = (await Governance().ListSharingApprovalsAsync(new ListSharingApprovalsRequest { States = { ApprovalState.Approved } })).Approvals
            .Single(a => a.AgreementId == draft.AgreementId && a.Version == draft.Version);
        Assert.Equal(("tom.reyes", "mei.chen"), (decided.DecidedBy, decided.SubmittedBy));
        await tom.Context.CloseAsync();
    }

    [Fact]
    public async Task The_audit_log_verifies_as_governance_verifies_it()
    {
        var page = await host.SignInAsync("admin");
        await host.GoAsync(page, "/governance/audit");
        await page.Locator("[data-testid=entries] tr[data-sequence]").First.WaitForAsync();
        await page.Locator("[data-testid=verify]").ClickAsync();
        var verified = await Governance().VerifyAuditLogAsync(new VerifyAuditLogRequest());
        Assert.True(verified.Intact);
        await Assertions.Expect(page.Locator("[data-testid=verified]")).ToHaveAttributeAsync("data-intact", "true");
        // The head may have moved on between the page's check and the test's: the page's count is at most the test's.
        var shown = long.Parse(Regex.Match(await page.Locator("[data-testid=verified]").InnerTextAsync(), @"all ([\d,]+) entries").Groups[1].Value.Replace(",", ""));
        Assert.InRange(shown, 1, verified.Entries);
        Assert.Equal("1", await page.Locator("[data-testid=entries] tr[data-sequence]").First.GetAttributeAsync("data-sequence"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_analyst_is_not_offered_governance_and_the_service_refuses_it_if_they_go_there()
    {
        var page = await host.SignInAsync("analyst");
        await Assertions.Expect(page.Locator("a[href='/governance/sharing']")).ToHaveCountAsync(0);
        await host.GoAsync(page, "/governance/audit");
        await Assertions.Expect(page.Locator("[data-testid=error]")).ToContainTextAsync("does not allow");
        await Assertions.Expect(page.Locator("[data-testid=entries]")).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task When_the_session_ends_a_half_written_form_survives_signing_in_again()
    {
        var page = await host.SignInAsync("analyst", shortSession: true);
        await host.GoAsync(page, "/ideas");
        var title = $"Refill pouches {Guid.NewGuid():N}"[..30];
        await page.Locator("input[data-testid=idea-title]").FillAsync(title);
        await page.Locator("textarea[data-testid=idea-description]").FillAsync("Half of our customers asked for them");
        await page.Locator("[data-testid=idea-effort]").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "medium" }).ClickAsync();
        // The 15-second session and its token (2 s of clock skew) run out while the person writes.
        await Task.Delay(TimeSpan.FromSeconds(19));
        await page.Locator("[data-testid=submit-idea]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=error]")).ToContainTextAsync("session has ended");

        // Continuing before signing in again is refused; after signing in (another tab), the same page goes on.
        await page.Locator("[data-testid=continue-session]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=error]")).ToContainTextAsync("Not signed in yet");
        var tab = await page.Context.RunAndWaitForPageAsync(() => page.Locator("[data-testid=sign-in-again]").ClickAsync());
        await tab.Locator("button[data-person='analyst']").ClickAsync();
        await Assertions.Expect(tab.Locator("[data-testid=signed-in-again]")).ToBeVisibleAsync();
        await tab.CloseAsync();
        await page.Locator("[data-testid=continue-session]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=session-renewed]")).ToBeVisibleAsync();
        Assert.Equal(title, await page.Locator("input[data-testid=idea-title]").InputValueAsync());
        await page.Locator("[data-testid=submit-idea]").ClickAsync();
        await Assertions.Expect(page.Locator("tr[data-idea]", new() { HasText = title })).ToHaveCountAsync(1);
        var idea = (await Governance().ListIdeasAsync(new ListIdeasRequest { PageSize = 200 })).Ideas.Single(i => i.Title == title);
        Assert.Equal(("raj.patel", "Half of our customers asked for them"), (idea.SubmittedBy, idea.Description));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_journey_owner_sets_up_an_email_channel_sees_a_refused_address_beside_its_field_and_reads_the_delivery_log()
    {
        var page = await host.SignInAsync("journey-owner");
        await host.GoAsync(page, "/notifications");
        await page.Locator("input[data-testid=channel-address]").FillAsync("ana at example");
        await page.Locator("[data-testid=save-channel]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=channel-form] .mud-input-helper-text.mud-input-error")).ToContainTextAsync("channel.address");

        await page.Locator("input[data-testid=channel-address]").FillAsync("ana.silva@example.test");
        await page.Locator("input[data-topic=PartnerResponse]").CheckAsync();
        await page.Locator("[data-testid=save-channel]").ClickAsync();
        var channel = page.Locator("[data-channel]", new() { HasText = "ana.silva@example.test" });
        await Assertions.Expect(channel).ToContainTextAsync("partner responses");

        // The console's test host has no SMTP relay: the test message is tried and the log says why it did not go.
        await channel.Locator("[data-testid=test-channel]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=notification-deliveries] tr[data-delivery]").First).ToContainTextAsync("CxMesh test notification");
        var notifications = host.Client<CxMesh.Notifications.V1.NotificationService.NotificationServiceClient>(Roles.JourneyOwner, "ana.silva");
        var attempted = await ConsoleHost.Eventually(async () => (await notifications.ListNotificationDeliveriesAsync(new())).Deliveries.FirstOrDefault(d => d.Attempts > 0));
        Assert.Contains("Notifications:Smtp:Host", attempted.LastError);
        await page.Locator("[data-testid=refresh-deliveries]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=notification-deliveries]")).ToContainTextAsync("Notifications:Smtp:Host");
        await page.Context.CloseAsync();
    }
}
