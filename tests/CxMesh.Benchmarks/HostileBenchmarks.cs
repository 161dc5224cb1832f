using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using CxMesh.TestKit.Fuzzing;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace CxMesh.Benchmarks;

/// <summary>
/// Hostile callers against a real cxmesh-server process (#14): the fuzzer's long run (cases/s, findings), and the
/// server's peak resident memory while one caller sends each worst case, as a ratio to the idle host.
/// </summary>
internal static class HostileBenchmarks
{
    /// <summary>The fuzzer over <paramref name="seeds"/> seeds with <paramref name="perMethod"/> sampled cases per RPC each.</summary>
    public static async Task FuzzAsync(int perMethod, int seeds)
    {
        Console.WriteLine($"# Fuzzer: {seeds} seed(s), up to {perMethod} sampled cases per RPC each (plus the empty, plausible and raw-frame cases)");
        await using var host = await CxMeshTestHost.StartAsync(s => s.LiftCallerLimits());
        var total = 0;
        var elapsed = TimeSpan.Zero;
        var findings = new List<FuzzFinding>();
        for (var seed = 1; seed <= seeds; seed++)
        {
            var fuzzer = new ProtoFuzzer(host, seed);
            var report = await fuzzer.RunAsync(fuzzer.Cases(perMethod));
            total += report.Cases;
            elapsed += report.Elapsed;
            findings.AddRange(report.Findings);
            Console.WriteLine($"seed {seed,3}: {report.Cases,6:N0} cases in {report.Elapsed.TotalSeconds,6:F1} s ({report.CasesPerSecond,5:F0}/s), {report.Findings.Count} findings");
        }
        Console.WriteLine($"total: {total:N0} cases in {elapsed.TotalSeconds:F1} s ({total / elapsed.TotalSeconds:F0} cases/s), {findings.Count} findings");
        foreach (var f in findings.Take(50)) Console.WriteLine($"  {f.Case}: {f.Problem}");
    }

    public static async Task MemoryAsync()
    {
        Console.WriteLine("# Peak resident memory of a cxmesh-server process (all services) while one caller sends each worst case");
        // Each case gets a fresh server, warmed up as a host in use is: the peak is that one caller's doing alone.
        Console.WriteLine($"{"case",-52} {"outcome",-34} {"idle MiB",9} {"peak MiB",9} {"× idle",7}");
        var worst = 0.0;
        async Task CaseAsync(string name, Func<Ctx, Task<string>> run)
        {
            await using var server = await ServerProcess.StartAsync();
            var token = DevelopmentTokens.Create(new AuthOptions { SigningKey = CxMeshTestHost.SigningKey }, Roles.App, "hostile-caller");
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress, new GrpcChannelOptions { MaxSendMessageSize = null, MaxReceiveMessageSize = null });
            var ctx = new Ctx(server, token, new FeedbackService.FeedbackServiceClient(channel), new Metadata { { "authorization", $"Bearer {token}" } });
            await ImportStatusAsync(ctx.Feedback, ctx.Headers, Encoding.UTF8.GetBytes("nps,comment\n" + string.Concat(Enumerable.Range(0, 2_000).Select(i => $"{i % 11},warm-up row {i}\n"))));
            await BatchAsync(ctx.Feedback, ctx.Headers, 2_000, i => Item($"warm-{i:D6}", 9, "warm-up"));
            await Task.Delay(TimeSpan.FromSeconds(3));
            var idle = server.ResidentBytes();
            server.ResetPeak();
            string outcome;
            try
            {
                outcome = await run(ctx);
            }
            catch (RpcException e)
            {
                outcome = e.StatusCode.ToString();
            }
            var peak = server.PeakBytes();
            worst = Math.Max(worst, peak / (double)idle);
            Console.WriteLine($"{name,-52} {Cut(outcome, 34),-34} {Mib(idle),9} {Mib(peak),9} {peak / (double)idle,7:F2}");
        }

        await CaseAsync("CSV header of endless short columns", c => EndlessImportAsync(c.Feedback, c.Headers, "", "c,"));
        await CaseAsync("CSV header of endless quoted multi-line fields", c => EndlessImportAsync(c.Feedback, c.Headers, "", "\"x\ny\","));
        await CaseAsync("CSV header of endless 1 KB columns", c => EndlessImportAsync(c.Feedback, c.Headers, "", new string('h', 1_000) + ","));
        await CaseAsync("CSV header field of 10 MB", c => ImportStatusAsync(c.Feedback, c.Headers, Encoding.UTF8.GetBytes("nps," + new string('h', 10_000_000) + "\n9,x\n")));
        await CaseAsync("CSV row of endless 60 KB fields", c => EndlessImportAsync(c.Feedback, c.Headers, "nps,comment\n9,", new string('w', 60_000) + ","));
        await CaseAsync("batch that never ends (small items)", c => EndlessBatchAsync(c.Feedback, c.Headers, i => Item($"endless-{i:D8}", 1, "", "no-such-question")));
        await CaseAsync("batch of 1 MB items until refused", c => EndlessBatchAsync(c.Feedback, c.Headers, i => Item($"big-{i:D8}", 9, new string('v', 1_000_000))));
        await CaseAsync("40,000-item batch of valid items", c => BatchStatusAsync(c.Feedback, c.Headers, 40_000));
        await CaseAsync("200 idle batch streams at once", c => IdleStreamsAsync(c.Feedback, c.Headers, 200));
        await CaseAsync("200 slow-loris imports (10 bytes/s)", c => SlowLorisAsync(c.Feedback, c.Headers, 200));
        await CaseAsync("50 unary calls of 4 MB at once", c => BigUnaryAsync(c.Feedback, c.Headers, 50, 4_000_000));
        await CaseAsync("50 unary calls of 1 MB at once", c => BigUnaryAsync(c.Feedback, c.Headers, 50, 1_000_000));
        await CaseAsync("JSON body of 10,000 nested arrays", c => JsonAsync(c.Server, c.Token, new string('[', 10_000) + new string(']', 10_000)));
        await CaseAsync("JSON body of 4 MB", c => JsonAsync(c.Server, c.Token, "{\"verbatim\":\"" + new string('j', 4_000_000) + "\"}"));
        Console.WriteLine($"worst case: {worst:F2}× the idle host");
    }

    private sealed record Ctx(ServerProcess Server, string Token, FeedbackService.FeedbackServiceClient Feedback, Metadata Headers);

    private static SubmitFeedbackRequest Item(string key, int nps, string verbatim, string question = "nps") => new()
    {
        IdempotencyKey = key,
        Channel = Channel.Web,
        Ratings = { new Rating { QuestionId = question, Value = nps } },
        Verbatim = verbatim,
    };

    private static async Task<string> EndlessImportAsync(FeedbackService.FeedbackServiceClient client, Metadata headers, string start, string unit)
    {
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var call = client.ImportFeedbackCsv(headers, cancellationToken: giveUp.Token);
        await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest
        {
            Options = new CsvImportOptions { SourceSystem = "hostile", DefaultChannel = Channel.Web, Columns = { ["rating:nps"] = "nps" } },
        });
        var bytes = Encoding.UTF8.GetBytes(unit);
        var chunk = ByteString.CopyFrom([.. Enumerable.Range(0, Math.Max(1, (1 << 20) / bytes.Length)).SelectMany(_ => bytes)]);
        long sent = 0;
        var writing = Task.Run(async () =>
        {
            try
            {
                await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = ByteString.CopyFromUtf8(start) });
                while (true)
                {
                    await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = chunk });
                    sent += chunk.Length;
                }
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or OperationCanceledException)
            {
            }
        });
        var outcome = await ReadImportAsync(call);
        await writing;
        return $"{outcome} after {sent / 1048576.0:F0} MiB sent";
    }

    private static async Task<string> ReadImportAsync(AsyncDuplexStreamingCall<ImportFeedbackCsvRequest, ImportFeedbackCsvResponse> call)
    {
        try
        {
            ImportFeedbackCsvResponse? last = null;
            await foreach (var r in call.ResponseStream.ReadAllAsync()) last = r;
            return last is null ? "OK" : $"OK, {last.Stored} stored";
        }
        catch (RpcException e)
        {
            return e.StatusCode.ToString();
        }
    }

    private static async Task<string> ImportStatusAsync(FeedbackService.FeedbackServiceClient client, Metadata headers, byte[] file)
    {
        using var call = client.ImportFeedbackCsv(headers);
        await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest
        {
            Options = new CsvImportOptions { SourceSystem = "hostile", DefaultChannel = Channel.Web, Columns = { ["rating:nps"] = "nps" } },
        });
        var reading = ReadImportAsync(call);
        try
        {
            for (var at = 0; at < file.Length; at += 1 << 20)
            {
                await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = ByteString.CopyFrom(file, at, Math.Min(1 << 20, file.Length - at)) });
            }
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
        }
        return await reading;
    }

    private static async Task<string> EndlessBatchAsync(FeedbackService.FeedbackServiceClient client, Metadata headers, Func<int, SubmitFeedbackRequest> item)
    {
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var call = client.SubmitFeedbackBatch(headers, cancellationToken: giveUp.Token);
        var sent = 0;
        var writing = Task.Run(async () =>
        {
            try
            {
                while (true) await call.RequestStream.WriteAsync(new SubmitFeedbackBatchRequest { Item = item(sent++) });
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or OperationCanceledException)
            {
            }
        });
        var response = await call.ResponseAsync;
        await writing;
        return $"{response.Results.Count:N0} results, {response.CalculateSize() / 1024} KiB";
    }

    private static async Task BatchAsync(FeedbackService.FeedbackServiceClient client, Metadata headers, int count, Func<int, SubmitFeedbackRequest> item)
    {
        using var call = client.SubmitFeedbackBatch(headers);
        for (var i = 0; i < count; i++) await call.RequestStream.WriteAsync(new SubmitFeedbackBatchRequest { Item = item(i) });
        await call.RequestStream.CompleteAsync();
        await call.ResponseAsync;
    }

    private static async Task<string> BatchStatusAsync(FeedbackService.FeedbackServiceClient client, Metadata headers, int count)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var call = client.SubmitFeedbackBatch(headers);
        try
        {
            for (var i = 0; i < count; i++)
            {
                await call.RequestStream.WriteAsync(new SubmitFeedbackBatchRequest { Item = Item($"b40k-{run}-{i:D6}", i % 11, i % 3 == 0 ? "Delivery was late and the box was damaged, the support team was kind though" : "") });
            }
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
        }
        var response = await call.ResponseAsync;
        return $"{response.Stored:N0} stored, reply {response.CalculateSize() / 1024} KiB";
    }

    private static async Task<string> IdleStreamsAsync(FeedbackService.FeedbackServiceClient client, Metadata headers, int streams)
    {
        using var stop = new CancellationTokenSource();
        var calls = Enumerable.Range(0, streams).Select(_ => client.SubmitFeedbackBatch(headers, cancellationToken: stop.Token)).ToList();
        var refused = 0;
        await Task.Delay(TimeSpan.FromSeconds(5));
        foreach (var call in calls)
        {
            if (call.ResponseAsync.IsCompleted && call.ResponseAsync.Exception?.InnerException is RpcException { StatusCode: StatusCode.ResourceExhausted }) refused++;
        }
        await stop.CancelAsync();
        foreach (var call in calls) call.Dispose();
        return $"{streams - refused} open, {refused} RESOURCE_EXHAUSTED";
    }

    private static async Task<string> SlowLorisAsync(FeedbackService.FeedbackServiceClient client, Metadata headers, int uploads)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var refused = 0;
        await Task.WhenAll(Enumerable.Range(0, uploads).Select(async _ =>
        {
            using var call = client.ImportFeedbackCsv(headers, cancellationToken: stop.Token);
            try
            {
                await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest
                {
                    Options = new CsvImportOptions { SourceSystem = "slow", DefaultChannel = Channel.Web, Columns = { ["rating:nps"] = "nps" } },
                });
                await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = ByteString.CopyFromUtf8("nps\n") });
                while (!stop.IsCancellationRequested)
                {
                    await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = ByteString.CopyFromUtf8("9\n9\n9\n9\n9\n") });
                    await Task.Delay(1_000, stop.Token);
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                Interlocked.Increment(ref refused);
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or OperationCanceledException)
            {
                if (call.GetStatus() is { StatusCode: StatusCode.ResourceExhausted }) Interlocked.Increment(ref refused);
            }
        }));
        return $"{uploads - refused} ran, {refused} RESOURCE_EXHAUSTED";
    }

    private static async Task<string> BigUnaryAsync(FeedbackService.FeedbackServiceClient client, Metadata headers, int calls, int size)
    {
        var codes = await Task.WhenAll(Enumerable.Range(0, calls).Select(async i =>
        {
            try
            {
                await client.SubmitFeedbackAsync(Item($"huge-{i:D8}", 9, new string('u', size)), headers);
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }));
        return string.Join(", ", codes.GroupBy(c => c).Select(g => $"{g.Count()} {g.Key}"));
    }

    private static async Task<string> JsonAsync(ServerProcess server, string token, string body)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.PostAsync($"{server.HttpAddress}/v1/feedback", new StringContent(body, Encoding.UTF8, "application/json"));
        return $"HTTP {(int)response.StatusCode}";
    }

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("F0", CultureInfo.InvariantCulture);
    private static string Cut(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    /// <summary>cxmesh-server as its own process (the one binary, all services), so its memory is its own.</summary>
    private sealed class ServerProcess : IAsyncDisposable
    {
        private readonly Process process;

        private ServerProcess(Process process, int grpcPort, int httpPort)
        {
            this.process = process;
            GrpcAddress = $"http://127.0.0.1:{grpcPort}";
            HttpAddress = $"http://127.0.0.1:{httpPort}";
        }

        public string GrpcAddress { get; }
        public string HttpAddress { get; }

        public static async Task<ServerProcess> StartAsync()
        {
            var (grpcPort, httpPort) = (Ports.Free(), Ports.Free());
            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cxmesh-server.dll"));
            start.ArgumentList.Add("run");
            var env = start.Environment;
            env["CxMesh__Services"] = "all";
            env["CxMesh__BindAddress"] = "127.0.0.1";
            env["CxMesh__GrpcPort"] = grpcPort.ToString(CultureInfo.InvariantCulture);
            env["CxMesh__HttpPort"] = httpPort.ToString(CultureInfo.InvariantCulture);
            env["Auth__SigningKey"] = CxMeshTestHost.SigningKey;
            env["Feedback__ActiveContactKey"] = "bench";
            env["Feedback__ContactKeys__bench"] = CxMeshTestHost.ContactKey;
            env["Partner__ActiveSecretKey"] = "bench";
            env["Partner__SecretKeys__bench"] = CxMeshTestHost.ContactKey;
            env["ConnectionStrings__redis"] = TestServers.Redis.Endpoint;
            env["Redis__KeyPrefix"] = $"hostile-{Guid.NewGuid():N}";
            env["Logging__LogLevel__Default"] = "Warning";
            foreach (var (service, assembly) in CxMeshTestHost.MigrationAssemblies)
            {
                env[$"ConnectionStrings__{service}"] = await TestServers.Postgres.CreateDatabaseAsync(service, assembly);
                env[$"CxMesh__Endpoints__{service}"] = $"http://127.0.0.1:{grpcPort}";
            }
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  server: {e.Data}"); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new ServerProcess(process, grpcPort, httpPort);
            using var http = new HttpClient();
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (true)
            {
                if (process.HasExited) throw new InvalidOperationException($"cxmesh-server exited with {process.ExitCode}");
                try
                {
                    if ((await http.GetAsync($"{server.HttpAddress}/healthz/ready")).IsSuccessStatusCode) return server;
                }
                catch (HttpRequestException)
                {
                }
                if (DateTime.UtcNow > deadline) throw new TimeoutException("cxmesh-server did not become ready");
                await Task.Delay(200);
            }
        }

        /// <summary>VmRSS now.</summary>
        public long ResidentBytes() => Status("VmRSS");

        /// <summary>VmHWM: the most resident memory since the last <see cref="ResetPeak"/>.</summary>
        public long PeakBytes() => Status("VmHWM");

        /// <summary>Writing 5 to clear_refs resets the peak to the current resident size (Linux).</summary>
        public void ResetPeak() => File.WriteAllText($"/proc/{process.Id}/clear_refs", "5");

        private long Status(string field)
        {
            var line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
            return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }

        public async ValueTask DisposeAsync()
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }
}
