using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Governance.V1;
using CxMesh.Journey.V1;
using CxMesh.Scoring.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;

namespace CxMesh.Cli;

/// <summary>
/// Proves a deployment end to end: records a touchpoint, submits a detractor's feedback, reads the journey's score
/// and waits for the detractor alert to become a governance action — events must really flow (through Dapr when the
/// services run apart). Each service may sit behind its own address.
/// </summary>
public sealed class SmokeTest(Func<string, GrpcChannel> channelFor, TextWriter output, TimeSpan timeout)
{
    public const string JourneyKey = "smoke-test";

    public async Task RunAsync(CancellationToken ct)
    {
        var journeys = new JourneyService.JourneyServiceClient(channelFor("journey"));
        var feedback = new FeedbackService.FeedbackServiceClient(channelFor("feedback"));
        var scoring = new ScoringService.ScoringServiceClient(channelFor("scoring"));
        var governance = new GovernanceService.GovernanceServiceClient(channelFor("governance"));
        var run = Guid.NewGuid().ToString("N")[..12];
        var customer = $"smoke-{run}";

        try
        {
            var definition = new JourneyDefinition { Key = JourneyKey, Name = "Smoke test", InactivityTimeout = Duration.FromTimeSpan(TimeSpan.FromDays(1)) };
            definition.Stages.Add(new Stage
            {
                Key = "visit",
                Name = "Visit",
                Touchpoints = { new TouchpointDefinition { Key = "visited", Name = "Visited", Channel = TouchpointChannel.Web, StartsJourney = true, EndsJourney = true } },
            });
            await journeys.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = definition }, deadline: Deadline(), cancellationToken: ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
        {
        }
        var touchpoint = await journeys.RecordTouchpointAsync(new RecordTouchpointRequest
        {
            Touchpoint = new TouchpointEvent
            {
                IdempotencyKey = $"smoke-touchpoint-{run}",
                CustomerId = customer,
                JourneyKey = JourneyKey,
                TouchpointKey = "visited",
                OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow.AddMinutes(-1)),
            },
        }, deadline: Deadline(), cancellationToken: ct);
        output.WriteLine($"journey:    touchpoint recorded ({touchpoint.Status})");

        var item = (await feedback.SubmitFeedbackAsync(new SubmitFeedbackRequest
        {
            IdempotencyKey = $"smoke-feedback-{run}",
            Channel = Channel.Survey,
            Journey = JourneyKey,
            CustomerId = customer,
            Ratings = { new Rating { QuestionId = "nps", Value = 2 } },
            Verbatim = "Smoke test: the page never loaded.",
            GivenAt = Timestamp.FromDateTime(DateTime.UtcNow.AddSeconds(-30)),
        }, deadline: Deadline(), cancellationToken: ct)).Item;
        output.WriteLine($"feedback:   item {item.Id} stored");

        var score = await UntilAsync("scoring to count the response (feedback.received)", async () =>
        {
            var s = (await scoring.GetScoreAsync(new GetScoreRequest
            {
                Metric = Metric.Nps,
                Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Journey, Value = JourneyKey } } },
                Window = new Window { LastDays = 1 },
            }, deadline: Deadline(), cancellationToken: ct)).Score;
            return s.Detractors > 0 ? s : null;
        }, ct);
        output.WriteLine($"scoring:    NPS {score.Value:+0.0;-0.0;0} over {score.N} response(s) today ({score.Source})");

        var action = await UntilAsync("governance to open an action for the detractor (alert.raised)", async () =>
            (await governance.ListActionsAsync(new ListActionsRequest { JourneyKey = JourneyKey, PageSize = 200 }, deadline: Deadline(), cancellationToken: ct))
                .Actions.FirstOrDefault(a => a.FeedbackId == item.Id), ct);
        output.WriteLine($"governance: action {action.Id} for {(action.OwnerId.Length > 0 ? action.OwnerId : "team " + action.TeamId)}, due {action.DueAt.ToDateTime():u}");
        output.WriteLine("smoke test passed: events flow from feedback through scoring to governance.");
    }

    private async Task<T> UntilAsync<T>(string what, Func<Task<T?>> probe, CancellationToken ct) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (await probe() is { } found) return found;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"gave up after {timeout.TotalSeconds:0} s waiting for {what}.");
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    private static DateTime Deadline() => Connection.Deadline();
}
