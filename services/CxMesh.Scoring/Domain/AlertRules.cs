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

    /// <summary>
    /// One drop, one alert: of the drops of one metric found together, those at the most specific scopes, each with the
    /// broader scopes whose drop it explains (a scope is broader when its parts are a subset: all, then a journey, then
    /// the journey with a channel). A drop nested with one already raised today (<paramref name="raised"/>: today's drop
    /// scopes of the same metric, broader or narrower) is the same drop seen again and raises nothing: within a refresh
    /// the most specific scope names the alert, across refreshes the first one found does. A narrower scope holding exactly the
    /// broader one's responses (the same n in both weeks: a journey all of whose answers came by survey) adds nothing and
    /// gives way to it. Language and audience scopes, which repeat all feedback in other words, are not watched at all.
    /// </summary>
    public static IReadOnlyList<(string ScopeKey, IReadOnlyList<string> Broader)> MostSpecificDrops(
        IReadOnlyCollection<(string ScopeKey, long N, long PreviousN)> drops, IReadOnlyCollection<string> raised)
    {
        static HashSet<string> Parts(string key) => key == ScoreScope.AllKey ? [] : key.Split('|').ToHashSet(StringComparer.Ordinal);
        var found = drops.Where(d => ScoreScope.Parse(d.ScopeKey).Parts.All(p => !p.StandsAlone)).DistinctBy(d => d.ScopeKey)
            .Select(d => (Key: d.ScopeKey, Parts: Parts(d.ScopeKey), d.N, d.PreviousN)).ToList();
        var watched = found.Where(t => !found.Any(s => s.Parts.IsProperSubsetOf(t.Parts) && s.N == t.N && s.PreviousN == t.PreviousN))
            .Select(t => (t.Key, t.Parts)).ToList();
        var already = raised.Select(Parts).ToList();
        var result = new List<(string, IReadOnlyList<string>)>();
        foreach (var (key, parts) in watched)
        {
            var explained = watched.Any(o => o.Key != key && parts.IsProperSubsetOf(o.Parts)) || already.Any(r => parts.IsSubsetOf(r) || r.IsSubsetOf(parts));
            if (explained) continue;
            result.Add((key, watched.Where(o => o.Key != key && o.Parts.IsProperSubsetOf(parts)).Select(o => o.Key).Order(StringComparer.Ordinal).ToList()));
        }
        return result;
    }
}
