using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Journey.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Grpc.Core;

namespace CxMesh.EndToEnd.Tests;

/// <summary>
/// A batch stream past its limit is refused at the first item over it and not read further (#14): a client that
/// never stops sending still gets its answer, which holds one result per item read and so stays small.
/// </summary>
public sealed class OversizedStreamTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    /// <summary>Writes <paramref name="next"/> until the call ends (the server stopped reading) or the test gives up.</summary>
    private static Task WriteForeverAsync<T>(IClientStreamWriter<T> writer, Func<int, T> next, CancellationToken ct) => Task.Run(async () =>
    {
        try
        {
            for (var i = 0; !ct.IsCancellationRequested; i++) await writer.WriteAsync(next(i), ct);
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The call is over: the server answered without reading the rest.
        }
    }, ct);

    [Fact]
    public async Task A_feedback_batch_that_never_ends_is_answered_at_its_limit()
    {
        var feedback = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var call = feedback.SubmitFeedbackBatch(cancellationToken: giveUp.Token);
        // Items the validation rejects (an unknown question), so that nothing is stored and the test stays quick.
        var writing = WriteForeverAsync(call.RequestStream, i => new SubmitFeedbackBatchRequest
        {
            Item = new SubmitFeedbackRequest
            {
                IdempotencyKey = $"endless-{i:D8}",
                Channel = Channel.Survey,
                Ratings = { new Rating { QuestionId = "no-such-question", Value = 1 } },
            },
        }, giveUp.Token);

        var response = await call.ResponseAsync;
        // The server answered without reading the rest: ending the call releases a write waiting for it to read.
        call.Dispose();
        await writing;

        Assert.Equal(10_001, response.Results.Count);
        var last = response.Results[^1];
        Assert.Equal((10_000, SubmitStatus.Rejected, "item"), (last.Index, last.Status, last.Error.Field));
        Assert.Contains("nothing from this item on was read", last.Error.Message);
        Assert.True(response.CalculateSize() < 4 * 1024 * 1024);
    }

    [Fact]
    public async Task A_touchpoint_stream_that_never_ends_is_answered_at_its_limit()
    {
        var journey = fixture.Host.Client<JourneyService.JourneyServiceClient>(Roles.App);
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var call = journey.RecordTouchpoints(cancellationToken: giveUp.Token);
        var writing = WriteForeverAsync(call.RequestStream, i => new RecordTouchpointsRequest
        {
            Touchpoint = new TouchpointEvent { IdempotencyKey = $"endless-{i:D8}", CustomerId = "c-1", JourneyKey = "no-such-journey", TouchpointKey = "t" },
        }, giveUp.Token);

        var response = await call.ResponseAsync;
        call.Dispose();
        await writing;

        Assert.Equal(10_001, response.Results.Count);
        Assert.Equal((10_000, RecordStatus.Rejected, "touchpoint"), (response.Results[^1].Index, response.Results[^1].Status, response.Results[^1].Error.Field));
    }

    [Fact]
    public async Task A_request_over_1_MiB_is_RESOURCE_EXHAUSTED_before_it_is_buffered()
    {
        var feedback = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        var item = new SubmitFeedbackRequest
        {
            IdempotencyKey = $"huge-{Guid.NewGuid():N}",
            Channel = Channel.Web,
            Ratings = { new Rating { QuestionId = "nps", Value = 9 } },
            Verbatim = new string('x', 1_200_000),
        };
        await RpcAssert.StatusAsync(() => feedback.SubmitFeedbackAsync(item).ResponseAsync, StatusCode.ResourceExhausted);
    }
}
