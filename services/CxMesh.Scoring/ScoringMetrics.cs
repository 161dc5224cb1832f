using System.Diagnostics.Metrics;

namespace CxMesh.Scoring;

/// <summary>The scoring service's instruments (served at /metrics with the platform's).</summary>
internal static class ScoringMetrics
{
    public static readonly Meter Meter = new("CxMesh.Scoring");

    /// <summary>Freshness as callers see it: from the moment feedback was acknowledged to its hot score in Redis.</summary>
    public static readonly Histogram<double> Freshness = Meter.CreateHistogram("cxmesh.scoring.freshness", "s",
        "From a feedback item's acknowledgement to the refresh of its hot scores (the freshness target is on its p99).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });

    public static readonly Counter<long> AlertsRaised = Meter.CreateCounter<long>("cxmesh.scoring.alerts_raised", "{alert}",
        "Alerts raised (score drops, detractor items), by kind.");
}
