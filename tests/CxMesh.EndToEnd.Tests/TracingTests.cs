using System.Collections.Concurrent;
using System.Diagnostics;
using CxMesh.TestKit;

namespace CxMesh.EndToEnd.Tests;

/// <summary>One trace spans ingest → outbox → relay → handler: the trace context travels inside the event.</summary>
public sealed class TracingTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    [Fact]
    public async Task The_caller_s_trace_continues_through_publishing_and_handling_the_event()
    {
        var activities = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "CxMesh.Messaging" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Add,
        };
        ActivitySource.AddActivityListener(listener);

        var traceId = ActivityTraceId.CreateRandom();
        var app = new Scenario(fixture.Host);
        // The caller's own span: the gRPC client's instrumentation (CxMesh traces outgoing calls) sends its context on.
        using (new Activity("test-caller").SetParentId(traceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start())
        {
            await app.Feedback.SubmitFeedbackAsync(Scenario.Nps(6, journey: "traced"));
        }
        await app.ScoreWithNAsync(1, "traced");

        var inTrace = await Eventually.Until(
            () => Task.FromResult(activities.Where(a => a.TraceId == traceId).Select(a => a.OperationName).ToList()),
            names => names.Contains("feedback.received.v1 publish") && names.Contains("feedback.received.v1 process"),
            because: "publish and process spans join the caller's trace");
        Assert.Contains(activities, a => a.TraceId == traceId && a.Source.Name == "Microsoft.AspNetCore");
        Assert.Contains("feedback.received.v1 process", inTrace);
    }
}
