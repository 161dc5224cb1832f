using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Tests;

public sealed class LinksAndSourceTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly FeedbackService.FeedbackServiceClient _app = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);

    private static SubmitFeedbackRequest Review(string externalId) => new()
    {
        IdempotencyKey = $"import-{Guid.NewGuid():N}",
        Channel = Channel.Review,
        Ratings = { new Rating { QuestionId = "csat", Value = 5 } },
        Verbatim = "Best Yirgacheffe I have had",
        Links = new Links { ProductId = "sku-yirga-250", LotId = "lot-2026-10-eth-7", StoreId = "web", Segment = { ["tier"] = "gold" } },
        Source = new Source { System = "trustpilot", ExternalId = externalId },
    };

    [Fact]
    public async Task Links_and_source_are_kept_and_published()
    {
        var item = (await _app.SubmitFeedbackAsync(Review($"tp-{Guid.NewGuid():N}"))).Item;
        Assert.Equal("lot-2026-10-eth-7", item.Links.LotId);
        Assert.Equal("gold", item.Links.Segment["tier"]);
        Assert.Equal("trustpilot", item.Source.System);

        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        var evt = EventJson.Parse<FeedbackReceived>((await connection.ExecuteScalarAsync<string>(
            "select payload from outbox where payload like @id", new { id = $"%{item.Id}%" }))!);
        Assert.Equal(("sku-yirga-250", "lot-2026-10-eth-7", "web", "trustpilot"), (evt.ProductId, evt.LotId, evt.StoreId, evt.SourceSystem));
        Assert.Equal("gold", evt.Segment["tier"]);
    }

    [Fact]
    public async Task Importing_the_same_export_again_changes_nothing_whatever_the_idempotency_keys()
    {
        var externalIds = Enumerable.Range(0, 5).Select(i => $"export-{Guid.NewGuid():N}-{i}").ToList();
        var first = new List<string>();
        foreach (var id in externalIds) first.Add((await _app.SubmitFeedbackAsync(Review(id))).Item.Id);

        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        var before = await connection.ExecuteScalarAsync<long>("select (select count(*) from feedback_items) + (select count(*) from outbox)");

        for (var i = 0; i < externalIds.Count; i++)
        {
            var again = await _app.SubmitFeedbackAsync(Review(externalIds[i]));
            Assert.True(again.Replayed);
            Assert.Equal(first[i], again.Item.Id);
        }
        Assert.Equal(before, await connection.ExecuteScalarAsync<long>("select (select count(*) from feedback_items) + (select count(*) from outbox)"));
    }

    [Theory]
    [InlineData("product id with spaces", "links.product_id")]
    [InlineData("external id without system", "source.system")]
    [InlineData("bad segment name", "links.segment")]
    public async Task Bad_links_and_sources_are_INVALID_ARGUMENT_naming_the_field(string how, string field)
    {
        var request = Review("x-1");
        switch (how)
        {
            case "product id with spaces": request.Links.ProductId = "sku 250 g"; break;
            case "external id without system": request.Source.System = ""; break;
            case "bad segment name": request.Links.Segment["Customer Tier"] = "gold"; break;
        }
        await RpcAssert.InvalidArgumentAsync(() => _app.SubmitFeedbackAsync(request).ResponseAsync, field);
    }
}
