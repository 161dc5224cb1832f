using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Grpc.Core;

namespace CxMesh.Feedback.Tests;

public sealed class ThemeTaxonomyTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly FeedbackService.FeedbackServiceClient _analyst = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);
    private readonly FeedbackService.FeedbackServiceClient _app = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);

    private static Theme RoastLevel(string key) => new() { Key = key, Name = "Roast level", Keywords = { "roast", "dark" }, Phrases = { "烘焙程度", "太焦" } };

    [Fact]
    public async Task The_default_CX_drivers_ship_with_the_service()
    {
        var keys = (await _app.ListThemesAsync(new ListThemesRequest())).Themes.Select(t => t.Key).ToList();
        Assert.Superset(new HashSet<string> { "waiting-time", "staff-friendliness", "product-quality", "price-value", "delivery", "ease-of-use",
            "communication", "problem-resolution", "taste", "freshness", "packaging" }, keys.ToHashSet());
    }

    [Fact]
    public async Task A_new_theme_is_recognised_in_feedback_received_afterwards_and_can_be_changed()
    {
        await _analyst.CreateThemeAsync(new CreateThemeRequest { Theme = RoastLevel("roast-level") });
        await RpcAssert.StatusAsync(() => _analyst.CreateThemeAsync(new CreateThemeRequest { Theme = RoastLevel("roast-level") }).ResponseAsync,
            StatusCode.AlreadyExists);

        SubmitFeedbackRequest Saying(string text) => new()
        {
            IdempotencyKey = $"theme-{Guid.NewGuid():N}",
            Channel = Channel.Review,
            Ratings = { new Rating { QuestionId = "nps", Value = 5 } },
            Verbatim = text,
        };
        Assert.Contains((await _app.SubmitFeedbackAsync(Saying("Far too dark a roast for me"))).Item.Themes, t => t.ThemeKey == "roast-level");
        Assert.Contains((await _app.SubmitFeedbackAsync(Saying("这次太焦了"))).Item.Themes, t => t.ThemeKey == "roast-level");

        var changed = RoastLevel("roast-level");
        changed.Keywords.Clear();
        changed.Keywords.Add("charred");
        await _analyst.UpdateThemeAsync(new UpdateThemeRequest { Theme = changed });
        Assert.DoesNotContain((await _app.SubmitFeedbackAsync(Saying("Far too dark a roast"))).Item.Themes, t => t.ThemeKey == "roast-level");
        Assert.Contains((await _app.SubmitFeedbackAsync(Saying("Tasted charred"))).Item.Themes, t => t.ThemeKey == "roast-level");
    }

    [Fact]
    public async Task Generic_terms_are_kept_and_name_a_theme_only_where_no_specific_term_explains_the_clause()
    {
        var theme = new Theme { Key = "grind-size", Name = "Grind size", Keywords = { "grind" }, GenericKeywords = { "powder" }, GenericPhrases = { "粉" } };
        await _analyst.CreateThemeAsync(new CreateThemeRequest { Theme = theme });
        var listed = (await _analyst.ListThemesAsync(new ListThemesRequest())).Themes.Single(t => t.Key == "grind-size");
        Assert.Equal(["powder"], listed.GenericKeywords);
        Assert.Equal(["粉"], listed.GenericPhrases);

        async Task<List<string>> Themes(string text) => (await _app.SubmitFeedbackAsync(new SubmitFeedbackRequest
        {
            IdempotencyKey = $"generic-{Guid.NewGuid():N}",
            Channel = Channel.Review,
            Verbatim = text,
        })).Item.Themes.Select(t => t.ThemeKey).ToList();
        Assert.Contains("grind-size", await Themes("It was like powder this time"));
        Assert.DoesNotContain("grind-size", await Themes("The courier spilled powder everywhere")); // delivery explains it
        Assert.Contains("grind-size", await Themes("The grinds were too coarse")); // an inflection of the keyword

        var blank = new Theme { Key = "blank-generic", Name = "Blank", GenericKeywords = { " " } };
        await RpcAssert.InvalidArgumentAsync(() => _analyst.CreateThemeAsync(new CreateThemeRequest { Theme = blank }).ResponseAsync, "theme.generic_keywords");
    }

    [Fact]
    public async Task Bad_or_unknown_themes_are_refused_and_apps_may_not_edit_the_taxonomy()
    {
        var badKey = RoastLevel("Roast Level!");
        await RpcAssert.InvalidArgumentAsync(() => _analyst.CreateThemeAsync(new CreateThemeRequest { Theme = badKey }).ResponseAsync, "theme.key");
        var empty = new Theme { Key = "empty-theme", Name = "Empty" };
        await RpcAssert.InvalidArgumentAsync(() => _analyst.CreateThemeAsync(new CreateThemeRequest { Theme = empty }).ResponseAsync, "theme.keywords");
        await RpcAssert.StatusAsync(() => _analyst.UpdateThemeAsync(new UpdateThemeRequest { Theme = RoastLevel("no-such-theme") }).ResponseAsync, StatusCode.NotFound);
        await RpcAssert.StatusAsync(() => _app.CreateThemeAsync(new CreateThemeRequest { Theme = RoastLevel("by-app") }).ResponseAsync, StatusCode.PermissionDenied);
    }
}
