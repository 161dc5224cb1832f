using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Grpc.Core;

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
        var detractors = await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", QuestionId = "nps", MaxRating = 6 });
        Assert.Equal(3, detractors.Count);
        var delivery = await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", ThemeKey = "delivery" });
        Assert.Equal(3, delivery.Count);
        var negativeDelivery = await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", ThemeKey = "delivery", Polarity = Polarity.Negative });
        Assert.Equal(2, negativeDelivery.Count);
        var text = await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", TextContains = "BEANS" });
        Assert.Single(text);
        Assert.Empty(await AllAsync(new ListFeedbackRequest { JourneyKey = "list-journey", TextContains = "%_" }));
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
