using CxMesh.Governance.V1;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using Microsoft.Playwright;

namespace CxMesh.Web.Tests;

/// <summary>The supplier portal in Chromium: a partner's user reads and answers its report; the CX team answers it in the console.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class PortalTests(ConsoleHost host)
{
    private PartnerService.PartnerServiceClient Courier => host.Client<PartnerService.PartnerServiceClient>(Roles.Partner, "kofi.mensah", "demo-partner");

    [Fact]
    public async Task A_courier_disputes_an_item_the_cx_team_answers_it_in_the_console_and_the_courier_reads_the_answer_no_other_partner_sees_it()
    {
        var report = (await Courier.ListMyReportsAsync(new ListMyReportsRequest())).Reports.First();
        var page = await host.SignInAsync("partner");
        Assert.EndsWith("/portal", page.Url);
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Swift Courier");
        // Its own dimension only: the delivery touchpoint, no products or lots.
        await Assertions.Expect(page.Locator("[data-breakdown=touchpoint]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-breakdown=lot], [data-breakdown=product]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=trend]")).ToHaveCountAsync(1);
        if (!report.Nps.Suppressed)
        {
            await Assertions.Expect(page.Locator("[data-metric=NPS] [data-testid=figure]")).ToHaveTextAsync(report.Nps.Value.ToString("0.0", System.Globalization.CultureInfo.GetCultureInfo("en-US")));
        }

        var item = page.Locator("[data-item]").First;
        var feedbackId = await item.GetAttributeAsync("data-item");
        await item.Locator("[data-testid=dispute]").ClickAsync();
        await item.Locator("[data-testid=send-dispute]").ClickAsync();
        // No reason: the service names the field and the portal shows it there.
        await Assertions.Expect(item.Locator(".mud-input-helper-text.mud-input-error")).ToContainTextAsync("reason");
        await item.Locator("textarea[data-testid=dispute-reason]").FillAsync("This parcel was handed to another carrier on the way");
        await item.Locator("[data-testid=send-dispute]").ClickAsync();
        await Assertions.Expect(item.Locator("[data-testid=disputed]")).ToContainTextAsync("open");

        // The dispute becomes an action of the CX programme; an admin opens it in the console and settles it.
        var governance = host.Client<GovernanceService.GovernanceServiceClient>(Roles.Admin, "mei.chen");
        var action = await ConsoleHost.Eventually(async () => (await governance.ListActionsAsync(new ListActionsRequest { PageSize = 200 })).Actions
            .FirstOrDefault(a => a.Source == "partner-dispute" && a.Title.Contains(feedbackId!, StringComparison.Ordinal)));
        var console = await host.SignInAsync("admin");
        await host.GoAsync(console, $"/actions?open={action.Id}");
        var panel = console.Locator($"[data-action='{action.Id}']");
        await Assertions.Expect(panel).ToContainTextAsync("handed to another carrier");
        await panel.GetByRole(AriaRole.Tab, new() { Name = "Resolve" }).ClickAsync();
        await panel.Locator("input[data-testid=root-cause]").FillAsync("Item belongs to the regional carrier");
        await panel.Locator("textarea[data-testid=resolution]").FillAsync("Agreed: moved to the regional carrier's report");
        await panel.Locator("[data-testid=resolve]").ClickAsync();
        await Assertions.Expect(panel.Locator("[data-testid=state]")).ToHaveTextAsync("resolved");
        await console.Context.CloseAsync();

        // The courier reads the CX team's answer beside its dispute.
        await ConsoleHost.Eventually(async () => (await Courier.ListMyResponsesAsync(new ListMyResponsesRequest())).Responses
            .FirstOrDefault(r => r.FeedbackId == feedbackId && r.Outcome.Length > 0));
        await host.GoAsync(page, "/portal/answers");
        var answered = page.Locator("[data-kind=dispute]", new() { HasText = "another carrier" });
        await Assertions.Expect(answered.Locator("[data-testid=outcome]")).ToContainTextAsync("moved to the regional carrier's report");
        await Assertions.Expect(answered.Locator("[data-testid=response-status]")).ToHaveTextAsync("resolved");
        await page.Context.CloseAsync();

        // A farm's user sees none of it: not the dispute, not the courier's report.
        var farm = await host.SignInAsync("farm");
        await host.GoAsync(farm, "/portal/answers");
        await Assertions.Expect(farm.Locator("text=another carrier")).ToHaveCountAsync(0);
        await host.GoAsync(farm, $"/portal/reports/{report.ReportId}");
        await Assertions.Expect(farm.Locator("[data-testid=error]")).ToHaveCountAsync(1);
        await Assertions.Expect(farm.Locator("[data-item]")).ToHaveCountAsync(0);
        var download = await farm.APIRequest.GetAsync($"{host.BaseUrl}/portal/reports/{report.ReportId}/download.csv");
        Assert.Equal(404, download.Status);
        await farm.Context.CloseAsync();
    }

    [Fact]
    public async Task The_courier_s_admin_sends_a_test_event_adds_a_user_and_assesses_itself_and_a_partner_user_never_reaches_the_console()
    {
        var page = await host.SignInAsync("partner");
        await host.GoAsync(page, "/portal/settings");
        await page.Locator("input[data-testid=webhook-url]").FillAsync("http://169.254.169.254/latest");
        await page.Locator("[data-testid=save-webhook]").ClickAsync();
        await Assertions.Expect(page.Locator(".mud-input-helper-text.mud-input-error")).ToContainTextAsync("webhook_url");

        await page.Locator("input[data-testid=user-subject]").FillAsync("yaw.boateng");
        await page.Locator("input[data-testid=user-name]").FillAsync("Yaw Boateng");
        await page.Locator("[data-testid=add-user]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-user='yaw.boateng']")).ToContainTextAsync("Yaw Boateng");

        foreach (var question in await page.Locator("fieldset.question").AllAsync()) await question.Locator("input[value='4']").CheckAsync();
        await page.Locator("[data-testid=send-assessment]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=assessments] tr[data-assessment]").First).ToContainTextAsync("kofi.mensah");
        var history = (await Courier.ListMyAssessmentsAsync(new ListMyAssessmentsRequest())).Assessments;
        Assert.Contains(history, a => a.SelfAssessed && a.AssessedBy == "kofi.mensah" && Math.Abs(a.Score - 75) < 0.01);

        // The console is not a partner's: any of its addresses leads back to the portal.
        await page.GotoAsync(host.BaseUrl + "/governance/audit");
        await page.WaitForURLAsync(u => u.EndsWith("/portal", StringComparison.Ordinal));
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData("/portal")]
    [InlineData("/portal/answers")]
    [InlineData("/portal/settings")]
    public Task Every_portal_page_has_no_serious_accessibility_violation_and_is_usable_at_390_px(string path) =>
        host.AssertUsableAsync("partner", path, path.Trim('/').Replace('/', '-'));
}
