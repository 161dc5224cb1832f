using System.CommandLine;
using CxMesh.Cli;
using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Journey.V1;
using CxMesh.Scoring.V1;
using Google.Rpc;
using Grpc.Core;
using Spectre.Console;

var grpc = new Option<string>("--grpc")
{
    Description = "gRPC address of cxmesh-server (default: $CXMESH_GRPC, else http://127.0.0.1:5080)",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CXMESH_GRPC") ?? "http://127.0.0.1:5080",
    Recursive = true,
};
var token = new Option<string?>("--token")
{
    Description = "Bearer token (default: $CXMESH_TOKEN)",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CXMESH_TOKEN"),
    Recursive = true,
};

var count = new Option<int>("--count") { Description = "How many feedback items", DefaultValueFactory = _ => 600 };
var customers = new Option<int>("--customers") { Description = "How many customers on the coffee-subscription journey", DefaultValueFactory = _ => 3000 };
var seed = new Command("seed-demo", "Load the demo data set (needs an admin token; repeatable: a second run on the same day changes nothing)") { count, customers };
seed.SetAction((result, ct) => Run(async () =>
{
    var channel = Connect(result).Channel();
    var journeys = new JourneyService.JourneyServiceClient(channel);
    try
    {
        await journeys.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = JourneyDemo.Definition() },
            deadline: Connection.Deadline(), cancellationToken: ct);
    }
    catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
    {
    }
    var touchpoints = JourneyDemo.Touchpoints(DateOnly.FromDateTime(DateTime.UtcNow), result.GetValue(customers)).ToList();
    int recorded = 0, replayed = 0;
    await AnsiConsole.Progress().AutoClear(true).StartAsync(async progress =>
    {
        var task = progress.AddTask("Recording demo journeys", maxValue: touchpoints.Count);
        foreach (var batch in touchpoints.Chunk(1000))
        {
            using var call = journeys.RecordTouchpoints(deadline: Connection.Deadline(120), cancellationToken: ct);
            foreach (var e in batch) await call.RequestStream.WriteAsync(new RecordTouchpointsRequest { Touchpoint = e }, ct);
            await call.RequestStream.CompleteAsync();
            var response = await call.ResponseAsync;
            if (response.Rejected > 0)
            {
                var first = response.Results.First(r => r.Status == RecordStatus.Rejected);
                throw new InvalidOperationException($"demo touchpoint rejected: {first.Error.Field}: {first.Error.Message}");
            }
            recorded += response.Recorded;
            replayed += response.Replayed;
            task.Increment(batch.Length);
        }
    });
    Console.WriteLine($"Demo journeys: {recorded} touchpoints recorded, {replayed} already there.");

    var client = new FeedbackService.FeedbackServiceClient(channel);
    var items = DemoData.Generate(DateOnly.FromDateTime(DateTime.UtcNow), result.GetValue(count)).ToList();
    int stored = 0, alreadyStored = 0;
    await AnsiConsole.Progress().AutoClear(true).StartAsync(async progress =>
    {
        var task = progress.AddTask("Seeding demo feedback", maxValue: items.Count);
        foreach (var chunk in items.Chunk(16))
        {
            var responses = await Task.WhenAll(chunk.Select(r => client.SubmitFeedbackAsync(r, deadline: Connection.Deadline(), cancellationToken: ct).ResponseAsync));
            stored += responses.Count(r => !r.Replayed);
            alreadyStored += responses.Count(r => r.Replayed);
            task.Increment(chunk.Length);
        }
    });
    Console.WriteLine($"Demo feedback: {stored} items stored, {alreadyStored} already there.");
}));

var nps = new Option<int>("--nps") { Description = "NPS rating, 0-10", Required = true };
var journey = new Option<string?>("--journey") { Description = "Journey id the feedback belongs to" };
var channel = new Option<string>("--channel") { Description = "survey, complaint, contact-centre, web, self-service, social, review, other", DefaultValueFactory = _ => "survey" };
var verbatim = new Option<string?>("--verbatim") { Description = "Free text" };
var key = new Option<string?>("--key") { Description = "Idempotency key (default: a new one)" };
var submit = new Command("submit", "Submit one feedback item with an NPS rating") { nps, journey, channel, verbatim, key };
submit.SetAction((result, ct) => Run(async () =>
{
    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    var request = new SubmitFeedbackRequest
    {
        IdempotencyKey = result.GetValue(key) ?? $"cli-{Guid.NewGuid():N}",
        Channel = ParseChannel(result.GetValue(channel)!),
        JourneyId = result.GetValue(journey) ?? "",
        Verbatim = result.GetValue(verbatim) ?? "",
        Ratings = { new Rating { QuestionId = "nps", Value = result.GetValue(nps) } },
    };
    var response = await client.SubmitFeedbackAsync(request, deadline: Connection.Deadline(), cancellationToken: ct);
    Console.WriteLine($"{(response.Replayed ? "Already stored" : "Stored")}: feedback {response.Item.Id}");
}));

var scoreJourney = new Option<string?>("--journey") { Description = "Score of one journey (default: all feedback)" };
var days = new Option<int>("--days") { Description = "Window: the last N days", DefaultValueFactory = _ => 30 };
var score = new Command("score", "Read an NPS score with its n and 95% margin of error") { scoreJourney, days };
score.SetAction((result, ct) => Run(async () =>
{
    var client = new ScoringService.ScoringServiceClient(Connect(result).Channel());
    var request = new GetScoreRequest { Metric = Metric.Nps, Window = new Window { LastDays = result.GetValue(days) } };
    if (result.GetValue(scoreJourney) is { Length: > 0 } j)
    {
        request.Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Journey, Value = j } } };
    }
    var s = (await client.GetScoreAsync(request, deadline: Connection.Deadline(), cancellationToken: ct)).Score;
    Console.WriteLine($"NPS {s.Value:+0.0;-0.0;0} ± {s.MarginOfError:0.0} (n={s.N}: {s.Promoters} promoters, {s.Passives} passives, {s.Detractors} detractors) {s.StartDate}..{s.EndDate} [{s.Source}]");
}));

var funnelJourney = new Option<string>("--journey") { Description = "Journey key", DefaultValueFactory = _ => JourneyDemo.Key };
var segment = new Option<string?>("--segment") { Description = "Only instances of this segment" };
var funnel = new Command("funnel", "Show a journey's funnel over the last 30 days") { funnelJourney, segment };
funnel.SetAction((result, ct) => Run(async () =>
{
    var client = new JourneyService.JourneyServiceClient(Connect(result).Channel());
    var f = await client.GetFunnelAsync(new GetFunnelRequest { JourneyKey = result.GetValue(funnelJourney)!, Segment = result.GetValue(segment) ?? "" },
        deadline: Connection.Deadline(), cancellationToken: ct);
    var table = new Table().AddColumns("stage", "entered", "completed", "dropped", "from start", "median in stage", "p90 in stage");
    foreach (var s in f.Stages)
    {
        table.AddRow(s.StageKey, $"{s.Entered}", $"{s.Completed}", $"{s.Dropped}", $"{s.ConversionFromStart:P0}",
            Human(s.MedianTimeInStage), Human(s.P90TimeInStage));
    }
    AnsiConsole.Write(table);
    Console.WriteLine($"{f.Started} started, {f.Completed} completed, {f.Abandoned} abandoned ({f.AbandonmentRate:P1}); " +
        $"end to end median {Human(f.MedianEndToEnd)}, p90 {Human(f.P90EndToEnd)}  [{f.StartDate}..{f.EndDate}]");
}));

var root = new RootCommand("cxmesh: the CxMesh command line") { seed, submit, score, funnel };
root.Options.Add(grpc);
root.Options.Add(token);
return await root.Parse(args).InvokeAsync();

Connection Connect(ParseResult result) => new(result.GetValue(grpc)!, result.GetValue(token));

static string Human(Google.Protobuf.WellKnownTypes.Duration? d) => d?.ToTimeSpan() switch
{
    null => "-",
    { TotalDays: >= 1 } t => $"{t.TotalDays:0.0} d",
    { TotalHours: >= 1 } t => $"{t.TotalHours:0.0} h",
    var t => $"{t.Value.TotalMinutes:0} min",
};

static Channel ParseChannel(string value) =>
    Enum.TryParse<Channel>(value.Replace("-", "").Replace("_", ""), ignoreCase: true, out var c) && c != Channel.Unspecified
        ? c
        : throw new ArgumentException($"--channel: unknown channel '{value}'.");

static async Task<int> Run(Func<Task> action)
{
    try
    {
        await action();
        return 0;
    }
    catch (RpcException ex)
    {
        Console.Error.WriteLine($"{ex.StatusCode}: {ex.Status.Detail}");
        foreach (var violation in ex.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations ?? [])
        {
            Console.Error.WriteLine($"  {violation.Field}: {violation.Description}");
        }
        return ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition ? 65 : 69;
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine(ex.Message);
        return 64;
    }
}
