using CxMesh.Platform.Auth;
using CxMesh.Scoring.V1;
using CxMesh.TestKit;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace CxMesh.Web.Tests;

/// <summary>The CX console in Chromium, against the one binary with the demo data.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleTests(ConsoleHost host)
{
    private static Task ScreenshotAsync(IPage page, string name) => ConsoleHost.ScreenshotAsync(page, name);

    [Fact]
    public async Task Without_signing_in_every_page_leads_to_the_sign_in_page_and_back_after_it()
    {
        var context = await host.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(host.BaseUrl + "/actions");
        Assert.Contains("/signin", page.Url);
        await page.Locator("button[data-person='analyst']").ClickAsync();
        await page.WaitForURLAsync(u => u.EndsWith("/actions", StringComparison.Ordinal));
        await ConsoleHost.Interactive(page);
        Assert.Contains("raj.patel", await page.Locator("[data-testid=person]").InnerTextAsync());
        await context.CloseAsync();
    }

    [Fact]
    public async Task The_overview_shows_each_journey_s_NPS_as_scoring_gives_it_with_n_and_the_open_actions()
    {
        var page = await host.SignInAsync("analyst");
        await page.Locator("[data-testid=journeys] tr[data-journey]").First.WaitForAsync();
        var scoring = host.Client<ScoringService.ScoringServiceClient>(Roles.Analyst, "raj.patel");
        var ranked = await scoring.RankScopesAsync(new RankScopesRequest
        {
            Parent = new Scope(),
            Dimension = DimensionKind.Journey,
            Metric = CxMesh.Common.V1.Metric.Nps,
            Window = new Window { LastDays = 30 },
        });
        Assert.NotEmpty(ranked.Ranked);
        foreach (var r in ranked.Ranked)
        {
            var key = r.Scope.Dimensions.Single().Value;
            var score = page.Locator($"tr[data-journey='{key}'] [data-testid=score]");
            Assert.Equal(r.Score.N.ToString(), await score.GetAttributeAsync("data-n"));
            Assert.Equal(r.Score.Value.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture), await score.GetAttributeAsync("data-value"));
            // The change against the 30 days before, marked when scoring finds it significant.
            var today = DateOnly.FromDateTime(DateTime.UtcNow);
            var change = await scoring.CompareScoresAsync(new CompareScoresRequest
            {
                Metric = CxMesh.Common.V1.Metric.Nps,
                A = new ScoreQuery { Scope = r.Scope, Window = new Window { LastDays = 30 } },
                B = new ScoreQuery { Scope = r.Scope, Window = new Window { Range = new DateRange { StartDate = today.AddDays(-59).ToString("yyyy-MM-dd"), EndDate = today.AddDays(-30).ToString("yyyy-MM-dd") } } },
            });
            Assert.Equal(change.Significant ? "true" : "false", await page.Locator($"tr[data-journey='{key}'] [data-testid=change]").GetAttributeAsync("data-significant"));
        }
        // CSAT per journey, as scoring ranks it.
        await page.Locator("[data-metric=csat]").ClickAsync();
        var csat = await scoring.RankScopesAsync(new RankScopesRequest
        {
            Parent = new Scope(),
            Dimension = DimensionKind.Journey,
            Metric = CxMesh.Common.V1.Metric.Csat,
            Window = new Window { LastDays = 30 },
        });
        foreach (var r in csat.Ranked.Where(r => r.Score.HasValue))
        {
            var score = page.Locator($"tr[data-journey='{r.Scope.Dimensions.Single().Value}'] [data-testid=score]");
            await Assertions.Expect(score).ToHaveAttributeAsync("data-value", r.Score.Value.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(r.Score.N.ToString(), await score.GetAttributeAsync("data-n"));
        }
        var governance = host.Client<CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient>(Roles.Analyst, "raj.patel");
        var open = await governance.ListActionsAsync(new CxMesh.Governance.V1.ListActionsRequest
        {
            States = { CxMesh.Governance.V1.ActionState.Open, CxMesh.Governance.V1.ActionState.InProgress },
            PageSize = 200,
        });
        Assert.Equal(open.Actions.Count + (open.NextPageToken.Length > 0 ? "+" : ""), (await page.Locator("[data-testid=open-actions]").InnerTextAsync()).Replace(",", ""));
        await ScreenshotAsync(page, "overview-1280");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_overview_shows_the_CX_code_measured_by_its_themes_and_the_running_sprint_as_governance_reads_it()
    {
        var page = await host.SignInAsync("journey-owner");
        var governance = host.Client<CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient>(Roles.JourneyOwner, "ana.silva");
        var code = (await governance.GetCxCodeAsync(new CxMesh.Governance.V1.GetCxCodeRequest())).Code;
        Assert.InRange(code.Drivers.Count, 3, 5);
        var voice = await host.Client<ScoringService.ScoringServiceClient>(Roles.JourneyOwner, "ana.silva").GetVoiceTrendAsync(new GetVoiceTrendRequest
        {
            Window = new Window { LastDays = 30 },
            Granularity = Granularity.Month,
            ThemeKeys = { code.Drivers.Select(d => d.ThemeKey) },
        });
        foreach (var driver in code.Drivers)
        {
            var mentions = voice.Total.Themes.FirstOrDefault(t => t.ThemeKey == driver.ThemeKey)?.Mentions ?? 0;
            await Assertions.Expect(page.Locator($"[data-testid=cx-code] tr[data-driver='{driver.ThemeKey}'] [data-testid=mentions]")).ToHaveTextAsync(mentions.ToString("N0"));
        }
        var running = (await governance.ListSprintsAsync(new CxMesh.Governance.V1.ListSprintsRequest())).Sprints
            .Single(s => string.CompareOrdinal(s.StartDate, DateTime.UtcNow.ToString("yyyy-MM-dd")) <= 0 && string.CompareOrdinal(DateTime.UtcNow.ToString("yyyy-MM-dd"), s.EndDate) <= 0);
        var progress = await governance.GetSprintProgressAsync(new CxMesh.Governance.V1.GetSprintProgressRequest { SprintId = running.Id });
        await Assertions.Expect(page.Locator("[data-testid=sprint] tr[data-priority]")).ToHaveCountAsync(progress.Priorities.Count);
        await Assertions.Expect(page.Locator("[data-testid=sprint]")).ToContainTextAsync(running.Name);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_journey_page_shows_its_score_drivers_touchpoints_and_funnel()
    {
        var page = await host.SignInAsync("journey-owner");
        await page.GotoAsync(host.BaseUrl + "/journeys/coffee-subscription");
        await ConsoleHost.Interactive(page);
        await page.Locator("[data-testid=funnel] tr[data-stage]").First.WaitForAsync();
        Assert.NotEqual("—", await page.Locator("[data-testid=owner]").InnerTextAsync());
        // Themes with their sentiment as scoring gives them; a journey owner does not read single feedback items.
        var voice = await host.Client<ScoringService.ScoringServiceClient>(Roles.JourneyOwner, "ana.silva").GetVoiceTrendAsync(new GetVoiceTrendRequest
        {
            Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Journey, Value = "coffee-subscription" } } },
            Window = new Window { LastDays = 30 },
            Granularity = Granularity.Month,
        });
        var top = voice.Total.Themes.OrderByDescending(t => t.Mentions).First();
        await Assertions.Expect(page.Locator($"[data-testid=themes] tr[data-theme='{top.ThemeKey}'] [data-testid=mentions]")).ToContainTextAsync(top.Mentions.ToString("N0"));
        await Assertions.Expect(page.Locator("[data-testid=verbatims]")).ToContainTextAsync("does not read individual feedback");
        await ScreenshotAsync(page, "journey-1280");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_value_and_stages_pages_show_what_scoring_computes_from_the_demo_club()
    {
        var scoring = host.Client<ScoringService.ScoringServiceClient>(Roles.Analyst, "raj.patel");
        // The club's answers and touchpoints reach scoring through events: wait until its figures are there.
        var value = await Eventually.Until(() => scoring.GetValueOfExperienceAsync(new GetValueOfExperienceRequest()).ResponseAsync,
            v => v.Classes.Sum(c => c.Customers) > 100 && v.JourneyMinusTouchpointAuc.HasValue, TimeSpan.FromMinutes(2), "the demo club scored");
        var page = await host.SignInAsync("analyst");
        await page.GotoAsync(host.BaseUrl + "/value");
        await ConsoleHost.Interactive(page);
        foreach (var c in value.Classes)
        {
            await Assertions.Expect(page.Locator($"[data-testid=value-classes] tr[data-class='{c.NpsClass.ToString().ToLowerInvariant()}'] [data-testid=customers]"))
                .ToHaveTextAsync(c.Customers.ToString("N0"));
        }
        await Assertions.Expect(page.Locator("[data-testid=predictors] tr[data-level=journey]")).ToHaveCountAsync(value.Journeys.Count);
        await Assertions.Expect(page.Locator("[data-testid=verdict]")).ToContainTextAsync(value.JourneysPooled.Auc.ToString("0.000"));

        var stages = await scoring.GetRelationshipStagesAsync(new GetRelationshipStagesRequest());
        await page.GotoAsync(host.BaseUrl + "/stages?path=first-purchase");
        await ConsoleHost.Interactive(page);
        foreach (var s in stages.Stages)
        {
            await Assertions.Expect(page.Locator($"[data-testid=stages] tr[data-stage='{s.StageKey}'] [data-testid=customers]")).ToHaveTextAsync(s.Customers.ToString("N0"));
        }
        var move = stages.Transitions.First(t => t.FromStage == "first-purchase" && t.ToStage == "repeat");
        await Assertions.Expect(page.Locator("[data-testid=transitions] tr[data-from='first-purchase'] td[data-to='repeat']")).ToContainTextAsync(move.Customers.ToString("N0"));
        // The path map leads with the planted experience: the tasting workshop precedes moving up.
        var paths = await scoring.GetStagePathsAsync(new GetStagePathsRequest { StageKey = "first-purchase" });
        await Assertions.Expect(page.Locator("[data-testid=path-map] tbody tr").First).ToHaveAttributeAsync("data-experience", paths.Steps[0].Experience);
        Assert.Equal("tasting-workshop", paths.Steps.First(s => s.DifferencePoints.Significant && s.Lift > 1 && s.TouchpointKey != "referral-order").TouchpointKey);
        await ScreenshotAsync(page, "stages-1280");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_stores_page_shows_eNPS_beside_NPS_and_a_shops_scorecard_with_its_praise()
    {
        var scoring = host.Client<ScoringService.ScoringServiceClient>(Roles.Analyst, "raj.patel");
        // The shops' answers reach scoring through events: wait until every shop's are there.
        var comparison = await Eventually.Until(() => scoring.CompareUnitsAsync(new CompareUnitsRequest { Kind = CxMesh.Common.V1.UnitKind.Store }).ResponseAsync,
            c => c.Units.Count == 6 && c.Units.All(u => u.Nps.N == 180) && c.Correlation.HasValue, TimeSpan.FromMinutes(2), "the demo shops scored");
        // Planted: the staff's mood moves the customers' NPS; one shop's eNPS is withheld.
        Assert.True(comparison.Correlation.R > 0.7, $"r = {comparison.Correlation.R:0.00}");
        Assert.Single(comparison.Units, u => u.EnpsWithheld);

        var page = await host.SignInAsync("analyst");
        await page.GotoAsync(host.BaseUrl + "/units");
        await ConsoleHost.Interactive(page);
        foreach (var u in comparison.Units)
        {
            await Assertions.Expect(page.Locator($"[data-testid=units] tr[data-unit='{u.Unit.Key}'] [data-testid=nps]")).ToContainTextAsync($"n = {u.Nps.N:N0}");
        }
        await Assertions.Expect(page.Locator("[data-testid=units] tbody tr").First).ToHaveAttributeAsync("data-unit", comparison.Units[0].Unit.Key);
        await Assertions.Expect(page.Locator("[data-testid=correlation]")).ToContainTextAsync(comparison.Correlation.R.ToString("0.00"));

        await page.Locator($"[data-testid=units] tr[data-unit='shop-jingan'] a").ClickAsync();
        var card = await scoring.GetUnitScorecardAsync(new GetUnitScorecardRequest { UnitKey = "shop-jingan" });
        await Assertions.Expect(page.Locator("[data-testid=card-praise]")).ToHaveTextAsync(card.Praise.ToString("N0"));
        await Assertions.Expect(page.Locator("[data-testid=card-rank]")).ToContainTextAsync($"{card.NpsRank} of {card.Peers}");
        Assert.True(card.Praise > 0);
        await Assertions.Expect(page.Locator("[data-testid=praise] li").First).ToBeVisibleAsync();
        await ScreenshotAsync(page, "units-1280");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_admin_resolves_an_action_and_a_missing_root_cause_is_shown_beside_its_field()
    {
        var page = await host.SignInAsync("admin");
        await page.GotoAsync(host.BaseUrl + "/actions");
        await ConsoleHost.Interactive(page);
        var first = page.Locator("[data-action]").First;
        var id = await first.GetAttributeAsync("data-action");
        await first.Locator(".mud-expand-panel-header").ClickAsync();
        var panel = page.Locator($"[data-action='{id}']");
        await panel.GetByRole(AriaRole.Tab, new() { Name = "Resolve" }).ClickAsync();
        await panel.Locator("[data-testid=resolve]").ClickAsync();
        // The service names the field; the console shows it there.
        await panel.Locator(".mud-input-helper-text.mud-input-error").First.WaitForAsync();
        await panel.Locator("input[data-testid=root-cause]").FillAsync("Courier missed the slot");
        await panel.Locator("textarea[data-testid=resolution]").FillAsync("Called the customer back and re-sent the beans");
        await panel.Locator("[data-testid=resolve]").ClickAsync();

        // The text waited for before was the textarea's own (there at once): wait for the service to hold the resolution.
        var governance = host.Client<CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient>(Roles.Admin, "mei.chen");
        var action = await Eventually.Until(async () => (await governance.GetActionAsync(new CxMesh.Governance.V1.GetActionRequest { ActionId = id })).Action,
            a => a.State == CxMesh.Governance.V1.ActionState.Resolved, TimeSpan.FromSeconds(60), "the action resolved");
        Assert.Equal("Courier missed the slot", action.RootCause);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_analyst_may_read_actions_but_the_service_refuses_their_resolving_one()
    {
        var page = await host.SignInAsync("analyst");
        await page.GotoAsync(host.BaseUrl + "/actions");
        await ConsoleHost.Interactive(page);
        var first = page.Locator("[data-action]").First;
        await first.Locator(".mud-expand-panel-header").ClickAsync();
        await first.GetByRole(AriaRole.Tab, new() { Name = "Resolve" }).ClickAsync();
        await first.Locator("input[data-testid=root-cause]").FillAsync("Because");
        await first.Locator("textarea[data-testid=resolution]").FillAsync("Something");
        await first.Locator("[data-testid=resolve]").ClickAsync();
        await Assertions.Expect(first.Locator("[data-testid=error]")).ToContainTextAsync("does not allow");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Switching_to_Chinese_and_back_changes_every_label_and_keeps_the_page()
    {
        var page = await host.SignInAsync("analyst");
        await page.Locator("a[data-culture='zh-CN']").ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("概览");
        await ConsoleHost.Interactive(page);
        await ScreenshotAsync(page, "overview-zh-1280");
        await page.Locator("a[data-culture='en']").ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Overview");
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/journeys/coffee-subscription")]
    [InlineData("/actions")]
    [InlineData("/value")]
    [InlineData("/stages")]
    [InlineData("/units?unit=shop-jingan")]
    [InlineData("/feedback")]
    [InlineData("/sprints")]
    [InlineData("/ideas")]
    [InlineData("/case-studies")]
    [InlineData("/governance/sharing")]
    [InlineData("/governance/audit")]
    [InlineData("/governance/vision")]
    [InlineData("/notifications")]
    public Task Every_page_has_no_serious_accessibility_violation_and_is_usable_at_390_px(string path) =>
        host.AssertUsableAsync("admin", path, path == "/" ? "overview" : path.Trim('/').Split('?')[0].Replace('/', '-'));

    [Fact]
    public async Task The_sign_in_page_has_no_serious_accessibility_violation()
    {
        var context = await host.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(host.BaseUrl + "/signin");
        var result = await page.RunAxe();
        Assert.DoesNotContain(result.Violations, v => v.Impact is "serious" or "critical");
        await ScreenshotAsync(page, "signin-1280");
        await context.CloseAsync();
    }
}
