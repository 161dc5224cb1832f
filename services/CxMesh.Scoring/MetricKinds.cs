using CxMesh.Common.V1;
using CxMesh.Scoring.Domain;

namespace CxMesh.Scoring;

/// <summary>The one mapping between the contracts' metric and Domain's, for the API, the event handlers and the workers.</summary>
public static class MetricKinds
{
    public static Metric ToProto(MetricKind kind) => kind switch
    {
        MetricKind.Nps => Metric.Nps,
        MetricKind.Csat => Metric.Csat,
        MetricKind.Ces => Metric.Ces,
        MetricKind.Enps => Metric.Enps,
        _ => Metric.Custom,
    };

    /// <summary>Null for UNSPECIFIED and numbers the contracts do not know.</summary>
    public static MetricKind? FromProto(Metric metric) => metric switch
    {
        Metric.Nps => MetricKind.Nps,
        Metric.Enps => MetricKind.Enps,
        Metric.Csat => MetricKind.Csat,
        Metric.Ces => MetricKind.Ces,
        Metric.Custom => MetricKind.Custom,
        _ => null,
    };
}

/// <summary>Unit kinds between the contracts and the stored names ("store", "team", "agent").</summary>
public static class UnitKinds
{
    public static string Name(UnitKind kind) => kind switch
    {
        UnitKind.Store => "store",
        UnitKind.Team => "team",
        UnitKind.Agent => "agent",
        _ => "unit",
    };

    public static UnitKind FromName(string name) => name switch
    {
        "store" => UnitKind.Store,
        "team" => UnitKind.Team,
        "agent" => UnitKind.Agent,
        _ => UnitKind.Unspecified,
    };
}
