using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Scoring.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Spectre.Console;

namespace CxMesh.Cli;

/// <summary>
/// `cxmesh bench ingest|read|freshness`: load from outside the server's process, so that what the server spends is
/// measured alone. With <c>--server-pid</c> (the server on this machine) the server's CPU per item or call is read
/// from /proc; the client's own CPU is always reported beside it.
/// </summary>
internal static class BenchCommands
{
    // About 300 characters each with a little personal data, as real verbatims have (the benchmarks' mix).
    private const string English =
        "Ordered the Ethiopian single origin on Monday. The beans were fresh and the aroma was lovely, but delivery took four days " +
        "and nobody told me it was late. The box was slightly damaged. Support was friendly and quick to reply; " +
        "call me on +44 20 7946 0958 or mail jane.doe@example.com if you need more.";

    private const string Chinese =
        "周一订了埃塞俄比亚单品咖啡豆，豆子很新鲜，香味很好，但是快递用了四天才到，也没有人通知我延误了。盒子有点破损，包装需要改进。" +
        "客服态度很好，回复也很及时。味道比上次好喝，价格也实惠，会推荐给朋友。如果需要更多信息，请打我的手机13812345678。";

    private static readonly Option<int?> ServerPid = new("--server-pid")
    {
        Description = "The cxmesh-server process on this machine: its CPU per item or call is read from /proc",
    };

    public static Command Bench(Func<ParseResult, Connection> connect, ValueCommands.Runner run)
    {
        var command = new Command("bench", "Load cxmesh-server from outside its process and measure it: ingest, hot reads, freshness");
        command.Subcommands.Add(Ingest(connect, run));
        command.Subcommands.Add(Read(connect, run));
        command.Subcommands.Add(Freshness(connect, run));
        return command;
    }

    private static Command Ingest(Func<ParseResult, Connection> connect, ValueCommands.Runner run)
    {
        var items = new Option<int>("--items") { Description = "Items to send (1-10,000,000)", DefaultValueFactory = _ => 20_000 };
        var batch = new Option<int>("--batch") { Description = "Items per SubmitFeedbackBatch stream (1-10,000)", DefaultValueFactory = _ => 1000 };
        var streams = new Option<int>("--streams") { Description = "Streams at once (1-64)", DefaultValueFactory = _ => 4 };
        var verbatims = new Option<int>("--verbatims") { Description = "Percent of items with a ~300-character verbatim (0-100)", DefaultValueFactory = _ => 60 };
        var ingest = new Command("ingest", "SubmitFeedbackBatch at full speed: items/s, batch latency, CPU per item") { items, batch, streams, verbatims, ServerPid };
        ingest.SetAction((result, ct) => run(result, async () =>
        {
            var (count, size, parallel, percent) = (result.GetValue(items), result.GetValue(batch), result.GetValue(streams), result.GetValue(verbatims));
            Require(count is >= 1 and <= 10_000_000, "--items must be 1 to 10,000,000.");
            Require(size is >= 1 and <= 10_000, "--batch must be 1 to 10,000.");
            Require(parallel is >= 1 and <= 64, "--streams must be 1 to 64.");
            Require(percent is >= 0 and <= 100, "--verbatims must be 0 to 100.");
            var client = new FeedbackService.FeedbackServiceClient(connect(result).Channel());
            var runId = Guid.NewGuid().ToString("N")[..8];
            var batches = Items(runId, count, percent).Chunk(size).ToList();
            var latencies = new List<double>(batches.Count);
            long stored = 0, refused = 0;
            var next = -1;
            var cpu = Cpu.Start(result.GetValue(ServerPid));
            await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
            {
                int b;
                while ((b = Interlocked.Increment(ref next)) < batches.Count)
                {
                    var started = Stopwatch.GetTimestamp();
                    using var call = client.SubmitFeedbackBatch(cancellationToken: ct);
                    call.RequestStream.WriteOptions = new WriteOptions(WriteFlags.BufferHint);
                    foreach (var item in batches[b]) await call.RequestStream.WriteAsync(new SubmitFeedbackBatchRequest { Item = item }, ct);
                    await call.RequestStream.CompleteAsync();
                    var response = await call.ResponseAsync;
                    lock (latencies) latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Interlocked.Add(ref stored, response.Stored + response.Replayed);
                    Interlocked.Add(ref refused, response.Rejected);
                }
            }));
            var figures = cpu.Stop(count);
            Report(result, "ingest", [
                ("items", count), ("stored", stored), ("refused", refused), ("items_per_second", count / figures.Seconds),
                ("batch_p50_ms", Percentile(latencies, 50)), ("batch_p99_ms", Percentile(latencies, 99)),
                .. figures.Rows("item"),
            ]);
        }));
        return ingest;
    }

    private static Command Read(Func<ParseResult, Connection> connect, ValueCommands.Runner run)
    {
        var seconds = new Option<int>("--seconds") { Description = "How long to read (1-600)", DefaultValueFactory = _ => 10 };
        var concurrency = new Option<int>("--concurrency") { Description = "Callers at once (1-512)", DefaultValueFactory = _ => 32 };
        var scopes = new Option<int>("--batch") { Description = "0: GetScore of one journey a call; N (1-100): BatchGetScores of N journeys a call", DefaultValueFactory = _ => 0 };
        var journey = new Option<string>("--journey") { Description = "The journey read (with --batch, journeys of this prefix and -0, -1, ...)", DefaultValueFactory = _ => "coffee-club" };
        var read = new Command("read", "Hot GetScore (last 30 days) or BatchGetScores back to back: calls/s, scores/s, latency, CPU per call") { seconds, concurrency, scopes, journey, ServerPid };
        read.SetAction((result, ct) => run(result, async () =>
        {
            var (duration, callers, batchOf, name) = (result.GetValue(seconds), result.GetValue(concurrency), result.GetValue(scopes), result.GetValue(journey)!);
            Require(duration is >= 1 and <= 600, "--seconds must be 1 to 600.");
            Require(callers is >= 1 and <= 512, "--concurrency must be 1 to 512.");
            Require(batchOf is >= 0 and <= 100, "--batch must be 0 to 100.");
            // One HTTP/2 connection per 8 callers, as a client library with a small pool would use.
            var clients = Enumerable.Range(0, Math.Max(1, callers / 8)).Select(_ => new ScoringService.ScoringServiceClient(connect(result).Channel())).ToList();
            GetScoreRequest Query(string j) => new() { Metric = Metric.Nps, Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Journey, Value = j } } }, Window = new Scoring.V1.Window { LastDays = 30 } };
            var single = Query(name);
            var batch = new BatchGetScoresRequest { Queries = { Enumerable.Range(0, batchOf).Select(i => Query($"{name}-{i}")) } };
            Func<ScoringService.ScoringServiceClient, Task> call = batchOf == 0
                ? async c => await c.GetScoreAsync(single, deadline: Connection.Deadline(), cancellationToken: ct)
                : async c => await c.BatchGetScoresAsync(batch, deadline: Connection.Deadline(), cancellationToken: ct);
            // Warmed unmeasured for a while (the server compiles its hot paths at their last tier), then measured.
            await Saturate(clients, callers, TimeSpan.FromSeconds(Math.Min(duration, 5)), call, null);
            var latencies = new List<double>();
            var cpu = Cpu.Start(result.GetValue(ServerPid));
            var calls = await Saturate(clients, callers, TimeSpan.FromSeconds(duration), call, latencies);
            var figures = cpu.Stop(calls);
            Report(result, batchOf == 0 ? "read (GetScore)" : $"read (BatchGetScores of {batchOf})", [
                ("calls", calls), ("calls_per_second", calls / figures.Seconds), ("scores_per_second", calls * Math.Max(1, batchOf) / figures.Seconds),
                ("p50_ms", Percentile(latencies, 50)), ("p99_ms", Percentile(latencies, 99)),
                .. figures.Rows("call"),
            ]);
        }));
        return read;
    }

    private static Command Freshness(Func<ParseResult, Connection> connect, ValueCommands.Runner run)
    {
        var rate = new Option<int>("--rate") { Description = "Background load, items per second (0-50,000)", DefaultValueFactory = _ => 1000 };
        var seconds = new Option<int>("--seconds") { Description = "How long to probe (1-600)", DefaultValueFactory = _ => 20 };
        var freshness = new Command("freshness", "Under a steady load, how long from an item's acknowledgement to a hot GetScore counting it") { rate, seconds, ServerPid };
        freshness.SetAction((result, ct) => run(result, async () =>
        {
            var (perSecond, duration) = (result.GetValue(rate), result.GetValue(seconds));
            Require(perSecond is >= 0 and <= 50_000, "--rate must be 0 to 50,000.");
            Require(duration is >= 1 and <= 600, "--seconds must be 1 to 600.");
            var connection = connect(result);
            var feedback = new FeedbackService.FeedbackServiceClient(connection.Channel());
            var scoring = new ScoringService.ScoringServiceClient(connection.Channel());
            var runId = Guid.NewGuid().ToString("N")[..8];
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            long sent = 0;
            // The load: a batch every 50 ms across four journeys.
            var load = Task.Run(async () =>
            {
                var perTick = perSecond / 20;
                var clock = Stopwatch.StartNew();
                for (var tick = 0; perTick > 0 && !stop.IsCancellationRequested; tick++)
                {
                    var due = TimeSpan.FromMilliseconds(50 * tick);
                    if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                    if (stop.IsCancellationRequested) break;
                    using var call = feedback.SubmitFeedbackBatch(cancellationToken: ct);
                    for (var i = 0; i < perTick; i++)
                    {
                        var n = Interlocked.Increment(ref sent);
                        await call.RequestStream.WriteAsync(new SubmitFeedbackBatchRequest { Item = Rated($"bench-load-{runId}-{n}", $"bench-load-{n % 4}", (int)(n % 11)) }, ct);
                    }
                    await call.RequestStream.CompleteAsync();
                    await call.ResponseAsync;
                }
            }, ct);
            await Task.Delay(3000, ct); // under load before the first probe
            var latencies = new List<double>();
            var cpu = Cpu.Start(result.GetValue(ServerPid));
            var until = Stopwatch.StartNew();
            while (until.Elapsed < TimeSpan.FromSeconds(duration))
            {
                var journey = $"bench-probe-{runId}-{latencies.Count}";
                await feedback.SubmitFeedbackAsync(Rated($"bench-probe-{runId}-{latencies.Count}", journey, 9), deadline: Connection.Deadline(), cancellationToken: ct);
                var acknowledged = Stopwatch.GetTimestamp();
                var request = new GetScoreRequest { Metric = Metric.Nps, Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Journey, Value = journey } } }, Window = new Scoring.V1.Window { LastDays = 7 } };
                while ((await scoring.GetScoreAsync(request, deadline: Connection.Deadline(), cancellationToken: ct)).Score is not { N: 1, Source: "cache" })
                {
                    if (Stopwatch.GetElapsedTime(acknowledged) > TimeSpan.FromSeconds(60)) throw new TimeoutException(
                        $"The probe in {journey} was not counted in a hot score within 60 s: scoring is behind (a backlog of earlier load?). Wait for it to catch up and run again.");
                    await Task.Delay(2, ct);
                }
                latencies.Add(Stopwatch.GetElapsedTime(acknowledged).TotalMilliseconds);
                await Task.Delay(50, ct);
            }
            var figures = cpu.Stop(Math.Max(1, Interlocked.Read(ref sent)));
            await stop.CancelAsync();
            await load;
            Report(result, "freshness", [
                ("probes", latencies.Count), ("load_items_per_second", sent / figures.Seconds),
                ("ack_to_hot_score_p50_ms", Percentile(latencies, 50)), ("ack_to_hot_score_p99_ms", Percentile(latencies, 99)), ("max_ms", latencies.DefaultIfEmpty().Max()),
                .. figures.Rows("load item"),
            ]);
        }));
        return freshness;
    }

    private static async Task<long> Saturate(IReadOnlyList<ScoringService.ScoringServiceClient> clients, int callers, TimeSpan duration, Func<ScoringService.ScoringServiceClient, Task> call, List<double>? latencies)
    {
        long done = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async c =>
        {
            var own = new List<double>();
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                await call(clients[c % clients.Count]);
                own.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Interlocked.Increment(ref done);
            }
            if (latencies is not null) lock (latencies) latencies.AddRange(own);
        }));
        return done;
    }

    private static IEnumerable<SubmitFeedbackRequest> Items(string runId, int count, int percent)
    {
        var now = DateTime.UtcNow;
        for (var i = 0; i < count; i++)
        {
            var item = Rated($"bench-{runId}-{i}", "bench-coffee", i % 11);
            item.Channel = i % 3 == 0 ? Channel.Survey : Channel.Review;
            item.CustomerId = $"bench-{runId}-c{i % 50_000}";
            item.GivenAt = Timestamp.FromDateTime(now.AddMinutes(-(i % 40_000)));
            item.Links = new Links { TouchpointKey = "delivered", ProductId = $"sku-{i % 40}", LotId = $"lot-{i % 400}" };
            item.Source = new Source { System = "bench", ExternalId = $"{runId}-{i}" };
            if (i % 4 == 0) item.Ratings.Add(new Rating { QuestionId = "csat", Value = 1 + i % 5 });
            if (i % 100 < percent) item.Verbatim = (i % 2 == 0 ? English : Chinese) + $" #{i}";
            yield return item;
        }
    }

    private static SubmitFeedbackRequest Rated(string key, string journey, int rating) => new()
    {
        IdempotencyKey = key,
        Channel = Channel.Survey,
        JourneyKey = journey,
        CustomerId = $"c-{key}",
        Ratings = { new Rating { QuestionId = "nps", Value = rating } },
    };

    private static void Require(bool ok, string message)
    {
        if (!ok) throw new ArgumentException(message);
    }

    private static double Percentile(List<double> values, int percentile)
    {
        if (values.Count == 0) return 0;
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static void Report(ParseResult result, string what, IReadOnlyList<(string Name, double Value)> figures)
    {
        var json = new Struct { Fields = { ["benchmark"] = Value.ForString(what) } };
        foreach (var (name, value) in figures) json.Fields[name] = Value.ForNumber(Math.Round(value, 3));
        Output.Print(result, json, () =>
        {
            var table = new Table().AddColumns("figure", "value").Title($"cxmesh bench {what}");
            foreach (var (name, value) in figures) table.AddRow(name.Replace('_', ' '), value.ToString(value >= 100 ? "N0" : "0.###", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
        });
    }

    /// <summary>CPU of this process and, when given, of the server's, over a measured stretch.</summary>
    private sealed class Cpu
    {
        private readonly int? _serverPid;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly TimeSpan _client0 = Process.GetCurrentProcess().TotalProcessorTime;
        private readonly double? _server0;

        private Cpu(int? serverPid)
        {
            _serverPid = serverPid;
            _server0 = serverPid is { } pid ? ServerSeconds(pid) : null;
        }

        public static Cpu Start(int? serverPid) => new(serverPid);

        public sealed record Figures(double Seconds, double ClientMicroseconds, double? ServerMicroseconds)
        {
            public IEnumerable<(string, double)> Rows(string per)
            {
                yield return ($"client_cpu_us_per_{per.Replace(' ', '_')}", ClientMicroseconds);
                if (ServerMicroseconds is { } server) yield return ($"server_cpu_us_per_{per.Replace(' ', '_')}", server);
            }
        }

        public Figures Stop(long units)
        {
            var seconds = _clock.Elapsed.TotalSeconds;
            var client = (Process.GetCurrentProcess().TotalProcessorTime - _client0).TotalMicroseconds / units;
            double? server = _serverPid is { } pid && _server0 is { } before ? (ServerSeconds(pid) - before) * 1e6 / units : null;
            return new Figures(seconds, client, server);
        }

        // utime + stime of /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
        private static double ServerSeconds(int pid)
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                throw new ArgumentException($"--server-pid: no process {pid} on this machine (the server's CPU can be read only where it runs).");
            }
            catch (UnauthorizedAccessException)
            {
                throw new ArgumentException($"--server-pid: process {pid} cannot be read by this user.");
            }
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
    }
}
