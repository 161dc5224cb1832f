using System.Diagnostics;
using System.Runtime.CompilerServices;
using CxMesh.Governance.V1;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Grpc.Core;
using Npgsql;
using NpgsqlTypes;

namespace CxMesh.Benchmarks;

internal static class PartnerBenchmarks
{
    /// <summary>
    /// A partner report over many partner-scoped items: publishing it, then downloading it as CSV and as HTML to the
    /// last byte, with the host's extra memory while streaming. The items are loaded with COPY exactly as the
    /// partner service stores its copies. With <paramref name="ingestRate"/> above 0 the same host also runs feedback
    /// and ingests that many items a second (60 % verbatims, copied to the partners they match) from the publication
    /// to the last byte of the second download.
    /// </summary>
    public static async Task ReportAsync(int items, int ingestRate = 0)
    {
        var underLoad = ingestRate > 0 ? $", under {ingestRate:N0} items/s of ingest" : "";
        Console.WriteLine($"# Partner report over {items:N0} partner-scoped items (30 days): publish, CSV and HTML to the last byte, host memory{underLoad}");
        await using var host = await BenchHost.StartAsync(ingestRate > 0 ? "feedback,partner,governance" : "partner,governance", new Dictionary<string, string?> { ["CxMesh:Delivery"] = "InProcess" });
        var admin = new PartnerService.PartnerServiceClient(host.Channel(Roles.Admin));
        await admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = new Partner.V1.Partner { Id = "farm-bench", Name = "Finca Bench", Kind = PartnerKind.Producer } });
        var draft = (await admin.ProposeAgreementAsync(new ProposeAgreementRequest
        {
            Agreement = new Agreement
            {
                PartnerId = "farm-bench",
                Scope = { new Mapping { Kind = MappingKind.Product, Value = "sku-1" } },
                Fields = { SharedField.Ratings, SharedField.RedactedVerbatims, SharedField.Themes },
                MinGroupSize = 5,
                Cadence = "0 6 1 * *",
                RetentionDays = 365,
            },
        })).Agreement;
        await admin.SubmitAgreementAsync(new SubmitAgreementRequest { AgreementId = draft.AgreementId, Version = 1 });
        await SharingApprovals.DecideAsync(new GovernanceService.GovernanceServiceClient(host.Channel(Roles.Admin, SharingApprovals.Approver)), draft.AgreementId, 1);
        while ((await admin.GetAgreementAsync(new GetAgreementRequest { AgreementId = draft.AgreementId })).Agreement.State != AgreementState.Active) await Task.Delay(50);

        var load = Stopwatch.StartNew();
        await LoadItemsAsync(host.Databases["partner"], Guid.Parse(draft.AgreementId), items);
        Console.WriteLine($"loaded {items:N0} items with COPY in {load.Elapsed.TotalSeconds:0.0} s");

        using var stopLoad = new CancellationTokenSource();
        var (ingest, sent) = ingestRate > 0 ? IngestLoad(host, ingestRate, stopLoad.Token) : (Task.CompletedTask, new StrongBox<long>());
        var loadClock = Stopwatch.StartNew();
        if (ingestRate > 0) await Task.Delay(3000); // the load settles before anything is measured

        var today = DateTime.UtcNow.Date;
        var publish = Stopwatch.StartNew();
        var report = (await admin.PublishReportAsync(new PublishReportRequest
        {
            PartnerId = "farm-bench",
            StartDate = today.AddDays(-29).ToString("yyyy-MM-dd"),
            EndDate = today.ToString("yyyy-MM-dd"),
        })).Report;
        Results.Add($"partner report publish, {items:N0} items{underLoad}", publish.Elapsed.TotalSeconds, "s", atMost: 10);
        Console.WriteLine($"PublishReport        {publish.Elapsed.TotalSeconds,6:0.00} s  (n {report.Items:N0}, NPS {report.Nps.Value:0.0} ± {report.Nps.MarginOfError:0.0}, {report.Breakdowns.Count} breakdowns)");

        var partner = new PartnerService.PartnerServiceClient(PartnerChannel(host));
        foreach (var format in new[] { ReportFormat.Csv, ReportFormat.Html })
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            using var process = Process.GetCurrentProcess();
            var baseline = process.WorkingSet64;
            var heapBaseline = GC.GetTotalMemory(true);
            long peak = baseline, heapPeak = heapBaseline;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    process.Refresh();
                    peak = Math.Max(peak, process.WorkingSet64);
                    heapPeak = Math.Max(heapPeak, GC.GetTotalMemory(false));
                    try
                    {
                        await Task.Delay(20, sampling.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            });
            var stopwatch = Stopwatch.StartNew();
            long bytes = 0;
            using (var call = partner.DownloadMyReport(new DownloadMyReportRequest { ReportId = report.ReportId, Format = format }))
            {
                await foreach (var chunk in call.ResponseStream.ReadAllAsync()) bytes += chunk.Chunk.Length;
            }
            var elapsed = stopwatch.Elapsed;
            await sampling.CancelAsync();
            await sampler;
            Console.WriteLine($"{format,-20} {elapsed.TotalSeconds,6:0.00} s to the last byte, {bytes / 1048576.0:N0} MiB; process working set +{(peak - baseline) / 1048576.0:N0} MiB, " +
                $"managed heap +{(heapPeak - heapBaseline) / 1048576.0:N0} MiB at peak   (aim <= 10 s, <= 128 MB)");
            Results.Add($"partner report {format} to the last byte{underLoad}", elapsed.TotalSeconds, "s", atMost: 10);
            Results.Add($"partner report {format} extra working set{underLoad}", (peak - baseline) / 1048576.0, "MiB", atMost: 128);
        }
        await stopLoad.CancelAsync();
        await ingest;
        if (ingestRate > 0) Console.WriteLine($"ingest load: {sent.Value:N0} items acknowledged in {loadClock.Elapsed.TotalSeconds:0} s ({sent.Value / loadClock.Elapsed.TotalSeconds:N0}/s)");
    }

    /// <summary>
    /// SubmitFeedbackBatch at <paramref name="rate"/> items a second (a batch every 100 ms, one stream at a time) until
    /// cancelled; how many were acknowledged. Its products include the partner's, so its copies grow as it runs.
    /// </summary>
    private static (Task Load, StrongBox<long> Sent) IngestLoad(BenchHost host, int rate, CancellationToken stop)
    {
        var sent = new StrongBox<long>();
        var feedback = new Feedback.V1.FeedbackService.FeedbackServiceClient(host.Channel(Roles.App));
        var run = Guid.NewGuid().ToString("N")[..8];
        var load = Task.Run(async () =>
        {
            var perTick = Math.Max(1, rate / 10);
            var clock = Stopwatch.StartNew();
            for (var tick = 0; !stop.IsCancellationRequested; tick++)
            {
                var due = TimeSpan.FromMilliseconds(100 * tick);
                if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
                using var call = feedback.SubmitFeedbackBatch();
                foreach (var item in FeedbackBenchmarks.Items(run, perTick, offset: tick * perTick))
                {
                    await call.RequestStream.WriteAsync(new Feedback.V1.SubmitFeedbackBatchRequest { Item = item });
                }
                await call.RequestStream.CompleteAsync();
                await call.ResponseAsync;
                sent.Value += perTick;
            }
        });
        return (load, sent);
    }

    private static Grpc.Net.Client.GrpcChannel PartnerChannel(BenchHost host)
    {
        var token = DevelopmentTokens.Create(new AuthOptions { SigningKey = TestKit.CxMeshTestHost.SigningKey }, Roles.Partner, "bench-partner", "farm-bench");
        var credentials = Grpc.Core.CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add("Authorization", $"Bearer {token}");
            return Task.CompletedTask;
        });
        return Grpc.Net.Client.GrpcChannel.ForAddress(host.GrpcAddress, new Grpc.Net.Client.GrpcChannelOptions
        {
            Credentials = Grpc.Core.ChannelCredentials.Create(Grpc.Core.ChannelCredentials.Insecure, credentials),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
    }

    private static readonly string[] Verbatims =
    [
        "The beans were fresh and the roast was perfect.", "Delivery was two days late and nobody told me.",
        "豆子很新鲜，味道很好。", "The bag arrived torn, coffee everywhere.", "Great aroma, a bit too bitter for me.",
    ];

    private static async Task LoadItemsAsync(string connectionString, Guid agreementId, int items)
    {
        var random = new Random(1);
        var now = DateTime.UtcNow;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy partner_items (partner_id, feedback_id, agreement_id, agreement_version, given_at, product_id, lot_id, nps, themes, redacted_verbatim) from stdin (format binary)"))
        {
            for (var i = 0; i < items; i++)
            {
                var nps = random.Next(0, 11);
                await copy.StartRowAsync();
                await copy.WriteAsync("farm-bench", NpgsqlDbType.Text);
                await copy.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                await copy.WriteAsync(agreementId, NpgsqlDbType.Uuid);
                await copy.WriteAsync(1, NpgsqlDbType.Integer);
                await copy.WriteAsync(now.AddMinutes(-random.Next(0, 29 * 24 * 60)), NpgsqlDbType.TimestampTz);
                await copy.WriteAsync("sku-1", NpgsqlDbType.Text);
                await copy.WriteAsync($"lot-{random.Next(0, 40)}", NpgsqlDbType.Text);
                await copy.WriteAsync(nps, NpgsqlDbType.Integer);
                await copy.WriteAsync($"[{{\"key\":\"freshness\",\"sentiment\":{(nps >= 9 ? "0.6" : "-0.4")}}}]", NpgsqlDbType.Jsonb);
                await copy.WriteAsync(Verbatims[random.Next(Verbatims.Length)], NpgsqlDbType.Text);
            }
            await copy.CompleteAsync();
        }
        await using var analyze = new NpgsqlCommand("analyze partner_items", connection);
        await analyze.ExecuteNonQueryAsync();
    }
}
