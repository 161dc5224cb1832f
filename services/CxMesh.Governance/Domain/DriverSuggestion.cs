namespace CxMesh.Governance.Domain;

/// <summary>
/// Ranks candidate CX-code drivers by importance (share of explained variance over the whole window) and stability
/// (how steady that share is over the window's three thirds): a driver that matters only in one month is a weaker
/// candidate for a code meant to last.
/// </summary>
public static class DriverSuggestion
{
    public sealed record Candidate(string ThemeKey, double Importance, bool Significant, double Correlation, double NegativePercent, long Mentions);

    public sealed record Ranked(Candidate Driver, double Stability, double RankScore);

    /// <param name="whole">Drivers over the whole window.</param>
    /// <param name="parts">For each part of the window, each theme's importance there (missing: not a driver there).</param>
    public static IReadOnlyList<Ranked> Rank(IReadOnlyList<Candidate> whole, IReadOnlyList<IReadOnlyDictionary<string, double>> parts)
    {
        return whole
            .Select(c =>
            {
                var stability = Stability(parts.Select(p => p.TryGetValue(c.ThemeKey, out var v) ? v : (double?)null).ToList());
                return new Ranked(c, stability, c.Importance * (0.5 + 0.5 * stability));
            })
            .OrderByDescending(r => r.RankScore)
            .ThenBy(r => r.Driver.ThemeKey, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>1 - coefficient of variation of the parts' importances, clamped to 0..1; 0 when a part lacks it.</summary>
    public static double Stability(IReadOnlyList<double?> importances)
    {
        if (importances.Count == 0 || importances.Any(v => v is null or <= 0)) return 0;
        var values = importances.Select(v => v!.Value).ToList();
        var mean = values.Average();
        var variance = values.Sum(v => (v - mean) * (v - mean)) / values.Count;
        return Math.Clamp(1 - Math.Sqrt(variance) / mean, 0, 1);
    }

    /// <summary>Every significant driver, at least three when there are three, at most five.</summary>
    public static int SuggestedCount(IReadOnlyList<Ranked> ranked)
    {
        var significant = ranked.Count(r => r.Driver.Significant);
        return Math.Min(Math.Min(Math.Max(significant, CxCodeRules.MinDrivers), CxCodeRules.MaxDrivers), ranked.Count);
    }
}
