using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Journey.V1;
using CxMesh.Platform.Auth;
using CxMesh.Scoring.V1;
using CxMesh.TestKit;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.EndToEnd.Tests;

/// <summary>Values no request may carry (#14's list): refused naming the field, never INTERNAL; in a batch, alone.</summary>
public sealed class HostileValueTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private static SubmitFeedbackRequest Item(string key, string segment) => new()
    {
        IdempotencyKey = key,
        Channel = Channel.Survey,
        JourneyKey = "hostile",
        Ratings = { new Rating { QuestionId = "nps", Value = 8 } },
        Links = new Links { Segment = { ["plan"] = segment } },
    };

    [Fact]
    public async Task A_NUL_character_is_refused_naming_the_field_and_in_a_batch_only_its_item_is()
    {
        var feedback = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        var key = $"nul-{Guid.NewGuid():N}";
        await RpcAssert.InvalidArgumentAsync(() => feedback.SubmitFeedbackAsync(Item(key, "gold\0")).ResponseAsync, "links.segment[plan]");
        await RpcAssert.InvalidArgumentAsync(() => feedback.SubmitFeedbackAsync(new SubmitFeedbackRequest(Item(key, "gold")) { Verbatim = "a\0b" }).ResponseAsync, "verbatim");

        using var call = feedback.SubmitFeedbackBatch();
        foreach (var item in new[] { Item($"{key}-a", "gold"), Item($"{key}-b", "si\0lver"), Item($"{key}-c", "bronze") })
        {
            await call.RequestStream.WriteAsync(new SubmitFeedbackBatchRequest { Item = item });
        }
        await call.RequestStream.CompleteAsync();
        var response = await call.ResponseAsync;
        Assert.Equal((2, 1), (response.Stored, response.Rejected));
        Assert.Equal(("links.segment[plan]", SubmitStatus.Rejected), (response.Results[1].Error.Field, response.Results[1].Status));
    }

    [Fact]
    public async Task Impossible_timestamps_and_durations_are_refused_naming_the_field()
    {
        var max = new Timestamp { Seconds = long.MaxValue };
        await RpcAssert.InvalidArgumentAsync(() => fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst)
            .ListFeedbackAsync(new ListFeedbackRequest { ReceivedAfter = max }).ResponseAsync, "received_after");
        await RpcAssert.InvalidArgumentAsync(() => fixture.Host.Client<ScoringService.ScoringServiceClient>(Roles.Analyst)
            .ListAlertsAsync(new ListAlertsRequest { RaisedAfter = max }).ResponseAsync, "raised_after");
        await RpcAssert.InvalidArgumentAsync(() => fixture.Host.Client<ScoringService.ScoringServiceClient>(Roles.Analyst)
            .ListAlertsAsync(new ListAlertsRequest { RaisedAfter = new Timestamp { Seconds = 0, Nanos = -1 } }).ResponseAsync, "raised_after");
        var definition = new JourneyDefinition
        {
            Key = $"hostile-{Guid.NewGuid():N}"[..20],
            Name = "Hostile",
            InactivityTimeout = new Duration { Seconds = long.MaxValue },
        };
        await RpcAssert.InvalidArgumentAsync(() => fixture.Host.Client<JourneyService.JourneyServiceClient>()
            .CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = definition }).ResponseAsync, "definition.inactivity_timeout");
    }
}
