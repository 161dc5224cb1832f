using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Tests;

public sealed class ListFeedbackTests(HostFixture fixture) : IAsyncLifetime, IClassFixture<HostFixture>
{
    private readonly FeedbackService.FeedbackServiceClient _analyst = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);

    private static readonly (Channel Channel, int Nps, string Verbatim, string Product)[] Items =
    [
        (Channel.Survey, 10, "Fresh beans and a lovely aroma", "sku-a"),
        (Channel.Complaint, 1, "The delivery was late and the box was damaged", "sku-a"),
        (Channel.Review, 9, "Great taste, will order again", "sku-b"),
        (Channel.Complaint, 3, "快递太慢了，包装破损", "sku-b"),
        (Channel.Survey, 7, "Fine, nothing special", "sku-a"),
        (Channel.Web, 0, "Terrible support, rude agent", "sku-c"),
        (Channel.Survey, 8, "Delivery on time", "sku-c"),
        (Channel.Review, 6, "Delicious coffee. Terrible packaging.", "sku-d"),
    ];

    public async Task InitializeAsync()
    {
        var app = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        for (var i = 0; i < Items.Length; i++)
        {
            var (channel, nps, verbatim, product) = Items[i];
            await app.SubmitFeedbackAsync(new SubmitFeedbackRequest
            {
                IdempotencyKey = $"list-item-{i:D4}",
                Channel = channel,
                JourneyKey = "list-journey",
                Ratings = { new Rating { QuestionId = "nps", Value = nps } },
                Verbatim = verbatim,
                Links = new Links { ProductId = product },
            });
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<List<FeedbackItem>> AllAsync(ListFeedbackRequest request)
    {
        var items = new List<FeedbackItem>();
        do
        {
            var page = await _analyst.ListFeedbackAsync(request);
            items.AddRange(page.Items);
            request.PageToken = page.NextPageToken;
        } while (request.PageToken.Length > 0);
        return items;
    }

    [Fact]
    public async Task Pages_walk_every_item_once_newest_first()
    {
        var all = await AllAsync(new ListFeedbackRequest { PageSize = 3, JourneyKey = "list-journey" });
        Assert.Equal(Items.Length, all.Count);
        Assert.Equal(all.Count, all.Select(i => i.Id).Distinct().Count());
        Assert.Equal(all.OrderByDescending(i => i.ReceivedAt.ToDateTime()).ThenByDescending(i => i.Id).Select(i => i.Id), all.Select(i => i.Id));
        Assert.All(all, i => Assert.Equal("", i.Verbatim)); // analysts read redacted text only
    }

    [Fact]
    public async Task Filters_combine()
    {
        Assert.Equal(2, (await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", Channel = Channel.Complaint })).Count);
        Assert.Equal(3, (await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", ProductId = "sku-a" })).Count);
        // MIXED is its own reading: found by its filter, by no other, and its theme mentions keep their own clause's feeling.
        var mixed = Assert.Single(await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", Polarity = Polarity.Mixed }));
        Assert.Equal("sku-d", mixed.Links.ProductId);
        Assert.Equal(Polarity.Mixed, mixed.Polarity);
        Assert.Equal(Polarity.Positive, mixed.Themes.Single(t => t.ThemeKey == "taste").Polarity);
        Assert.Equal(Polarity.Negative, mixed.Themes.Single(t => t.ThemeKey == "packaging").Polarity);
        foreach (var other in new[] { Polarity.Positive, Polarity.Negative, Polarity.Neutral })
        {
            Assert.DoesNotContain(await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", Polarity = other }), i => i.Links.ProductId == "sku-d");
        }
        var detractors = await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", QuestionId = "nps", MaxRating = 6 });
        Assert.Equal(4, detractors.Count);
        var delivery = await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", ThemeKey = "delivery" });
        Assert.Equal(3, delivery.Count);
        var negativeDelivery = await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", ThemeKey = "delivery", Polarity = Polarity.Negative });
        Assert.Equal(2, negativeDelivery.Count);
        var text = await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", TextContains = "BEANS" });
        Assert.Single(text);
        Assert.Empty(await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", TextContains = "%_" }));
    }

    [Fact]
    public async Task A_mixed_verbatim_is_answered_stored_and_published_as_MIXED()
    {
        var app = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        var item = (await app.SubmitFeedbackAsync(new SubmitFeedbackRequest
        {
            IdempotencyKey = $"mixed-{Guid.NewGuid():N}",
            Channel = Channel.Survey,
            Verbatim = "咖啡很好喝。包装太差。",
        })).Item;
        Assert.Equal(Polarity.Mixed, item.Polarity);
        Assert.Equal(Polarity.Mixed, (await _analyst.GetFeedbackAsync(new GetFeedbackRequest { Id = item.Id })).Item.Polarity);

        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        var evt = EventJson.Parse<FeedbackReceived>((await connection.ExecuteScalarAsync<string>(
            "select payload from outbox where payload like @id", new { id = $"%{item.Id}%" }))!);
        Assert.Equal(Polarity.Mixed, evt.Polarity);
    }

    [Fact]
    public async Task Bad_filters_are_INVALID_ARGUMENT_and_apps_may_not_list()
    {
        await RpcAssert.InvalidArgumentAsync(() => _analyst.ListFeedbackAsync(new ListFeedbackRequest { PageToken = "nonsense" }).ResponseAsync, "page_token");
        await RpcAssert.InvalidArgumentAsync(() => _analyst.ListFeedbackAsync(new ListFeedbackRequest { MinRating = 3 }).ResponseAsync, "question_id");
        await RpcAssert.InvalidArgumentAsync(() => _analyst.ListFeedbackAsync(new ListFeedbackRequest { TextContains = "x" }).ResponseAsync, "text_contains");
        await RpcAssert.InvalidArgumentAsync(() => _analyst.ListFeedbackAsync(new ListFeedbackRequest { PageSize = 500 }).ResponseAsync, "page_size");
        await RpcAssert.StatusAsync(() => fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App)
            .ListFeedbackAsync(new ListFeedbackRequest()).ResponseAsync, StatusCode.PermissionDenied);
    }
}
