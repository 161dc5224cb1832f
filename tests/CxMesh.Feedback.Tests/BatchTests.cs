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
        JourneyKey = "batch-journey",
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

    private async Task<SubmitFeedbackBatchResponse> SendAsync(IEnumerable<SubmitFeedbackRequest> items)
    {
        var client = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        using var call = client.SubmitFeedbackBatch();
        foreach (var item in items) await call.RequestStream.WriteAsync(new SubmitFeedbackBatchRequest { Item = item });
        await call.RequestStream.CompleteAsync();
        return await call.ResponseAsync;
    }

    private async Task<long> CountAsync(string sql, object? args = null)
    {
        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql, args);
    }

    [Fact]
    public async Task A_batch_larger_than_a_chunk_reports_every_item_in_order_and_stores_each_good_one_once()
    {
        var items = Enumerable.Range(0, 1_234)
            .Select(i => i % 7 == 3 ? Item($"chunky-{i:D5}", 42) : Item($"chunky-{i:D5}", i % 11, i % 2 == 0 ? $"Item {i}: the crema was thin" : null))
            .Select(r => { r.JourneyKey = "chunky"; return r; })
            .ToList();
        var response = await SendAsync(items);

        Assert.Equal(Enumerable.Range(0, items.Count), response.Results.Select(r => r.Index));
        Assert.Equal(items.Select(i => i.IdempotencyKey), response.Results.Select(r => r.IdempotencyKey));
        var bad = items.Count(i => i.Ratings[0].Value == 42);
        Assert.Equal((items.Count - bad, 0, bad), (response.Stored, response.Replayed, response.Rejected));
        Assert.All(response.Results.Where(r => r.Status == SubmitStatus.Rejected), r => Assert.Equal("ratings[0].value", r.Error.Field));
        Assert.Equal(items.Count - bad, await CountAsync("select count(*) from feedback_items where journey_id = 'chunky'"));
        Assert.Equal(items.Count - bad, await CountAsync("select count(*) from outbox where payload like '%\"chunky\"%'"));

        // The same batch again changes nothing: every good item is a replay of itself.
        var again = await SendAsync(items);
        Assert.Equal((0, items.Count - bad, bad), (again.Stored, again.Replayed, again.Rejected));
        Assert.Equal(response.Results.Select(r => r.FeedbackId), again.Results.Select(r => r.FeedbackId));
        Assert.Equal(items.Count - bad, await CountAsync("select count(*) from feedback_items where journey_id = 'chunky'"));
    }

    [Fact]
    public async Task Within_one_batch_a_repeated_external_id_is_a_replay_and_a_repeated_voice_is_linked_to_the_first()
    {
        SubmitFeedbackRequest Sourced(string key, string externalId, Channel channel, string text)
        {
            var item = Item(key, 4, text);
            item.Channel = channel;
            item.CustomerId = "batch-customer-7";
            item.JourneyKey = "in-batch";
            item.Source = new Source { System = "shop-export", ExternalId = externalId };
            return item;
        }
        var response = await SendAsync(
        [
            Sourced("in-batch-a", "review-1", Channel.Review, "The grinder arrived broken!"),
            Sourced("in-batch-b", "review-1", Channel.Review, "The grinder arrived broken!"),
            Sourced("in-batch-c", "ticket-9", Channel.Complaint, "the grinder  arrived BROKEN"),
        ]);

        Assert.Equal([SubmitStatus.Stored, SubmitStatus.Replayed, SubmitStatus.Stored], response.Results.Select(r => r.Status));
        Assert.Equal(response.Results[0].FeedbackId, response.Results[1].FeedbackId);
        var client = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Admin);
        var linked = await client.GetFeedbackAsync(new GetFeedbackRequest { Id = response.Results[2].FeedbackId });
        Assert.Equal(response.Results[0].FeedbackId, linked.Item.DuplicateOf);
        Assert.Equal(1, await CountAsync("select count(*) from feedback_items where external_id = 'review-1'"));

        // The repeated key now stands for the stored item: resending it replays that one.
        var retry = await SendAsync([Sourced("in-batch-b", "review-1", Channel.Review, "The grinder arrived broken!")]);
        Assert.Equal((SubmitStatus.Replayed, response.Results[0].FeedbackId), (retry.Results[0].Status, retry.Results[0].FeedbackId));
    }

    [Fact]
    public async Task Two_concurrent_imports_of_the_same_export_store_each_external_id_once()
    {
        List<SubmitFeedbackRequest> Export(string run) => Enumerable.Range(0, 1_200).Select(i =>
        {
            var item = Item($"race-{run}-{i:D5}", i % 11);
            item.Source = new Source { System = "race-export", ExternalId = $"row-{i}" };
            item.JourneyKey = "race";
            return item;
        }).ToList();
        var results = await Task.WhenAll(SendAsync(Export("one")), SendAsync(Export("two")));

        Assert.All(results, r => Assert.Equal(0, r.Rejected));
        Assert.Equal(1_200, results.Sum(r => r.Stored));
        Assert.Equal(1_200, await CountAsync("select count(*) from feedback_items where source_system = 'race-export'"));
        Assert.Equal(1_200, await CountAsync("select count(*) from outbox where payload like '%race-export%'"));
        // Both imports answer with the same id for each row.
        Assert.Equal(results[0].Results.Select(r => r.FeedbackId), results[1].Results.Select(r => r.FeedbackId));
    }
}
