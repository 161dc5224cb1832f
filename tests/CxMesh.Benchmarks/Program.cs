using CxMesh.Benchmarks;

// dotnet run -c Release --project tests/CxMesh.Benchmarks -- <benchmark> [options]
//   journey-ingest [rows=200000] [batch=1000] [streams=4] [projector=running|paused]
//   journey-funnel [checkpoints=100000,1000000] [calls=2000]
//   feedback-text [seconds=5]
//   text-eval [seconds=3]
//   feedback-ingest [items=100000] [batch=1000] [streams=4] [relay=running|paused] [percent-with-verbatim=60]
//   feedback-stages [items=50000] [percent-with-verbatim=60]
//   feedback-memory [items=1000000] [batch=10000]
//   feedback-import [rows=1000000] [percent-with-comment=60]
//   feedback-retag [items=200000] [percent-with-verbatim=60]
//   feedback-import-resume [rows=5000000] [percent-with-comment=10]
//   scoring-history [days=1095] [per-day=1000] [calls=200]
//   scoring-hot [concurrency=32] [seconds=10]
//   scoring-batch [concurrency=32] [seconds=8]
//   scoring-freshness [items-per-second=1000] [seconds=20]
//   scoring-drivers [calls=500]
//   scoring-value [customers=10000,10000000] [calls=500]
//   partner-report [items=1000000] [ingest-items-per-second=0]
//   governance-audit [entries=1000000] [writers=8] [changes=2000]
//   web-pages [scales=1,100] [requests=40]
//   hostile-memory
//   fuzz [per-method=400] [seeds=5]
//   report <figures.jsonl> <out-dir> [results.json to compare with]   (used by ./bench.sh)
var name = args.FirstOrDefault() ?? "help";
Results.Benchmark = name;
int Arg(int index, int fallback) => args.Length > index && int.TryParse(args[index], out var v) ? v : fallback;
switch (name)
{
    case "journey-ingest":
        await JourneyBenchmarks.IngestAsync(Arg(1, 200_000), Arg(2, 1000), Arg(3, 4), args.ElementAtOrDefault(4) != "paused");
        break;
    case "feedback-text":
        FeedbackBenchmarks.Text(Arg(1, 5));
        break;
    case "text-eval":
        TextEvalBenchmarks.Run(Arg(1, 3));
        break;
    case "feedback-ingest":
        await FeedbackBenchmarks.IngestAsync(Arg(1, 100_000), Arg(2, 1000), Arg(3, 4), args.ElementAtOrDefault(4) != "paused", Arg(5, 60));
        break;
    case "feedback-stages":
        await FeedbackBenchmarks.StagesAsync(Arg(1, 50_000), Arg(2, 60));
        break;
    case "feedback-memory":
        await FeedbackBenchmarks.MemoryAsync(Arg(1, 1_000_000), Arg(2, 10_000));
        break;
    case "feedback-import":
        await FeedbackBenchmarks.ImportAsync(Arg(1, 1_000_000), Arg(2, 60));
        break;
    case "feedback-import-resume":
        await FeedbackBenchmarks.ImportResumeAsync(Arg(1, 5_000_000), Arg(2, 10));
        break;
    case "feedback-retag":
        await FeedbackBenchmarks.RetagAsync(Arg(1, 200_000), Arg(2, 60));
        break;
    case "scoring-history":
        await ScoringBenchmarks.HistoryAsync(Arg(1, 1095), Arg(2, 1000), Arg(3, 200));
        break;
    case "scoring-hot":
        await ScoringBenchmarks.HotReadsAsync(Arg(1, 32), Arg(2, 10));
        break;
    case "scoring-batch":
        await ScoringBenchmarks.BatchReadsAsync(Arg(1, 32), Arg(2, 8));
        break;
    case "scoring-freshness":
        await ScoringBenchmarks.FreshnessAsync(Arg(1, 1000), Arg(2, 20));
        break;
    case "scoring-drivers":
        await ScoringBenchmarks.DriversAsync(Arg(1, 500));
        break;
    case "scoring-value":
        await ScoringBenchmarks.ValueAsync(args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToArray() : [10_000, 10_000_000], Arg(2, 500));
        break;
    case "partner-report":
        await PartnerBenchmarks.ReportAsync(Arg(1, 1_000_000), Arg(2, 0));
        break;
    case "governance-audit":
        await GovernanceBenchmarks.AuditAsync(Arg(1, 1_000_000), Arg(2, 8), Arg(3, 2000));
        break;
    case "web-pages":
        await WebBenchmarks.PagesAsync(args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToArray() : [1, 100], Arg(2, 40));
        break;
    case "hostile-memory":
        await HostileBenchmarks.MemoryAsync();
        break;
    case "fuzz":
        await HostileBenchmarks.FuzzAsync(Arg(1, 400), Arg(2, 5));
        break;
    case "report":
        // report <figures.jsonl> <out-dir> [committed results.json to compare with]
        return Report.Run(args[1], args[2], args.ElementAtOrDefault(3));
    case "journey-funnel":
        var checkpoints = args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToArray() : [100_000, 1_000_000];
        await JourneyBenchmarks.FunnelAsync(checkpoints, Arg(2, 2000));
        break;
    default:
        Console.WriteLine("benchmarks: journey-ingest [rows] [batch] [streams] [paused] | journey-funnel [checkpoints] [calls] | feedback-text [seconds] | text-eval [seconds] | feedback-ingest [items] [batch] [streams] | feedback-stages [items] [percent] | feedback-memory [items] [batch] | feedback-import [rows] [percent] | feedback-retag [items] [percent] | feedback-import-resume [rows] [percent] | scoring-history [days] [per-day] [calls] | scoring-hot [concurrency] [seconds] | scoring-batch [concurrency] [seconds] | scoring-freshness [rate] [seconds] | scoring-drivers [calls] | scoring-value [customers] [calls] | partner-report [items] [ingest-rate] | governance-audit [entries] [writers] [changes] | web-pages [scales] [requests] | hostile-memory | fuzz [per-method] [seeds]");
        return 64;
}
return 0;
