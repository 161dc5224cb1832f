namespace CxMesh.Scoring.Domain;

public enum ItemAlert
{
    None,
    Detractor,
    NegativeComplaint,
}

/// <summary>
/// When scoring raises an alert. Two rules: an item alert for a single response (a detractor rating, else a complaint
/// whose words read strongly negative), and a score drop when a watched score fell significantly from one week to the
/// next. Each alert becomes one action in governance.
/// </summary>
public static class AlertRules
{
    /// <summary>
    /// The alert one response raises: none for history (given longer than <paramref name="maxAge"/> ago: a backfill
    /// of last year's detractors is not a call-back list); else a detractor rating first; else strongly negative words
    /// in a complaint, or in a voice with no rating at all (a review, a call note: its words are all it says).
    /// </summary>
    public static ItemAlert ForItem(bool hasDetractorRating, bool isComplaint, bool isUnrated, bool hasWords, double sentiment,
        double negativeComplaintSentiment, TimeSpan age, TimeSpan maxAge) =>
        age > maxAge ? ItemAlert.None
        : hasDetractorRating ? ItemAlert.Detractor
        : (isComplaint || isUnrated) && hasWords && sentiment <= negativeComplaintSentiment ? ItemAlert.NegativeComplaint
        : ItemAlert.None;

    /// <summary>The scores watched for drops: NPS and eNPS over every question together, and CSAT per question.</summary>
    public static bool WatchedForDrops(MetricKind kind, bool everyQuestion) =>
        kind is MetricKind.Nps or MetricKind.Enps ? everyQuestion : kind == MetricKind.Csat;

    /// <summary>
    /// A drop is raised when both weeks hold at least <paramref name="minN"/> responses and the score fell, significantly
    /// at the configured level (<see cref="Comparison"/>): a small or noisy week raises nothing.
    /// </summary>
    public static bool IsDrop(long currentN, long previousN, int minN, Comparison comparison) =>
        currentN >= minN && previousN >= minN && comparison.Significant && comparison.Difference < 0;
}
