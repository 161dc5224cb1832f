using System.Diagnostics.Metrics;

namespace CxMesh.Governance;

/// <summary>The governance service's instruments (served at /metrics with the platform's).</summary>
internal static class GovernanceMetrics
{
    public static readonly Meter Meter = new("CxMesh.Governance");

    public static readonly Counter<long> ActionsCreated = Meter.CreateCounter<long>("cxmesh.governance.actions_created", "{action}",
        "Actions created, by source (alert, partner-commitment, case-study, idea, manual).");
}
