using System.Diagnostics;
using CxMesh.Common.V1;
using CxMesh.Feedback.Domain.Text;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace CxMesh.Benchmarks;

internal static class FeedbackBenchmarks
{
    // About 300 characters each, with a little personal data to redact, as real verbatims have.
    private const string English =
        "Ordered the Ethiopian single origin on Monday. The beans were fresh and the aroma was lovely, but delivery took four days " +
        "and nobody told me it was late. The box was slightly damaged. Support was friendly and quick to reply; " +
        "call me on +44 20 7946 0958 or mail jane.doe@example.com if you need more.";

    private const string Chinese =
        "周一订了埃塞俄比亚单品咖啡豆，豆子很新鲜，香味很好，但是快递用了四天才到，也没有人通知我延误了。" +
        "盒子有点破损，包装需要改进。客服态度很好，回复也很及时，没有问题。味道比上次好喝，价格也实惠，" +
        "会推荐给朋友。如果需要更多信息，请打我的手机13812345678，或者发邮件到zhang.wei@example.cn。" +
        "希望下次配送能快一点，烘焙日期也能写得更清楚一些，这样我就知道咖啡是不是新鲜的。谢谢！整体体验还是满意的。" +
        "另外，手机应用下单很方便，界面清楚，支付也很顺利。上次的订单漏发了一袋，售后很快就处理了退款，这一点很专业。" +
        "不过等待客服接通用了十几分钟，希望能改进。";

    /// <summary>Redaction, language, sentiment and themes of one verbatim, on one thread: items per second per core.</summary>
    public static void Text(int seconds)
    {
        Console.WriteLine($"# Text analysis alone, one thread (= one core), {seconds} s per language; verbatims of {English.Length} and {Chinese.Length} characters");
        var sentiment = new LexiconSentiment();
        var phones = new CxMesh.Feedback.LibPhoneNumberFinder();
        foreach (var (name, text) in new[] { ("English", English), ("Chinese", Chinese) })
        {
            // Warmed as long as measured: tiered compilation reaches the last tier of every path first.
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < seconds) TextAnalyzer.Analyze(text, null, DefaultTaxonomy.Themes, sentiment, phones);
            var count = 0;
            var stopwatch = Stopwatch.StartNew();
            while (stopwatch.Elapsed.TotalSeconds < seconds)
            {
                TextAnalyzer.Analyze(text, null, DefaultTaxonomy.Themes, sentiment, phones);
                count++;
            }
            var analysis = TextAnalyzer.Analyze(text, null, DefaultTaxonomy.Themes, sentiment, phones);
            Results.Add($"text analysis alone, {name}", count / stopwatch.Elapsed.TotalSeconds, "items/s per core");
            Console.WriteLine($"{name,-8} {count / stopwatch.Elapsed.TotalSeconds,10:N0} items/s per core  " +
                $"(language {analysis.Language}, sentiment {analysis.Sentiment.Score:+0.00;-0.00}, themes {string.Join(",", analysis.Themes.Select(t => t.ThemeKey))})");
        }
    }

    /// <summary>
    /// Feedback as a shop's review export brings it: every item rated, six in ten (by default) with a verbatim (English or Chinese,
    /// about 300 characters, a little personal data), linked to a product, lot and touchpoint, with an external id.
    /// </summary>
    internal static IEnumerable<SubmitFeedbackRequest> Items(string run, int count, int offset = 0, int textPercent = 60)
    {
        var now = DateTime.UtcNow;
        for (var i = offset; i < offset + count; i++)
        {
            var item = new SubmitFeedbackRequest
            {
                IdempotencyKey = $"bench-{run}-{i}",
                Channel = i % 3 == 0 ? Channel.Survey : Channel.Review,
                JourneyKey = "coffee",
                CustomerId = $"{run}-c{i % 50_000}",
                GivenAt = Timestamp.FromDateTime(now.AddMinutes(-(i % 40_000))),
                Ratings = { new Rating { QuestionId = "nps", Value = i % 11 } },
                Links = new Links { TouchpointKey = "delivered", ProductId = $"sku-{i % 40}", LotId = $"lot-{i % 400}" },
                Source = new Source { System = "shop", ExternalId = $"{run}-{i}" },
            };
            if (i % 4 == 0) item.Ratings.Add(new Rating { QuestionId = "csat", Value = 1 + i % 5 });
            if (i % 100 < textPercent) item.Verbatim = (i % 2 == 0 ? English : Chinese) + $" #{i}";
            yield return item;
        }
    }

    private static async Task<double> SubmitAsync(FeedbackService.FeedbackServiceClient client, IReadOnlyList<SubmitFeedbackRequest[]> batches, int streams)
    {
        var next = -1;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, streams).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < batches.Count) await SendBatchAsync(client, batches[i]);
        }));
        return batches.Sum(b => b.Length) / stopwatch.Elapsed.TotalSeconds;
    }

    private static async Task SendBatchAsync(FeedbackService.FeedbackServiceClient client, IReadOnlyCollection<SubmitFeedbackRequest> batch)
    {
        using var call = client.SubmitFeedbackBatch();
        call.RequestStream.WriteOptions = new Grpc.Core.WriteOptions(Grpc.Core.WriteFlags.BufferHint);
        foreach (var item in batch) await call.RequestStream.WriteAsync(new SubmitFeedbackBatchRequest { Item = item });
        await call.RequestStream.CompleteAsync();
        var response = await call.ResponseAsync;
        if (response.Stored != batch.Count)
        {
            throw new InvalidOperationException($"{response.Rejected} rejected, {response.Replayed} replayed; first: {response.Results.FirstOrDefault(r => r.Error is not null)?.Error}");
        }
    }

    private const string ItemColumns =
        "id, channel, journey_id, verbatim, given_at, received_at, redacted_verbatim, language, sentiment, themes, customer_id, audience, " +
        "touchpoint_key, product_id, lot_id, store_id, segment, source_system, survey_id, external_id, text_hash, duplicate_of";

    /// <summary>The rows the service stored, read back so the baseline writes exactly the same ones.</summary>
    private static async Task<(List<object?[]> Items, List<object?[]> Ratings)> ReadStoredAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var items = new List<object?[]>();
        await using (var reader = await new NpgsqlCommand($"select {ItemColumns} from feedback_items order by id", connection).ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var row = new object?[reader.FieldCount];
                reader.GetValues(row!);
                items.Add(row.Select(v => v is DBNull ? null : v).ToArray());
            }
        }
        var ratings = new List<object?[]>();
        await using (var reader = await new NpgsqlCommand("select feedback_id, question_id, value from feedback_ratings order by feedback_id", connection).ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) ratings.Add([reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2)]);
        }
        return (items, ratings);
    }

    private static readonly NpgsqlDbType[] ItemTypes =
    [
        NpgsqlDbType.Uuid, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.TimestampTz, NpgsqlDbType.TimestampTz,
        NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Double, NpgsqlDbType.Jsonb, NpgsqlDbType.Text, NpgsqlDbType.Text,
        NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Jsonb, NpgsqlDbType.Text, NpgsqlDbType.Text,
        NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Uuid,
    ];

    /// <summary>The baseline: binary COPY of the same item and rating rows, in the same batches and streams, into a fresh copy of the schema.</summary>
    private static async Task<double> RawCopyAsync(string connectionString, List<object?[]> items, List<object?[]> ratings, int batchSize, int streams)
    {
        var ratingsOf = ratings.ToLookup(r => (Guid)r[0]!);
        var batches = items.Chunk(batchSize).ToList();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var next = -1;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, streams).Select(async _ =>
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) < batches.Count)
            {
                await using var connection = await dataSource.OpenConnectionAsync();
                await using var tx = await connection.BeginTransactionAsync();
                await using (var copy = await connection.BeginBinaryImportAsync($"copy feedback_items ({ItemColumns}) from stdin (format binary)"))
                {
                    foreach (var row in batches[b])
                    {
                        await copy.StartRowAsync();
                        for (var c = 0; c < row.Length; c++)
                        {
                            if (row[c] is null) await copy.WriteNullAsync();
                            else await copy.WriteAsync(row[c], ItemTypes[c]);
                        }
                    }
                    await copy.CompleteAsync();
                }
                await using (var copy = await connection.BeginBinaryImportAsync("copy feedback_ratings (feedback_id, question_id, value) from stdin (format binary)"))
                {
                    foreach (var row in batches[b].SelectMany(i => ratingsOf[(Guid)i[0]!]))
                    {
                        await copy.StartRowAsync();
                        await copy.WriteAsync((Guid)row[0]!, NpgsqlDbType.Uuid);
                        await copy.WriteAsync((string)row[1]!, NpgsqlDbType.Text);
                        await copy.WriteAsync((int)row[2]!, NpgsqlDbType.Integer);
                    }
                    await copy.CompleteAsync();
                }
                await tx.CommitAsync();
            }
        }));
        return items.Count / stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>SubmitFeedbackBatch (gRPC, checks, redaction, sentiment, themes, storage, outbox) vs binary COPY of the rows it stored.</summary>
    public static async Task IngestAsync(int count, int batchSize, int streams, bool relay, int textPercent)
    {
        Console.WriteLine($"# SubmitFeedbackBatch vs raw binary COPY of the same rows: {count:N0} items, batches of {batchSize}, {streams} concurrent streams, outbox relay {(relay ? "running" : "paused")}, {textPercent}% with a verbatim");
        await using var host = await BenchHost.StartAsync("feedback", new Dictionary<string, string?> { ["Messaging:RelayEnabled"] = relay.ToString() });
        var client = new FeedbackService.FeedbackServiceClient(host.Channel(Roles.App));
        // A server runs for hours: warmed until the per-chunk code is compiled at its last tier (tiered PGO needs a
        // method to be called about 60 times, and there is one call per chunk of 500).
        await SubmitAsync(client, Items("warm", 40_000).Chunk(batchSize).ToList(), streams);

        var batches = Items("run", count, textPercent: textPercent).Chunk(batchSize).ToList();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var al0 = GC.GetTotalAllocatedBytes();
        var ours = await SubmitAsync(client, batches, streams);
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / count;
        var allocated = (GC.GetTotalAllocatedBytes() - al0) / (double)count;
        batches.Clear();

        var (items, ratings) = await ReadStoredAsync(host.Databases["feedback"]);
        var raws = new List<double>();
        for (var run = 0; run < 2; run++)
        {
            var rawDb = await TestServers.Postgres.CreateDatabaseAsync("feedback", CxMeshTestHost.MigrationAssemblies["feedback"]);
            raws.Add(await RawCopyAsync(rawDb, items, ratings, batchSize, streams));
        }
        var raw = raws.Average();
        Console.WriteLine($"raw binary COPY     {raws[0],10:N0} and {raws[1],10:N0} items/s (mean {raw:N0}; {items.Count:N0} items with {ratings.Count:N0} ratings)");
        Console.WriteLine($"SubmitFeedbackBatch {ours,10:N0} items/s (gRPC over loopback, validation, redaction, sentiment, themes, idempotency, duplicates, outbox)");
        Console.WriteLine($"                    {cpu:N0} us of CPU and {allocated / 1024:N0} KiB allocated per item in this process (server and client)");
        var aim = textPercent > 0 ? 0.35 : 0.5;
        Console.WriteLine($"ratio               {ours / raw:0.00}x   (target >= {aim}x)");
        var mix = textPercent > 0 ? $"{textPercent}% verbatims" : "ratings only";
        Results.AddRatio($"SubmitFeedbackBatch, {mix}", ours, "items/s", "binary COPY of the same rows", raw, atLeast: aim);
        Results.Add($"SubmitFeedbackBatch CPU per item, {mix} (server and client)", cpu, "us");
        Results.Add($"SubmitFeedbackBatch allocated per item, {mix}", allocated / 1024, "KiB");
    }

    /// <summary>
    /// A Qualtrics-layout export as the tool writes it (BOM, CRLF, three header rows, quoted comments with commas and
    /// line breaks), <paramref name="rows"/> responses over the last three years, a share of them with a comment.
    /// </summary>
    private static async Task<string> QualtricsExportAsync(int rows, int textPercent)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cxmesh-bench-qualtrics-{rows}-{textPercent}.csv");
        if (File.Exists(path)) return path;
        await using var writer = new StreamWriter(path, false, new System.Text.UTF8Encoding(true)) { NewLine = "\r\n" };
        await writer.WriteLineAsync("StartDate,EndDate,Status,Progress,Finished,RecordedDate,ResponseId,ExternalReference,Q1,Q2,Q3");
        await writer.WriteLineAsync("Start Date,End Date,Response Type,Progress,Finished,Recorded Date,Response ID,External Data Reference," +
            "How likely are you to recommend us to a friend or colleague?,What is the main reason for your score?,How satisfied are you with delivery?");
        await writer.WriteLineAsync("\"{\"\"ImportId\"\":\"\"startDate\"\",\"\"timeZone\"\":\"\"UTC\"\"}\",\"{\"\"ImportId\"\":\"\"endDate\"\",\"\"timeZone\"\":\"\"UTC\"\"}\"," +
            "\"{\"\"ImportId\"\":\"\"status\"\"}\",\"{\"\"ImportId\"\":\"\"progress\"\"}\",\"{\"\"ImportId\"\":\"\"finished\"\"}\"," +
            "\"{\"\"ImportId\"\":\"\"recordedDate\"\",\"\"timeZone\"\":\"\"UTC\"\"}\",\"{\"\"ImportId\"\":\"\"_recordId\"\"}\"," +
            "\"{\"\"ImportId\"\":\"\"externalDataReference\"\"}\",\"{\"\"ImportId\"\":\"\"QID1\"\"}\",\"{\"\"ImportId\"\":\"\"QID2_TEXT\"\"}\",\"{\"\"ImportId\"\":\"\"QID3\"\"}\"");
        var start = DateTime.UtcNow.Date.AddDays(-3 * 365);
        for (var i = 0; i < rows; i++)
        {
            var at = start.AddSeconds(i * (3 * 365 * 86400.0 / rows)).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
            var comment = i % 100 < textPercent ? "\"" + ((i % 2 == 0 ? English : Chinese) + $" #{i}").Replace("\"", "\"\"") + "\"" : "";
            await writer.WriteLineAsync($"{at},{at},IP Address,100,True,{at},R_{i:x8},crm-{i % 50_000},{i % 11},{comment},{1 + i % 5}");
        }
        return path;
    }

    /// <summary>
    /// ImportFeedbackCsv of a Qualtrics-layout export (header detection, parsing, mapping, every check, redaction,
    /// sentiment, themes, storage, outbox) vs binary COPY of the rows it stored, in the import's chunks, one stream.
    /// </summary>
    public static async Task ImportAsync(int rows, int textPercent)
    {
        Console.WriteLine($"# ImportFeedbackCsv of a Qualtrics export vs raw binary COPY of the same rows: {rows:N0} rows over 3 years, {textPercent}% with a comment");
        var path = await QualtricsExportAsync(rows, textPercent);
        await using var host = await BenchHost.StartAsync("feedback");
        var client = new FeedbackService.FeedbackServiceClient(host.Channel(Roles.App));
        var options = new CsvImportOptions
        {
            SourceSystem = "qualtrics-bench",
            DefaultChannel = Channel.Survey,
            Columns = { ["rating:nps"] = "QID1", ["verbatim"] = "Q2", ["rating:csat"] = "QID3", ["customer_id"] = "ExternalReference" },
        };
        var stopwatch = Stopwatch.StartNew();
        using var call = client.ImportFeedbackCsv();
        var reading = Task.Run(async () =>
        {
            ImportFeedbackCsvResponse? last = null;
            await foreach (var response in call.ResponseStream.ReadAllAsync()) last = response;
            return last!;
        });
        await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Options = options });
        await using (var file = File.OpenRead(path))
        {
            var buffer = new byte[256 * 1024];
            int read;
            while ((read = await file.ReadAsync(buffer)) > 0)
            {
                await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = Google.Protobuf.ByteString.CopyFrom(buffer, 0, read) });
            }
        }
        await call.RequestStream.CompleteAsync();
        var summary = await reading;
        var ours = summary.Stored / stopwatch.Elapsed.TotalSeconds;

        var (items, ratings) = await ReadStoredAsync(host.Databases["feedback"]);
        var raws = new List<double>();
        for (var run = 0; run < 2; run++)
        {
            var rawDb = await TestServers.Postgres.CreateDatabaseAsync("feedback", CxMeshTestHost.MigrationAssemblies["feedback"]);
            raws.Add(await RawCopyAsync(rawDb, items, ratings, CxMesh.Feedback.UseCases.SubmitFeedback.ChunkSize, 1));
        }
        var raw = raws.Average();
        Console.WriteLine($"raw binary COPY     {raws[0],10:N0} and {raws[1],10:N0} rows/s (mean {raw:N0}; {items.Count:N0} items with {ratings.Count:N0} ratings)");
        Console.WriteLine($"ImportFeedbackCsv   {ours,10:N0} rows/s ({summary.Stored:N0} stored, {summary.Rejected:N0} rejected, {new FileInfo(path).Length / 1048576.0:N0} MiB, {summary.HeaderLayout})");
        Console.WriteLine($"ratio               {ours / raw:0.00}x");
    }

    /// <summary>
    /// The re-tag of stored feedback after a taxonomy change, unthrottled, against text analysis alone of the same items on
    /// one thread (the re-tag runs on one thread too); then ingest with the default throttled re-tag running beside it,
    /// against the same ingest with none.
    /// </summary>
    public static async Task RetagAsync(int count, int textPercent)
    {
        Console.WriteLine($"# Re-tag of {count:N0} stored items ({textPercent}% with a verbatim of ~300 characters) vs text analysis alone of the same items, one thread each");
        var items = Items("retag", count, textPercent: textPercent).ToList();
        var sentiment = new LexiconSentiment();
        var phones = new CxMesh.Feedback.LibPhoneNumberFinder();
        foreach (var item in items.Take(500).Where(i => i.Verbatim.Length > 0)) TextAnalyzer.Analyze(item.Verbatim, null, DefaultTaxonomy.Themes, sentiment, phones);
        var analysis = Stopwatch.StartNew();
        foreach (var item in items.Where(i => i.Verbatim.Length > 0)) TextAnalyzer.Analyze(item.Verbatim, null, DefaultTaxonomy.Themes, sentiment, phones);
        var analysed = count / analysis.Elapsed.TotalSeconds;

        var settings = new Dictionary<string, string?>
        {
            ["Feedback:Retag:ItemsPerSecond"] = "0",
            ["Feedback:Retag:Settle"] = "00:00:00",
            ["Feedback:Retag:TaxonomyRefresh"] = "00:00:00.1",
            ["Feedback:Retag:PollInterval"] = "00:00:00.1",
        };
        await using var host = await BenchHost.StartAsync("feedback", settings);
        var client = new FeedbackService.FeedbackServiceClient(host.Channel(Roles.App));
        var analyst = new FeedbackService.FeedbackServiceClient(host.Channel(Roles.Analyst));
        await SubmitAsync(client, items.Chunk(1000).ToList(), 2);
        items.Clear();

        async Task<RetagJob> ChangeAndWaitAsync(Func<Task<RetagJob>> change)
        {
            var job = await change();
            while (job.State == RetagState.Running)
            {
                await Task.Delay(100);
                job = (await analyst.GetRetagStatusAsync(new GetRetagStatusRequest { TaxonomyVersion = job.TaxonomyVersion })).Retag;
            }
            return job;
        }
        var theme = new CxMesh.Feedback.V1.Theme { Key = "roast-aroma", Name = "Roast and aroma", Keywords = { "aroma", "roast" }, Phrases = { "香味", "烘焙" } };
        var stopwatch = Stopwatch.StartNew();
        var done = await ChangeAndWaitAsync(async () => (await analyst.CreateThemeAsync(new CreateThemeRequest { Theme = theme })).Retag);
        var retagged = done.ItemsScanned / stopwatch.Elapsed.TotalSeconds;
        Console.WriteLine($"text analysis alone {analysed,10:N0} items/s (redaction, language, sentiment, themes of each verbatim; items without one cost nothing)");
        Console.WriteLine($"re-tag              {retagged,10:N0} items/s ({done.ItemsScanned:N0} scanned, {done.ItemsChanged:N0} re-tagged and published, in {stopwatch.Elapsed.TotalSeconds:N1} s)");
        Console.WriteLine($"ratio               {retagged / analysed:0.00}x");

        // Ingest keeps its speed beside a re-tag at the default rate.
        var more = Items("retag-more", Math.Max(10_000, count / 4), count, textPercent).Chunk(1000).ToList();
        var half = more.Count / 2;
        var alone = await SubmitAsync(client, more.Take(half).ToList(), 2);
        theme.Keywords.Add("beans");
        var throttled = new CxMesh.Feedback.RetagSettings().ItemsPerSecond;
        // The worker reads its settings before each batch: from now on, the default rate.
        host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<CxMesh.Feedback.FeedbackOptions>>().Value.Retag.ItemsPerSecond = throttled;
        var job = (await analyst.UpdateThemeAsync(new UpdateThemeRequest { Theme = theme })).Retag;
        var beside = await SubmitAsync(client, more.Skip(half).ToList(), 2);
        var during = (await analyst.GetRetagStatusAsync(new GetRetagStatusRequest { TaxonomyVersion = job.TaxonomyVersion })).Retag;
        Console.WriteLine($"ingest alone        {alone,10:N0} items/s");
        Console.WriteLine($"ingest beside re-tag{beside,10:N0} items/s (re-tag at Feedback:Retag:ItemsPerSecond {throttled:N0}: {during.ItemsScanned:N0} scanned meanwhile, {during.ItemsPerSecond:N0}/s)");
        Console.WriteLine($"ratio               {beside / alone:0.00}x");
    }

    /// <summary>
    /// A big Qualtrics export imported in three goes: the client killed a third of the way in, the host killed two
    /// thirds of the way in, then finished by a new host; each go resumes after the last row the server reported done,
    /// as `cxmesh import` does. Every row must end up stored once.
    /// </summary>
    public static async Task ImportResumeAsync(int rows, int textPercent)
    {
        Console.WriteLine($"# ImportFeedbackCsv of {rows:N0} Qualtrics rows ({textPercent}% with a comment), cut off twice and resumed");
        var path = await QualtricsExportAsync(rows, textPercent);
        var options = new CsvImportOptions
        {
            SourceSystem = "qualtrics-resume",
            DefaultChannel = Channel.Survey,
            Columns = { ["rating:nps"] = "QID1", ["verbatim"] = "Q2", ["rating:csat"] = "QID3", ["customer_id"] = "ExternalReference", ["external_id"] = "ResponseId" },
        };
        async Task<ImportFeedbackCsvResponse?> GoAsync(BenchHost host, long resumeAfter, long cutAt, Func<CancellationTokenSource, Task> cut)
        {
            var client = new FeedbackService.FeedbackServiceClient(host.Channel(Roles.App));
            using var cts = new CancellationTokenSource();
            var resumed = options.Clone();
            resumed.ResumeAfterRows = resumeAfter;
            var stopwatch = Stopwatch.StartNew();
            ImportFeedbackCsvResponse? last = null;
            var cutting = Task.CompletedTask;
            try
            {
                using var call = client.ImportFeedbackCsv(cancellationToken: cts.Token);
                var reading = Task.Run(async () =>
                {
                    await foreach (var response in call.ResponseStream.ReadAllAsync(cts.Token))
                    {
                        last = response;
                        if (response.RowsRead >= cutAt && cutting.IsCompleted && !cts.IsCancellationRequested) cutting = cut(cts);
                    }
                });
                await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Options = resumed });
                await using (var file = File.OpenRead(path))
                {
                    var buffer = new byte[256 * 1024];
                    int read;
                    while ((read = await file.ReadAsync(buffer, cts.Token)) > 0)
                    {
                        await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = Google.Protobuf.ByteString.CopyFrom(buffer, 0, read) }, cts.Token);
                    }
                }
                await call.RequestStream.CompleteAsync();
                await reading;
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException or IOException or InvalidOperationException)
            {
                Console.WriteLine($"  cut off: {ex.GetType().Name} {(ex as RpcException)?.StatusCode}");
            }
            await cutting;
            var done = last?.RowsRead - resumeAfter ?? 0;
            Console.WriteLine($"  resumed after row {resumeAfter,10:N0}: reported {last?.RowsRead ?? 0,10:N0} rows done ({last?.Stored ?? 0:N0} stored, {last?.Replayed ?? 0:N0} already there, " +
                $"{last?.Rejected ?? 0:N0} rejected) in {stopwatch.Elapsed.TotalSeconds:N0} s, {done / stopwatch.Elapsed.TotalSeconds:N0} rows/s{(last?.Done == true ? ", done" : "")}");
            return last;
        }

        var total = Stopwatch.StartNew();
        var first = await BenchHost.StartAsync("feedback");
        var databases = new Dictionary<string, string>(first.Databases);
        var one = await GoAsync(first, 0, rows / 3, cts =>
        {
            cts.Cancel(); // the client is killed
            return Task.CompletedTask;
        });
        BenchHost? killed = first;
        var two = await GoAsync(first, one?.RowsRead ?? 0, 2L * rows / 3, async _ =>
        {
            await first.KillAsync(); // the host is killed under the import
            killed = null;
        });
        if (killed is not null) await first.DisposeAsync();
        await using var second = await BenchHost.StartAsync("feedback", databasesOf: databases);
        var three = await GoAsync(second, two?.RowsRead ?? one?.RowsRead ?? 0, long.MaxValue, _ => Task.CompletedTask);

        await using var connection = new NpgsqlConnection(databases["feedback"]);
        await connection.OpenAsync();
        var (items, distinct) = await Dapper.SqlMapper.QuerySingleAsync<(long, long)>(connection,
            "select count(*), count(distinct external_id) from feedback_items where source_system = 'qualtrics-resume'");
        var stored = (one?.Stored ?? 0) + (two?.Stored ?? 0) + (three?.Stored ?? 0);
        Console.WriteLine($"stored items        {items:N0} of {rows:N0} rows ({distinct:N0} distinct response ids; {stored:N0} reported stored, " +
            $"{(two?.Replayed ?? 0) + (three?.Replayed ?? 0):N0} rows stored by a go that was cut before it reported them)");
        Console.WriteLine($"total               {total.Elapsed.TotalMinutes:N1} min, {rows / total.Elapsed.TotalSeconds:N0} rows/s over the three goes{(items == rows && distinct == rows && three?.Done == true ? "" : "  ** NOT EVERY ROW ONCE **")}");
    }

    /// <summary>Memory of the process hosting the service while a million items go through it in batches.</summary>
    public static async Task MemoryAsync(int total, int batchSize)
    {
        Console.WriteLine($"# Host memory while ingesting {total:N0} items in batches of {batchSize:N0} (2 streams)");
        await using var host = await BenchHost.StartAsync("feedback");
        var client = new FeedbackService.FeedbackServiceClient(host.Channel(Roles.App));
        var report = Math.Max(total / 10, batchSize);
        var stopwatch = Stopwatch.StartNew();
        for (var done = 0; done < total; done += report)
        {
            var batches = Items("mem", Math.Min(report, total - done), done).Chunk(batchSize).ToList();
            await SubmitAsync(client, batches, 2);
            batches.Clear();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var info = GC.GetGCMemoryInfo();
            using var process = Process.GetCurrentProcess();
            Console.WriteLine($"{done + report,10:N0} items  {stopwatch.Elapsed.TotalSeconds,6:0} s  managed heap {GC.GetTotalMemory(false) / 1048576.0,7:0.0} MiB  " +
                $"committed {info.TotalCommittedBytes / 1048576.0,7:0.0} MiB  working set {process.WorkingSet64 / 1048576.0,7:0.0} MiB");
        }
    }

    /// <summary>
    /// Where an item's CPU goes, stage by stage, one thread, warmed: the gRPC decode, the checks, the text analysis, the
    /// request's fingerprint and the event's JSON. What the ingest spends beyond their sum is storage, gRPC transport
    /// and scheduling.
    /// </summary>
    public static async Task StagesAsync(int items, int textPercent)
    {
        Console.WriteLine($"# Ingest stages, one thread, {items:N0} items of the ingest mix ({textPercent}% with a verbatim): CPU and bytes allocated per item");
        await using var host = await BenchHost.StartAsync("feedback");
        var client = new FeedbackService.FeedbackServiceClient(host.Channel(Roles.App));
        await SubmitAsync(client, Items("load", 1_000).Chunk(500).ToList(), 1); // the question registry is loaded
        var validator = host.Services.GetRequiredService<FluentValidation.IValidator<SubmitFeedbackRequest>>();
        var sentiment = new LexiconSentiment();
        var phones = new CxMesh.Feedback.LibPhoneNumberFinder();
        var requests = Items("stages", items, textPercent: textPercent).ToList();
        var wire = requests.Select(r => new SubmitFeedbackBatchRequest { Item = r }.ToByteArray()).ToList();
        var events = requests.Select(r => new CxMesh.Events.V1.FeedbackReceived
        {
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
            FeedbackId = Guid.CreateVersion7().ToString(),
            Channel = r.Channel,
            Journey = r.JourneyKey,
            GivenAt = r.GivenAt,
            CustomerId = r.CustomerId,
            Audience = "customer",
            RedactedVerbatim = r.Verbatim,
            Language = r.Verbatim.Length > 0 ? "en" : "",
            TouchpointKey = r.Links.TouchpointKey,
            ProductId = r.Links.ProductId,
            LotId = r.Links.LotId,
            SourceSystem = r.Source.System,
            Ratings = { r.Ratings.Select(x => new CxMesh.Events.V1.RatingValue { QuestionId = x.QuestionId, Metric = Metric.Nps, Value = x.Value, ScaleMin = 0, ScaleMax = 10, TopBoxValues = { 9, 10 } }) },
            Themes = { r.Verbatim.Length > 0 ? [new CxMesh.Common.V1.ThemeMention { ThemeKey = "delivery", SentimentScore = -0.4 }, new CxMesh.Common.V1.ThemeMention { ThemeKey = "support", SentimentScore = 0.6 }] : [] },
        }).ToList();
        var stages = new (string Name, Action<int> Run)[]
        {
            ("gRPC decode (protobuf)", i => SubmitFeedbackBatchRequest.Parser.ParseFrom(wire[i])),
            ("checks (FluentValidation, wire values)", i => validator.Validate(requests[i])),
            ("  of which wire values (NUL, timestamps)", i => CxMesh.Platform.Validation.WireValues.FindProblem(requests[i])),
            ("  of which the verbatim's text check", i => CxMesh.Platform.Validation.Violations.IsCleanText(requests[i].Verbatim, refuseReplacement: true)),
            ("text analysis (redaction, language, sentiment, themes)", i =>
            {
                if (requests[i].Verbatim.Length > 0) TextAnalyzer.Analyze(requests[i].Verbatim, null, DefaultTaxonomy.Themes, sentiment, phones);
            }),
            ("fingerprint (SHA-256 of the request)", i => System.Security.Cryptography.SHA256.HashData(requests[i].ToByteArray())),
            ("event JSON (feedback.received, proto3 JSON)", i => CxMesh.Platform.Messaging.EventJson.Format(events[i])),
        };
        var total = (Cpu: 0.0, Bytes: 0.0);
        foreach (var (name, run) in stages)
        {
            if (Environment.GetEnvironmentVariable("CXMESH_BENCH_STAGE") is { Length: > 0 } only && !name.Contains(only, StringComparison.Ordinal)) continue;
            for (var w = 0; w < 3; w++) for (var i = 0; i < Math.Min(items, 20_000); i++) run(i); // warm: every tier compiled
            var bytes0 = GC.GetAllocatedBytesForCurrentThread();
            var stopwatch = Stopwatch.StartNew();
            for (var i = 0; i < items; i++) run(i);
            var us = stopwatch.Elapsed.TotalMicroseconds / items;
            var kib = (GC.GetAllocatedBytesForCurrentThread() - bytes0) / 1024.0 / items;
            if (!name.StartsWith(' ')) total = (total.Cpu + us, total.Bytes + kib);
            Console.WriteLine($"{name,-56} {us,8:N1} us {kib,8:N1} KiB per item");
            Results.Add($"ingest stage: {name.Trim()}", us, "us/item");
        }
        Console.WriteLine($"{"sum of the stages",-56} {total.Cpu,8:N1} us {total.Bytes,8:N1} KiB per item (compare with feedback-ingest's CPU per item)");
    }
}
