using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.TestKit;
using Dapper;
using Grpc.Core;
using Npgsql;

namespace CxMesh.Feedback.Tests;

public sealed class PostgresOutageTests
{
    [Fact]
    public async Task Submit_is_UNAVAILABLE_while_Postgres_is_unreachable_writes_nothing_and_works_again_without_a_restart()
    {
        await using var database = await FaultyDatabase.CreateAsync("feedback");
        var proxy = database.Proxy;
        await using var host = await CxMeshTestHost.StartAsync(s => s.Databases["feedback"] = database.ProxiedConnectionString);
        var client = host.Client<FeedbackService.FeedbackServiceClient>();

        await client.SubmitFeedbackAsync(Request("before-outage-1"));

        proxy.GoDown();
        var ex = await RpcAssert.StatusAsync(() => client.SubmitFeedbackAsync(Request("during-outage-1")).ResponseAsync, StatusCode.Unavailable);
        Assert.DoesNotContain("Npgsql", ex.Status.Detail);
        await RpcAssert.StatusAsync(() => client.SubmitFeedbackAsync(Request("during-outage-2")).ResponseAsync, StatusCode.Unavailable);

        proxy.ComeBack();
        var after = await client.SubmitFeedbackAsync(Request("after-outage-1"));
        Assert.False(after.Replayed);

        await using var connection = new NpgsqlConnection(database.DirectConnectionString);
        var keys = (await connection.QueryAsync<string>("select key from idempotency_keys order by key")).ToList();
        Assert.Equal(["after-outage-1", "before-outage-1"], keys);
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("select count(*) from feedback_items"));
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("select count(*) from outbox"));
    }

    [Fact]
    public async Task A_batch_cut_off_by_a_Postgres_outage_fails_UNAVAILABLE_and_resending_it_stores_every_item_exactly_once()
    {
        await using var database = await FaultyDatabase.CreateAsync("feedback");
        await using var host = await CxMeshTestHost.StartAsync(s => s.Databases["feedback"] = database.ProxiedConnectionString);
        var client = host.Client<FeedbackService.FeedbackServiceClient>();
        await using var direct = new NpgsqlConnection(database.DirectConnectionString);
        var items = Enumerable.Range(0, 1_500).Select(i => Request($"cut-batch-{i:D5}")).ToList();

        using (var call = client.SubmitFeedbackBatch())
        {
            foreach (var item in items.Take(1_000)) await call.RequestStream.WriteAsync(new SubmitFeedbackBatchRequest { Item = item });
            await Eventually.Until(() => direct.ExecuteScalarAsync<long>("select count(*) from feedback_items"), n => n >= 500);
            database.Proxy.GoDown();
            foreach (var item in items.Skip(1_000)) await call.RequestStream.WriteAsync(new SubmitFeedbackBatchRequest { Item = item });
            await call.RequestStream.CompleteAsync();
            await RpcAssert.StatusAsync(() => call.ResponseAsync, StatusCode.Unavailable);
        }
        var storedBefore = await direct.ExecuteScalarAsync<long>("select count(*) from feedback_items");
        Assert.InRange(storedBefore, 500, 1_000);

        database.Proxy.ComeBack();
        using var resend = client.SubmitFeedbackBatch();
        foreach (var item in items) await resend.RequestStream.WriteAsync(new SubmitFeedbackBatchRequest { Item = item });
        await resend.RequestStream.CompleteAsync();
        var response = await resend.ResponseAsync;

        Assert.Equal((items.Count - storedBefore, storedBefore, 0L), ((long)response.Stored, (long)response.Replayed, (long)response.Rejected));
        Assert.Equal(items.Count, await direct.ExecuteScalarAsync<long>("select count(*) from feedback_items"));
        Assert.Equal(items.Count, await direct.ExecuteScalarAsync<long>("select count(*) from outbox"));
    }

    private static SubmitFeedbackRequest Request(string key) => new()
    {
        IdempotencyKey = key,
        Channel = Channel.Web,
        Ratings = { new Rating { QuestionId = "nps", Value = 7 } },
    };
}
