namespace CxMesh.Feedback.Domain;

public enum MetricKind
{
    Nps,
    Csat,
    Ces,
    Enps,
    Custom,
}

/// <summary>A rating question: what it measures and its scale. Scores are computed from this, never inferred.</summary>
public sealed record Question(string Id, MetricKind Metric, int ScaleMin, int ScaleMax)
{
    public bool InScale(int value) => value >= ScaleMin && value <= ScaleMax;
}

/// <summary>The standard questions every installation has.</summary>
public static class StandardQuestions
{
    public static readonly Question Nps = new("nps", MetricKind.Nps, 0, 10);
    public static readonly Question Csat = new("csat", MetricKind.Csat, 1, 5);
    public static readonly Question Ces = new("ces", MetricKind.Ces, 1, 7);
    public static readonly Question Enps = new("enps", MetricKind.Enps, 0, 10);

    public static IReadOnlyDictionary<string, Question> ById { get; } =
        new[] { Nps, Csat, Ces, Enps }.ToDictionary(q => q.Id, StringComparer.Ordinal);

    public static Question? Find(string id) => ById.GetValueOrDefault(id);
}
