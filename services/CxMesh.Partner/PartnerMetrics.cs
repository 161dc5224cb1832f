using System.Diagnostics.Metrics;

namespace CxMesh.Partner;

/// <summary>The partner service's instruments (served at /metrics with the platform's).</summary>
internal static class PartnerMetrics
{
    public static readonly Meter Meter = new("CxMesh.Partner");

    public static readonly Counter<long> WebhookAttempts = Meter.CreateCounter<long>("cxmesh.partner.webhook_attempts", "{attempt}",
        "Webhook deliveries attempted, by outcome (delivered, failed: retried later, gave_up).");

    public static readonly Histogram<double> ReportPublishDuration = Meter.CreateHistogram("cxmesh.partner.report_publish_duration", "s",
        "Time to build and publish one partner report (k-anonymity, breakdowns, samples).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });

    public static readonly Counter<long> ReportsPublished = Meter.CreateCounter<long>("cxmesh.partner.reports_published", "{report}",
        "Partner reports published.");
}
