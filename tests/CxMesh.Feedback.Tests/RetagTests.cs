using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using DefaultTaxonomy = CxMesh.Feedback.Domain.Text.DefaultTaxonomy;
using ShippedDefaults = CxMesh.Feedback.Domain.Text.ShippedDefaults;

namespace CxMesh.Feedback.Tests;

/// <summary>Taxonomy changes reach stored history: a resumable, versioned re-tag of every item, each changed item published once.</summary>
public sealed class RetagTests
{
    private static SubmitFeedbackRequest Saying(string text, int daysAgo) => new()
    {
        IdempotencyKey = $"retag-{Guid.NewGuid():N}",
        Channel = Channel.Review,
        Verbatim = text,
        GivenAt = Timestamp.FromDateTime(DateTime.UtcNow.AddDays(-daysAgo)),
    };

    private static Theme RoastLevel(params string[] keywords) => new() { Key = "roast-level", Name = "Roast level", Keywords = { keywords } };

    private static async Task<List<string>> SubmitAsync(CxMeshTestHost host, IEnumerable<SubmitFeedbackRequest> requests)
    {
        var app = host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        var ids = new List<string>();
        foreach (var request in requests) ids.Add((await app.SubmitFeedbackAsync(request)).Item.Id);
        return ids;
    }

    private static Task<RetagJob> FinishedAsync(CxMeshTestHost host, long version) =>
        Eventually.Until(async () => (await host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst)
                .GetRetagStatusAsync(new GetRetagStatusRequest { TaxonomyVersion = version })).Retag,
            r => r.State == RetagState.Finished, because: $"the re-tag to version {version} finishes");

    private static async Task<(long Events, long Distinct)> RetaggedEventsAsync(CxMeshTestHost host)
    {
        await using var connection = new NpgsqlConnection(host.Settings.Databases["feedback"]);
        return await connection.QuerySingleAsync<(long, long)>(
            "select count(*), count(distinct payload::jsonb->>'feedbackId') from outbox where topic = 'feedback.retagged.v1'");
    }

    /// <summary>Every item is at the version and mentions roast-level once.</summary>
    private static async Task AssertRoastLevelAsync(CxMeshTestHost host, IEnumerable<string> ids, long version)
    {
        var analyst = host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);
        foreach (var id in ids)
        {
            var item = (await analyst.GetFeedbackAsync(new GetFeedbackRequest { Id = id })).Item;
            Assert.Equal(version, item.TaxonomyVersion);
            Assert.Single(item.Themes, t => t.ThemeKey == "roast-level");
        }
    }

    [Fact]
    public async Task A_new_edited_or_deleted_theme_re_tags_stored_history_and_every_item_records_the_version()
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = "feedback");
        var analyst = host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);
        var charred = await SubmitAsync(host, Enumerable.Range(0, 8).Select(i => Saying($"The beans tasted charred, batch {i}", 400 + i * 30)));
        var other = await SubmitAsync(host, Enumerable.Range(0, 6).Select(i => Saying($"Parcel arrived late again, order {i}", 700 + i)));
        var unrated = new SubmitFeedbackRequest { IdempotencyKey = $"retag-{Guid.NewGuid():N}", Channel = Channel.Survey, Ratings = { new Rating { QuestionId = "nps", Value = 9 } } };
        var silent = await SubmitAsync(host, [unrated]);
        var first = (await analyst.ListThemesAsync(new ListThemesRequest())).TaxonomyVersion;
        Assert.Equal(1, first);

        var created = await analyst.CreateThemeAsync(new CreateThemeRequest { Theme = RoastLevel("charred") });
        Assert.Equal(2, created.Retag.TaxonomyVersion);
        Assert.Equal("created theme roast-level", created.Retag.Change);
        Assert.Equal(15, created.Retag.ItemsTotal);
        var done = await FinishedAsync(host, 2);
        Assert.Equal((15L, 8L), (done.ItemsScanned, done.ItemsChanged));
        Assert.Equal(0, done.EtaSeconds);
        Assert.NotNull(done.FinishedAt);

        async Task<FeedbackItem> Get(string id) => (await analyst.GetFeedbackAsync(new GetFeedbackRequest { Id = id })).Item;
        foreach (var id in charred) Assert.Contains((await Get(id)).Themes, t => t.ThemeKey == "roast-level");
        foreach (var id in other) Assert.DoesNotContain((await Get(id)).Themes, t => t.ThemeKey == "roast-level");
        foreach (var id in charred.Concat(other).Concat(silent)) Assert.Equal(2, (await Get(id)).TaxonomyVersion);
        Assert.Equal((8L, 8L), await RetaggedEventsAsync(host));
        // Received after the change: matched against it at once.
        var fresh = await SubmitAsync(host, [Saying("Charred again", 1)]);
        Assert.Equal(2, (await Get(fresh[0])).TaxonomyVersion);

        // An edit that matches other words moves the mentions; a delete takes them off.
        Assert.Equal(3, (await analyst.UpdateThemeAsync(new UpdateThemeRequest { Theme = RoastLevel("parcel") })).Retag.TaxonomyVersion);
        Assert.Equal((16L, 15L), ((await FinishedAsync(host, 3)).ItemsScanned, (await FinishedAsync(host, 3)).ItemsChanged));
        foreach (var id in other) Assert.Contains((await Get(id)).Themes, t => t.ThemeKey == "roast-level");
        foreach (var id in charred) Assert.DoesNotContain((await Get(id)).Themes, t => t.ThemeKey == "roast-level");

        var deleted = await analyst.DeleteThemeAsync(new DeleteThemeRequest { Key = "roast-level" });
        Assert.Equal(4, deleted.Retag.TaxonomyVersion);
        Assert.Equal(6, (await FinishedAsync(host, 4)).ItemsChanged);
        foreach (var id in other) Assert.DoesNotContain((await Get(id)).Themes, t => t.ThemeKey == "roast-level");
        Assert.True((await Get(other[0])).Themes.Any(t => t.ThemeKey == "delivery"), (await Get(other[0])).ToString()); // the other themes stay
        Assert.DoesNotContain((await analyst.ListThemesAsync(new ListThemesRequest())).Themes, t => t.Key == "roast-level");
        Assert.Equal(4, (await analyst.ListThemesAsync(new ListThemesRequest())).TaxonomyVersion);
        Assert.Equal((8L + 15 + 6, 8L + 6 + 1), await RetaggedEventsAsync(host));
    }

    [Fact]
    public async Task Unedited_defaults_of_an_earlier_release_are_upgraded_once_with_a_re_tag_and_edited_ones_are_left_alone()
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = "feedback");
        var analyst = host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);
        Assert.Equal(1, (await analyst.ListThemesAsync(new ListThemesRequest())).TaxonomyVersion);
        // As an install of the earlier release would hold them: two defaults as shipped, one edited since.
        await using (var connection = new NpgsqlConnection(host.Settings.Databases["feedback"]))
        {
            foreach (var old in ShippedDefaults.Previous.Where(t => t.Key is "waiting-time" or "packaging"))
            {
                await connection.ExecuteAsync(
                    "update themes set keywords = @keywords, phrases = @phrases, generic_keywords = '{}', generic_phrases = '{}' where key = @Key",
                    new { old.Key, keywords = old.Keywords.ToArray(), phrases = old.Phrases.ToArray() });
            }
            await connection.ExecuteAsync("update themes set keywords = '{taste,crema}', phrases = '{}', generic_keywords = '{}', generic_phrases = '{}' where key = 'taste'");
        }
        var catalog = ActivatorUtilities.CreateInstance<Data.ThemeCatalog>(host.Services);
        var upgraded = await catalog.CurrentTaxonomyAsync(CancellationToken.None);
        Assert.Equal(2, upgraded.Version);
        var current = DefaultTaxonomy.Themes.ToDictionary(t => t.Key);
        foreach (var key in new[] { "waiting-time", "packaging" })
        {
            var theme = upgraded.Themes.Single(t => t.Key == key);
            Assert.Equal(current[key].Keywords, theme.Keywords);
            Assert.Equal(current[key].GenericPhrases, theme.GenericPhrases);
        }
        Assert.Equal(["taste", "crema"], upgraded.Themes.Single(t => t.Key == "taste").Keywords);
        var job = await FinishedAsync(host, 2);
        Assert.Equal("upgraded 2 unedited default themes to this release's vocabulary", job.Change);

        // Another replica starting later finds nothing left to upgrade.
        Assert.Equal(2, (await ActivatorUtilities.CreateInstance<Data.ThemeCatalog>(host.Services).CurrentTaxonomyAsync(CancellationToken.None)).Version);
    }

    [Fact]
    public async Task A_re_tag_cut_off_mid_way_resumes_where_it_stopped_and_publishes_each_item_once()
    {
        // Slow: 5 items a batch, 10 items a second.
        var slow = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "feedback";
            s.Settings["Feedback:Retag:BatchSize"] = "5";
            s.Settings["Feedback:Retag:ItemsPerSecond"] = "10";
        });
        var databases = new Dictionary<string, string>(slow.Settings.Databases);
        var ids = await SubmitAsync(slow, Enumerable.Range(0, 60).Select(i => Saying($"Charred and bitter, cup {i}", 30 + i)));
        await slow.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst).CreateThemeAsync(new CreateThemeRequest { Theme = RoastLevel("charred") });
        var partial = await Eventually.Until(async () => (await slow.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst)
            .GetRetagStatusAsync(new GetRetagStatusRequest())).Retag, r => r.ItemsScanned >= 10, because: "the re-tag gets going");
        Assert.Equal(RetagState.Running, partial.State);
        Assert.True(partial.ItemsScanned < 60, $"scanned {partial.ItemsScanned} of 60 before the cut");
        Assert.True(partial.EtaSeconds > 0);
        await slow.DisposeAsync(); // the host goes away mid-way

        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "feedback";
            foreach (var (service, cs) in databases) s.Databases[service] = cs;
        });
        var done = await FinishedAsync(host, 2);
        Assert.Equal((60L, 60L), (done.ItemsScanned, done.ItemsChanged));
        Assert.Equal((60L, 60L), await RetaggedEventsAsync(host));
        await AssertRoastLevelAsync(host, ids, version: 2);
    }

    [Fact]
    public async Task A_change_during_a_re_tag_supersedes_it_and_the_newer_one_covers_every_item()
    {
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "feedback";
            s.Settings["Feedback:Retag:BatchSize"] = "2";
            s.Settings["Feedback:Retag:ItemsPerSecond"] = "4";
        });
        var analyst = host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);
        var ids = await SubmitAsync(host, Enumerable.Range(0, 20).Select(i => Saying($"Too dark a roast, bag {i}", 10 + i)));
        await analyst.CreateThemeAsync(new CreateThemeRequest { Theme = RoastLevel("charred") });
        await analyst.UpdateThemeAsync(new UpdateThemeRequest { Theme = RoastLevel("dark") });
        Assert.Equal(RetagState.Superseded, (await analyst.GetRetagStatusAsync(new GetRetagStatusRequest { TaxonomyVersion = 2 })).Retag.State);
        // Version 3's re-tag starts from the first item again.
        var done = await FinishedAsync(host, 3);
        Assert.Equal(20, done.ItemsScanned);
        await AssertRoastLevelAsync(host, ids, version: 3);
    }

    [Fact]
    public async Task Bad_theme_deletions_and_status_requests_name_the_field_and_apps_may_do_neither()
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = "feedback");
        var analyst = host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);
        var app = host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        await RpcAssert.InvalidArgumentAsync(() => analyst.DeleteThemeAsync(new DeleteThemeRequest { Key = "Roast Level!" }).ResponseAsync, "key");
        await RpcAssert.InvalidArgumentAsync(() => analyst.DeleteThemeAsync(new DeleteThemeRequest()).ResponseAsync, "key");
        await RpcAssert.StatusAsync(() => analyst.DeleteThemeAsync(new DeleteThemeRequest { Key = "no-such-theme" }).ResponseAsync, StatusCode.NotFound);
        await RpcAssert.InvalidArgumentAsync(() => analyst.GetRetagStatusAsync(new GetRetagStatusRequest { TaxonomyVersion = -1 }).ResponseAsync, "taxonomy_version");
        await RpcAssert.StatusAsync(() => analyst.GetRetagStatusAsync(new GetRetagStatusRequest { TaxonomyVersion = 99 }).ResponseAsync, StatusCode.NotFound);
        await RpcAssert.StatusAsync(() => app.DeleteThemeAsync(new DeleteThemeRequest { Key = "taste" }).ResponseAsync, StatusCode.PermissionDenied);
        await RpcAssert.StatusAsync(() => app.GetRetagStatusAsync(new GetRetagStatusRequest()).ResponseAsync, StatusCode.PermissionDenied);
        // Nothing changed: still the first version, finished (a fresh database has no history to re-tag).
        var status = (await analyst.GetRetagStatusAsync(new GetRetagStatusRequest())).Retag;
        Assert.Equal((1L, RetagState.Finished), (status.TaxonomyVersion, status.State));
        Assert.Contains((await analyst.ListThemesAsync(new ListThemesRequest())).Themes, t => t.Key == "taste");
    }
}
