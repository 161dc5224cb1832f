using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Google.Rpc;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Tests;

public sealed class BatchTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private static SubmitFeedbackRequest Item(string key, int rating, string? verbatim = null) => new()
    {
        IdempotencyKey = key,
        Channel = Channel.Review,
        JourneyId = "batch-journey",
        Ratings = { new Rating { QuestionId = "nps", Value = rating } },
        Verbatim = verbatim ?? "",
    };

    [Fact]
    public async Task A_mixed_batch_stores_the_good_items_and_reports_each_bad_one_by_position()
    {
        var client = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        using var call = client.SubmitFeedbackBatch();
        SubmitFeedbackRequest[] items =
        [
            Item("batch-item-0001", 9, "Lovely fresh beans"),
            Item("batch-item-0002", 11),
            Item("batch-item-0003", 3, "送货太慢"),
            Item("batch-item-0001", 9, "Lovely fresh beans"),
            Item("batch-item-0003", 4),
            new SubmitFeedbackRequest(),
        ];
        foreach (var item in items) await call.RequestStream.WriteAsync(new SubmitFeedbackBatchRequest { Item = item });
        await call.RequestStream.CompleteAsync();
        var response = await call.ResponseAsync;

        Assert.Equal(Enumerable.Range(0, 6), response.Results.Select(r => r.Index));
        Assert.Equal((2, 1, 3), (response.Stored, response.Replayed, response.Rejected));
        Assert.Equal(SubmitStatus.Stored, response.Results[0].Status);
        Assert.Equal(("ratings[0].value", (int)Code.InvalidArgument), (response.Results[1].Error.Field, response.Results[1].Error.Code));
        Assert.Equal(SubmitStatus.Replayed, response.Results[3].Status);
        Assert.Equal(response.Results[0].FeedbackId, response.Results[3].FeedbackId);
        Assert.Equal(((int)Code.FailedPrecondition, "idempotency_key"), (response.Results[4].Error.Code, response.Results[4].Error.Field));
        Assert.Equal(SubmitStatus.Rejected, response.Results[5].Status);

        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("select count(*) from feedback_items where journey_id = 'batch-journey'"));
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("select count(*) from outbox where payload like '%batch-journey%'"));
    }
}
