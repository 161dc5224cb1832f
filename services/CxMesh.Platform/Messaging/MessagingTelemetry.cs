using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CxMesh.Platform.Messaging;

internal static class MessagingTelemetry
{
    public const string Name = "CxMesh.Messaging";
    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Published = Meter.CreateCounter<long>("cxmesh.outbox.published", description: "Events the relay published.");
    public static readonly Counter<long> PublishFailures = Meter.CreateCounter<long>("cxmesh.outbox.publish_failures", description: "Failed publish attempts (retried with backoff).");
    public static readonly Counter<long> Parked = Meter.CreateCounter<long>("cxmesh.outbox.parked", description: "Events parked after too many failed attempts.");
    public static readonly Counter<long> Handled = Meter.CreateCounter<long>("cxmesh.inbox.handled", description: "Events applied by a handler.");
    public static readonly Counter<long> Duplicates = Meter.CreateCounter<long>("cxmesh.inbox.duplicates", description: "Redelivered events skipped by the inbox.");
    public static readonly Counter<long> Rejected = Meter.CreateCounter<long>("cxmesh.events.rejected", description: "Calls to event routes refused: no or a wrong Dapr app API token.");
    public static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>("cxmesh.inbox.dead_lettered", description: "Events a handler could not use, kept in dead_letters.");

    public static ActivityContext ParentFrom(string? traceparent) =>
        traceparent is not null && ActivityContext.TryParse(traceparent, null, out var ctx) ? ctx : default;
}
