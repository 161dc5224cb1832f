using System.Net;
using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Google.Rpc;
using Grpc.Core;

namespace CxMesh.EndToEnd.Tests;

/// <summary>
/// Per-caller limits on ingest and import (#14): a caller over its rate or its calls-at-once gets RESOURCE_EXHAUSTED
/// with RetryInfo (HTTP 429 with Retry-After on JSON routes) and other callers are not slowed by it.
/// </summary>
public sealed class CallerLimitTests : IAsyncLifetime
{
    private CxMeshTestHost host = null!;

    public async Task InitializeAsync() => host = await CxMeshTestHost.StartAsync(s =>
    {
        // A bucket of 2 that refills once an hour, and one import at a time.
        s.Settings["RateLimits:ingest:Burst"] = "2";
        s.Settings["RateLimits:ingest:Permits"] = "1";
        s.Settings["RateLimits:ingest:Period"] = "01:00:00";
        s.Settings["RateLimits:import:Concurrent"] = "1";
    });

    public async Task DisposeAsync() => await host.DisposeAsync();

    private static SubmitFeedbackRequest Item() => new()
    {
        IdempotencyKey = $"limit-{Guid.NewGuid():N}",
        Channel = Channel.Web,
        Ratings = { new Rating { QuestionId = "nps", Value = 9 } },
    };

    [Fact]
    public async Task A_caller_over_its_rate_gets_RESOURCE_EXHAUSTED_with_when_to_retry_and_others_go_on()
    {
        var greedy = host.ClientWithToken<FeedbackService.FeedbackServiceClient>(host.Token(Roles.App, subject: "greedy-app"));
        await greedy.SubmitFeedbackAsync(Item());
        await greedy.SubmitFeedbackAsync(Item());

        var ex = await RpcAssert.StatusAsync(() => greedy.SubmitFeedbackAsync(Item()).ResponseAsync, StatusCode.ResourceExhausted);
        var status = ex.GetRpcStatus()!;
        Assert.True(status.GetDetail<RetryInfo>().RetryDelay.ToTimeSpan() > TimeSpan.Zero);
        Assert.Equal(("RATE_LIMITED", "ingest"), (status.GetDetail<ErrorInfo>().Reason, status.GetDetail<ErrorInfo>().Metadata["limit"]));
        // Streams count as calls too.
        using (var batch = greedy.SubmitFeedbackBatch(deadline: DateTime.UtcNow.AddMinutes(1)))
        {
            await RpcAssert.StatusAsync(() => batch.ResponseAsync, StatusCode.ResourceExhausted);
        }

        // The JSON route of the same method shares the caller's bucket.
        using var http = host.Http();
        http.DefaultRequestHeaders.Authorization = new("Bearer", host.Token(Roles.App, subject: "greedy-app"));
        var response = await http.PostAsync("/v1/feedback", new StringContent(
            $$"""{"idempotencyKey":"limit-json-{{Guid.NewGuid():N}}","channel":"CHANNEL_WEB","ratings":[{"questionId":"nps","value":9}]}""",
            System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("RATE_LIMITED", await response.Content.ReadAsStringAsync());

        // Another caller, and other methods of the same caller, are not limited.
        var other = host.ClientWithToken<FeedbackService.FeedbackServiceClient>(host.Token(Roles.App, subject: "modest-app"));
        await other.SubmitFeedbackAsync(Item());
        await host.ClientWithToken<FeedbackService.FeedbackServiceClient>(host.Token(Roles.App, subject: "greedy-app")).ListThemesAsync(new ListThemesRequest());
    }

    [Fact]
    public async Task A_caller_may_run_only_so_many_imports_at_once()
    {
        var client = host.ClientWithToken<FeedbackService.FeedbackServiceClient>(host.Token(Roles.App, subject: "importer"));
        // Every call has a deadline: a write the server will never read (it refused the call) must end, not wait.
        DateTime Deadline() => DateTime.UtcNow.AddMinutes(1);
        using var first = client.ImportFeedbackCsv(deadline: Deadline());
        await first.RequestStream.WriteAsync(new ImportFeedbackCsvRequest
        {
            Options = new CsvImportOptions { SourceSystem = "limits", DefaultChannel = Channel.Web, Columns = { ["rating:nps"] = "nps" } },
        });
        // 600 rows make the server answer with progress (every 500): then the first import is surely running and
        // holds its permit before the second one is sent.
        await first.RequestStream.WriteAsync(new ImportFeedbackCsvRequest
        {
            Chunk = Google.Protobuf.ByteString.CopyFromUtf8("nps\n" + string.Concat(Enumerable.Repeat("9\n", 600))),
        });
        Assert.True(await first.ResponseStream.MoveNext(default));

        using var second = client.ImportFeedbackCsv(deadline: Deadline());
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in second.ResponseStream.ReadAllAsync())
            {
            }
        });
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal("TOO_MANY_CONCURRENT_CALLS", ex.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);

        // Once the first has ended, the next one is let in.
        await first.RequestStream.CompleteAsync();
        await foreach (var _ in first.ResponseStream.ReadAllAsync())
        {
        }
        // (The first call's permit is returned as its request ends on the server, a moment after its reply.)
        var third = await Eventually.Until(async () =>
        {
            using var call = client.ImportFeedbackCsv(deadline: Deadline());
            try
            {
                await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest
                {
                    Options = new CsvImportOptions { SourceSystem = "limits", DefaultChannel = Channel.Web, Columns = { ["rating:nps"] = "nps" } },
                });
                await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = Google.Protobuf.ByteString.CopyFromUtf8("nps\n8\n") });
                await call.RequestStream.CompleteAsync();
                ImportFeedbackCsvResponse? last = null;
                await foreach (var response in call.ResponseStream.ReadAllAsync()) last = response;
                return last;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.ResourceExhausted or StatusCode.DeadlineExceeded)
            {
                return null;
            }
        }, last => last is { Done: true }, because: "an import is let in once the one before has ended");
        Assert.Equal(1, third!.Stored);
    }
}
