using System.Diagnostics.Metrics;

namespace CxMesh.Feedback;

/// <summary>The feedback service's instruments (served at /metrics with the platform's).</summary>
internal static class FeedbackMetrics
{
    public static readonly Meter Meter = new("CxMesh.Feedback");

    public static readonly Counter<long> Stored = Meter.CreateCounter<long>("cxmesh.feedback.stored", "{item}",
        "Feedback items stored, by every path (single, batch, CSV import, source events); its rate is the ingest rate.");

    public static readonly Counter<long> Repeated = Meter.CreateCounter<long>("cxmesh.feedback.repeated", "{item}",
        "Items answered from an earlier identical submission (same idempotency key or external id): stored once.");
}
