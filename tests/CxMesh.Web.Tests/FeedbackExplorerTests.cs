using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using Microsoft.Playwright;

namespace CxMesh.Web.Tests;

/// <summary>The feedback explorer: every filter of ListFeedback, a view as a link, the item drawer and the CSV of a view.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class FeedbackExplorerTests(ConsoleHost host)
{
    private FeedbackService.FeedbackServiceClient Analyst => host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst, "raj.patel");

    private async Task<List<FeedbackItem>> AllAsync(ListFeedbackRequest request)
    {
        var items = new List<FeedbackItem>();
        do
        {
            var page = await Analyst.ListFeedbackAsync(request);
            items.AddRange(page.Items);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);
        return items;
    }

    [Fact]
    public async Task A_view_is_its_link_and_shows_what_ListFeedback_gives_for_its_filters()
    {
        var page = await host.SignInAsync("analyst");
        await page.GotoAsync(host.BaseUrl + "/feedback?polarity=negative&journey_key=delivery");
        await ConsoleHost.Interactive(page);
        var expected = await Analyst.ListFeedbackAsync(new ListFeedbackRequest { Polarity = CxMesh.Common.V1.Polarity.Negative, JourneyKey = "delivery", PageSize = 50 });
        Assert.NotEmpty(expected.Items);
        var rows = page.Locator("[data-testid=items] tr[data-item]");
        await Assertions.Expect(rows).ToHaveCountAsync(expected.Items.Count);
        Assert.Equal(expected.Items.Select(i => i.Id), await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.item)"));
        Assert.All(await page.Locator("[data-testid=items] td[data-polarity]").AllInnerTextsAsync(), p => Assert.Equal("negative", p));

        // A filter typed and applied becomes part of the link.
        await page.Locator("input[data-filter=theme_key]").FillAsync("delivery");
        await page.Locator("[data-testid=apply]").ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("theme_key=delivery", StringComparison.Ordinal));
        var themed = await Analyst.ListFeedbackAsync(new ListFeedbackRequest { Polarity = CxMesh.Common.V1.Polarity.Negative, JourneyKey = "delivery", ThemeKey = "delivery", PageSize = 50 });
        await Assertions.Expect(rows).ToHaveCountAsync(themed.Items.Count);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleHost.Artefacts, "feedback-1280.png"), FullPage = true });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_refused_filter_is_named_beside_its_field()
    {
        var page = await host.SignInAsync("analyst");
        await page.GotoAsync(host.BaseUrl + "/feedback?question_id=nps&min_rating=9&max_rating=2");
        await ConsoleHost.Interactive(page);
        var field = page.Locator(".mud-input-control", new PageLocatorOptions { Has = page.Locator("input[data-filter=max_rating]") });
        await Assertions.Expect(field.Locator(".mud-input-helper-text.mud-input-error")).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_item_opens_in_a_drawer_with_its_text_themes_and_the_customer_s_journeys()
    {
        var page = await host.SignInAsync("analyst");
        await page.GotoAsync(host.BaseUrl + "/feedback?journey_key=coffee-subscription");
        await ConsoleHost.Interactive(page);
        var first = page.Locator("[data-testid=items] tr[data-item]").First;
        var id = await first.GetAttributeAsync("data-item");
        await first.Locator("[data-testid=open]").ClickAsync();
        var item = (await Analyst.GetFeedbackAsync(new GetFeedbackRequest { Id = id })).Item;
        await Assertions.Expect(page.Locator("[data-testid=drawer-text]")).ToHaveTextAsync(item.RedactedVerbatim);
        if (item.Themes.Count > 0) await Assertions.Expect(page.Locator("[data-testid=drawer-themes]")).ToContainTextAsync(item.Themes[0].ThemeKey);
        Assert.NotEmpty(item.CustomerId);
        var journeys = await host.Client<CxMesh.Journey.V1.JourneyService.JourneyServiceClient>(Roles.Analyst, "raj.patel")
            .GetCustomerJourneysAsync(new CxMesh.Journey.V1.GetCustomerJourneysRequest { CustomerId = item.CustomerId, MaxInstances = 5 });
        if (journeys.Instances.Count == 0) await Assertions.Expect(page.Locator("[data-testid=no-journeys]")).ToBeVisibleAsync();
        else await Assertions.Expect(page.Locator("[data-testid=timeline]")).ToHaveCountAsync(journeys.Instances.Count);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_CSV_of_a_view_holds_every_item_of_it_and_a_role_that_may_not_list_feedback_gets_403()
    {
        var page = await host.SignInAsync("analyst");
        var response = await page.Context.APIRequest.GetAsync(host.BaseUrl + "/feedback/export.csv?channel=complaint");
        Assert.Equal(200, response.Status);
        var lines = (await response.TextAsync()).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("id,given_at,channel", lines[0]);
        var expected = await AllAsync(new ListFeedbackRequest { Channel = CxMesh.Common.V1.Channel.Complaint, PageSize = 200 });
        Assert.Equal(expected.Select(i => i.Id), lines.Skip(1).Select(l => l.Split(',')[0]));
        await page.Context.CloseAsync();

        var owner = await host.SignInAsync("journey-owner");
        Assert.Equal(403, (await owner.Context.APIRequest.GetAsync(host.BaseUrl + "/feedback/export.csv")).Status);
        await owner.GotoAsync(host.BaseUrl + "/feedback");
        await Assertions.Expect(owner.Locator("[data-testid=error]")).ToContainTextAsync("does not allow");
        await owner.Context.CloseAsync();
    }
}
