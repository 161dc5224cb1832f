using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.TestKit;

namespace CxMesh.EndToEnd.Tests;

public sealed class DuplicateVoiceTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private static SubmitFeedbackRequest Saying(string customer, Channel channel, string text, int nps) => new()
    {
        IdempotencyKey = $"dup-{Guid.NewGuid():N}",
        Channel = channel,
        CustomerId = customer,
        JourneyKey = "dup-journey",
        Ratings = { new Rating { QuestionId = "nps", Value = nps } },
        Verbatim = text,
    };

    [Fact]
    public async Task The_same_customer_saying_the_same_thing_twice_is_linked_and_counted_once()
    {
        var app = new Scenario(fixture.Host);
        var first = (await app.Feedback.SubmitFeedbackAsync(Saying("dup-cust", Channel.Review, "Great coffee!! Fresh beans.", 10))).Item;
        var syndicated = (await app.Feedback.SubmitFeedbackAsync(Saying("dup-cust", Channel.Social, "great coffee   fresh BEANS", 10))).Item;
        var other = (await app.Feedback.SubmitFeedbackAsync(Saying("dup-other", Channel.Review, "Great coffee!! Fresh beans.", 2))).Item;

        Assert.Equal("", first.DuplicateOf);
        Assert.Equal(first.Id, syndicated.DuplicateOf);
        Assert.Equal("", other.DuplicateOf);

        var score = await app.ScoreWithNAsync(2, "dup-journey");
        Assert.Equal((1, 1), (score.Promoters, score.Detractors));
        await fixture.Host.DrainAsync();
        Assert.Equal(2, (await app.ScoreAsync("dup-journey")).N);

        var analyst = fixture.Host.Client<FeedbackService.FeedbackServiceClient>("analyst");
        var duplicates = await analyst.ListFeedbackAsync(new ListFeedbackRequest { JourneyKey = "dup-journey", Duplicate = true });
        Assert.Equal(syndicated.Id, Assert.Single(duplicates.Items).Id);
    }
}
