using System.Diagnostics;
using System.Text;
using CxMesh.Journey.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Google.Protobuf.WellKnownTypes;
using HdrHistogram;
using Npgsql;

namespace CxMesh.Benchmarks;

internal static class JourneyBenchmarks
{
    private static readonly string[] Path = ["order-placed", "roasted", "shipped", "delivered", "reviewed"];

    /// <summary>Customers moving through the coffee journey, five touchpoints each, over the last 28 days.</summary>
    private static IEnumerable<TouchpointEvent> Events(string run, int count)
    {
        var random = new Random(42);
        var now = DateTime.UtcNow;
        for (var c = 0; ; c++)
        {
            var at = now.AddDays(-random.Next(2, 28)).AddMinutes(-random.Next(0, 1440));
            for (var s = 0; s < Path.Length; s++)
            {
                if (count-- <= 0) yield break;
                var e = new TouchpointEvent
                {
                    IdempotencyKey = $"bench-{run}-{c}-{s}",
                    CustomerId = $"{run}-c{c}",
                    JourneyKey = "coffee",
                    TouchpointKey = Path[s],
                    OccurredAt = Timestamp.FromDateTime(at < now ? at : now.AddMinutes(-1)),
                };
                if (s == 0) e.Attributes["segment"] = c % 3 == 0 ? "premium" : "standard";
                yield return e;
                at = at.AddHours(random.Next(2, 40));
            }
        }
    }

    private static JourneyDefinition Coffee()
    {
        var d = new JourneyDefinition { Key = "coffee", Name = "Coffee", InactivityTimeout = Duration.FromTimeSpan(TimeSpan.FromDays(7)), SegmentAttributes = { "segment" } };
        for (var s = 0; s < Path.Length; s++)
        {
            d.Stages.Add(new Stage
            {
                Key = $"stage-{s}",
                Touchpoints = { new TouchpointDefinition { Key = Path[s], Channel = TouchpointChannel.App, StartsJourney = s == 0, EndsJourney = s == Path.Length - 1 } },
            });
        }
        return d;
    }

    private static async Task<double> RecordAsync(JourneyService.JourneyServiceClient client, IReadOnlyList<TouchpointEvent[]> batches, int concurrency)
    {
        var next = -1;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < batches.Count)
            {
                using var call = client.RecordTouchpoints();
                // Let the client coalesce messages into fewer HTTP/2 frames; CompleteAsync flushes.
                call.RequestStream.WriteOptions = new Grpc.Core.WriteOptions(Grpc.Core.WriteFlags.BufferHint);
                foreach (var e in batches[i]) await call.RequestStream.WriteAsync(new RecordTouchpointsRequest { Touchpoint = e });
                await call.RequestStream.CompleteAsync();
                var response = await call.ResponseAsync;
                if (response.Recorded != batches[i].Length)
                {
                    var firstError = response.Results.FirstOrDefault(r => r.Error is not null)?.Error;
                    throw new InvalidOperationException($"batch {i}: {response.Rejected} rejected, {response.Replayed} replayed; first: {firstError}");
                }
            }
        }));
        return batches.Sum(b => b.Length) / stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>The baseline: the same rows as multi-row INSERTs into the same table shape, same concurrency, same Postgres.</summary>
    private static async Task<double> RawInsertAsync(string connectionString, IReadOnlyList<TouchpointEvent[]> batches, int concurrency)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var next = -1;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < batches.Count)
            {
                var batch = batches[i];
                var sql = new StringBuilder("insert into touchpoints (id, idempotency_key, request_hash, customer_id, journey_key, touchpoint_key, occurred_at, attributes) values ");
                await using var command = dataSource.CreateCommand();
                for (var r = 0; r < batch.Length; r++)
                {
                    var e = batch[r];
                    var p = r * 8;
                    sql.Append(r == 0 ? "" : ",").Append($"(${p + 1},${p + 2},${p + 3},${p + 4},${p + 5},${p + 6},${p + 7},${p + 8}::jsonb)");
                    command.Parameters.Add(new NpgsqlParameter { Value = Guid.CreateVersion7() });
                    command.Parameters.Add(new NpgsqlParameter { Value = e.IdempotencyKey });
                    command.Parameters.Add(new NpgsqlParameter { Value = new byte[32] });
                    command.Parameters.Add(new NpgsqlParameter { Value = e.CustomerId });
                    command.Parameters.Add(new NpgsqlParameter { Value = e.JourneyKey });
                    command.Parameters.Add(new NpgsqlParameter { Value = e.TouchpointKey });
                    command.Parameters.Add(new NpgsqlParameter { Value = e.OccurredAt.ToDateTime() });
                    command.Parameters.Add(new NpgsqlParameter { Value = e.Attributes.Count == 0 ? "{}" : $"{{\"segment\":\"{e.Attributes["segment"]}\"}}" });
                }
                command.CommandText = sql.ToString();
                await command.ExecuteNonQueryAsync();
            }
        }));
        return batches.Sum(b => b.Length) / stopwatch.Elapsed.TotalSeconds;
    }

    public static async Task IngestAsync(int rows, int batchSize, int concurrency, bool projector)
    {
        Console.WriteLine($"# RecordTouchpoints vs raw multi-row INSERT: {rows:N0} touchpoints, batches of {batchSize}, {concurrency} concurrent streams, projector {(projector ? "running" : "paused")}");
        await using var host = await BenchHost.StartAsync("journey", new Dictionary<string, string?> { ["Journey:ProjectorEnabled"] = projector.ToString() });
        var client = new JourneyService.JourneyServiceClient(host.Channel(Roles.Admin));
        await client.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = Coffee() });

        var warmup = Events("warm", 5_000).Chunk(batchSize).ToList();
        await RecordAsync(client, warmup, concurrency);
        var rawDb = await TestServers.Postgres.CreateDatabaseAsync("journey", CxMeshTestHost.MigrationAssemblies["journey"]);
        await RawInsertAsync(rawDb, warmup, concurrency);

        var batches = Events("run", rows).Chunk(batchSize).ToList();
        var rawDb2 = await TestServers.Postgres.CreateDatabaseAsync("journey", CxMeshTestHost.MigrationAssemblies["journey"]);
        var raw1 = await RawInsertAsync(rawDb, batches, concurrency);
        var ours = await RecordAsync(client, batches, concurrency);
        var raw2 = await RawInsertAsync(rawDb2, batches, concurrency);
        var raw = (raw1 + raw2) / 2;
        Console.WriteLine($"raw INSERT          {raw1,12:N0} and {raw2,12:N0} rows/s (mean {raw:N0})");
        Console.WriteLine($"RecordTouchpoints   {ours,12:N0} rows/s (gRPC over loopback, validation, idempotency, projection queue)");
        Console.WriteLine($"ratio               {ours / raw:0.00}x   (target >= 0.6x)");
        Results.AddRatio("RecordTouchpoints", ours, "rows/s", "multi-row INSERT of the same rows", raw, atLeast: 0.6);
    }

    public static async Task FunnelAsync(int[] checkpoints, int calls)
    {
        Console.WriteLine($"# GetFunnel latency as recorded touchpoints grow: checkpoints {string.Join(", ", checkpoints.Select(c => c.ToString("N0")))}; {calls:N0} calls each");
        await using var host = await BenchHost.StartAsync("journey", new Dictionary<string, string?> { ["Journey:ProjectorBatchSize"] = "500" });
        var admin = new JourneyService.JourneyServiceClient(host.Channel(Roles.Admin));
        await admin.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = Coffee() });
        var loaded = 0;
        foreach (var checkpoint in checkpoints.Order())
        {
            // Generated per checkpoint and dropped before measuring, so the load generator's own heap does not add GC pauses.
            var batches = Events("funnel", checkpoint).Skip(loaded).Chunk(1000).ToList();
            var stopwatch = Stopwatch.StartNew();
            var rate = await RecordAsync(admin, batches, 4);
            loaded = checkpoint;
            await WaitForProjectionAsync(host.Databases["journey"]);
            Console.WriteLine($"loaded {loaded:N0} touchpoints ({rate:N0}/s ingest; projected and published after {stopwatch.Elapsed.TotalSeconds:0.0} s)");
            batches.Clear();
            GC.Collect();
            GC.WaitForPendingFinalizers();

            var histogram = new LongHistogram(TimeStamp.Hours(1), 3);
            var request = new GetFunnelRequest { JourneyKey = "coffee" };
            for (var i = 0; i < 1000; i++) await admin.GetFunnelAsync(request);
            await Task.Delay(2000); // let tiered compilation and autovacuum settle
            GetFunnelResponse? last = null;
            for (var i = 0; i < calls; i++)
            {
                var start = Stopwatch.GetTimestamp();
                last = await admin.GetFunnelAsync(request);
                histogram.RecordValue(Stopwatch.GetTimestamp() - start);
            }
            double Ms(double percentile) => histogram.GetValueAtPercentile(percentile) * 1000.0 / Stopwatch.Frequency;
            Console.WriteLine($"  GetFunnel p50 {Ms(50):0.00} ms  p99 {Ms(99):0.00} ms  max {histogram.GetMaxValue() * 1000.0 / Stopwatch.Frequency:0.00} ms  " +
                $"(started {last!.Started:N0}, completed {last.Completed:N0}; target p99 <= 10 ms)");
        }
    }

    private static async Task WaitForProjectionAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        while (true)
        {
            // Quiet before measuring: projected, and the events it wrote published.
            await using var command = new NpgsqlCommand(
                "select exists (select 1 from pending_projections) or exists (select 1 from touchpoints where not applied) or exists (select 1 from outbox where sent_at is null)",
                connection);
            if (!(bool)(await command.ExecuteScalarAsync())!) break;
            await Task.Delay(200);
        }
        // Autovacuum and analyze follow a big load; measuring while they run measures them.
        for (var i = 0; i < 300; i++)
        {
            await using var command = new NpgsqlCommand("select count(*) from pg_stat_activity where backend_type = 'autovacuum worker'", connection);
            if ((long)(await command.ExecuteScalarAsync())! == 0) return;
            await Task.Delay(200);
        }
    }
}
