using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.Scoring.V1;
using CxMesh.TestKit;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;

namespace CxMesh.EndToEnd.Tests;

/// <summary>
/// Requests whose bytes are not a message of the method's type (#14): INVALID_ARGUMENT saying the request could not
/// be parsed, never UNKNOWN; in a stream, the one bad item is rejected alone.
/// </summary>
public sealed class MalformedRequestTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private static readonly Marshaller<byte[]> Raw = new((b, c) => c.Complete(b), c => c.PayloadAsNewBuffer());

    /// <summary>Bytes a broken or hostile client can put in a frame, each with what is wrong with it.</summary>
    public static TheoryData<string, byte[]> Frames => new()
    {
        // GetScoreRequest.question_id (field 4, length-delimited) holding 0xFF, which is not UTF-8.
        { "invalid UTF-8", [0x22, 0x03, 0x61, 0xFF, 0x62] },
        // A lone surrogate (U+D800) encoded as UTF-8, as grpc-js sends a JavaScript string holding one.
        { "lone surrogate", [0x22, 0x03, 0xED, 0xA0, 0x80] },
        // A length-delimited field announcing 100 bytes with 2 present.
        { "truncated", [0x22, 0x64, 0x61, 0x62] },
        // A varint of eleven bytes (at most ten are legal).
        { "over-long varint", [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01] },
        // Tag 0x00: field number 0 does not exist.
        { "field number 0", [0x00, 0x01] },
        // 200 nested start-group tags of an unknown field 15: deeper than the parser's recursion limit.
        { "nested groups", [.. Enumerable.Repeat((byte)0x7B, 200)] },
    };

    [Theory]
    [MemberData(nameof(Frames))]
    public async Task A_request_that_cannot_be_parsed_is_INVALID_ARGUMENT_and_the_connection_stays_usable(string what, byte[] frame)
    {
        using var channel = fixture.Host.Channel(Roles.Analyst);
        var method = new Method<byte[], byte[]>(MethodType.Unary, ScoringService.Descriptor.FullName, "GetScore", Raw, Raw);

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(), frame).ResponseAsync);

        Assert.True(ex.StatusCode == StatusCode.InvalidArgument, $"{what}: {ex.Status}");
        Assert.Contains("could not be parsed", ex.Status.Detail);
        Assert.Equal("MALFORMED_REQUEST", ex.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
        // The same connection still serves a well-formed call.
        var score = await new ScoringService.ScoringServiceClient(channel).GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps });
        Assert.NotNull(score);
    }

    [Fact]
    public async Task In_a_batch_an_item_that_cannot_be_parsed_is_rejected_alone()
    {
        using var channel = fixture.Host.Channel(Roles.App);
        var method = new Method<byte[], byte[]>(MethodType.ClientStreaming, FeedbackService.Descriptor.FullName, "SubmitFeedbackBatch", Raw, Raw);
        SubmitFeedbackBatchRequest Item(string key) => new()
        {
            Item = new SubmitFeedbackRequest
            {
                IdempotencyKey = key,
                Channel = Channel.Survey,
                Ratings = { new Rating { QuestionId = "nps", Value = 9 } },
            },
        };
        var key = $"malformed-{Guid.NewGuid():N}";

        using var call = channel.CreateCallInvoker().AsyncClientStreamingCall(method, null, new CallOptions());
        await call.RequestStream.WriteAsync(Item($"{key}-a").ToByteArray());
        await call.RequestStream.WriteAsync([0x0A, 0x05, 0x0A, 0x03, 0x61, 0xFF, 0x62]); // item.idempotency_key holding invalid UTF-8
        await call.RequestStream.WriteAsync(Item($"{key}-c").ToByteArray());
        await call.RequestStream.CompleteAsync();
        var response = SubmitFeedbackBatchResponse.Parser.ParseFrom(await call.ResponseAsync);

        Assert.Equal((2, 1), (response.Stored, response.Rejected));
        var rejected = Assert.Single(response.Results, r => r.Status == SubmitStatus.Rejected);
        Assert.Equal((1, "item"), (rejected.Index, rejected.Error.Field));
        Assert.Contains("could not be parsed", rejected.Error.Message);
    }
}
