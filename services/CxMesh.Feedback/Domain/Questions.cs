namespace CxMesh.Feedback.Domain;

public enum MetricKind
{
    Nps,
    Csat,
    Ces,
    Enps,
    Custom,
}

/// <summary>A rating question: what it measures, its scale, its direction and its top box. Scores are computed from this, never inferred.</summary>
public sealed record Question(string Id, string Text, MetricKind Metric, int ScaleMin, int ScaleMax, bool HigherIsBetter, IReadOnlyList<int> TopBox)
{
    public const int MaxPoints = 101;
    public const int MaxTextLength = 500;
    public const string Customers = "customer";
    public const string Employees = "employee";

    /// <summary>Who answers it: "employee" for eNPS, "customer" for NPS, CSAT and CES; either for a custom question.</summary>
    public string Audience { get; init; } = Metric == MetricKind.Enps ? Employees : Customers;

    /// <summary>The outcome question an attribute question explains (an NPS, eNPS or CSAT question), or null.</summary>
    public string? DriverOf { get; init; }

    /// <summary>Whether a question of this metric can be the outcome attribute questions explain.</summary>
    public static bool IsOutcome(MetricKind metric) => metric is MetricKind.Nps or MetricKind.Enps or MetricKind.Csat;

    /// <summary>What is wrong with naming <paramref name="outcome"/> (null: not registered) as the question this one explains.</summary>
    public IEnumerable<(string Field, string Problem)> DriverProblems(Question? outcome)
    {
        if (DriverOf is null) yield break;
        if (Metric is MetricKind.Nps or MetricKind.Enps) yield return ("driver_of", "an NPS or eNPS question is an outcome: it cannot be registered as a driver of another question.");
        else if (DriverOf == Id) yield return ("driver_of", "a question cannot be a driver of itself.");
        else if (outcome is null) yield return ("driver_of", $"driver_of names '{DriverOf}', which is not a registered question: register the outcome question first.");
        else if (!IsOutcome(outcome.Metric)) yield return ("driver_of", $"driver_of must name an NPS, eNPS or CSAT question; '{outcome.Id}' is {outcome.Metric.ToString().ToUpperInvariant()}.");
        else if (outcome.Audience != Audience) yield return ("driver_of", $"'{outcome.Id}' is asked of {outcome.Audience}s and this question of {Audience}s: an attribute explains an outcome of its own audience.");
    }

    /// <summary>The audience a metric's questions are asked of, or null when its questions may be asked of either (custom).</summary>
    public static string? AudienceOf(MetricKind metric) => metric switch
    {
        MetricKind.Enps => Employees,
        MetricKind.Custom => null,
        _ => Customers,
    };

    public bool InScale(int value) => value >= ScaleMin && value <= ScaleMax;

    /// <summary>What is wrong with a question before it is registered, as (field, problem) pairs.</summary>
    public IEnumerable<(string Field, string Problem)> Problems()
    {
        if (ScaleMin >= ScaleMax) yield return ("scale_max", $"scale_max ({ScaleMax}) must be greater than scale_min ({ScaleMin}).");
        else if (ScaleMax - ScaleMin + 1 > MaxPoints) yield return ("scale_max", $"a scale may have at most {MaxPoints} points.");
        if (Metric is MetricKind.Nps or MetricKind.Enps && (ScaleMin != 0 || ScaleMax != 10 || !HigherIsBetter))
        {
            yield return ("metric", "NPS and eNPS questions use the 0-10 scale, higher is better: the promoter and detractor bands are defined on it.");
        }
        if (AudienceOf(Metric) is { } audience && Audience != audience)
        {
            yield return ("audience", $"{Metric.ToString().ToUpperInvariant()} questions are asked of {audience}s: eNPS of employees, NPS, CSAT and CES of customers (a custom question may be either).");
        }
        if (TopBox.Count == 0) yield return ("top_box_values", "top_box_values must name at least one value.");
        if (TopBox.Any(v => !InScale(v))) yield return ("top_box_values", $"top_box_values must lie within the scale {ScaleMin}-{ScaleMax}.");
        if (TopBox.Distinct().Count() != TopBox.Count) yield return ("top_box_values", "top_box_values must not repeat a value.");
    }
}
