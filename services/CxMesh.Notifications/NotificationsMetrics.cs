using System.Diagnostics.Metrics;

namespace CxMesh.Notifications;

/// <summary>The notifications service's instruments (served at /metrics with the platform's).</summary>
internal static class NotificationsMetrics
{
    public static readonly Meter Meter = new("CxMesh.Notifications");

    public static readonly Counter<long> SendAttempts = Meter.CreateCounter<long>("cxmesh.notifications.send_attempts", "{attempt}",
        "Notifications sent or attempted, by channel kind and outcome (sent, failed: retried later, gave_up).");
}
