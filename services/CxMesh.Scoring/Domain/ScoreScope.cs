namespace CxMesh.Scoring.Domain;

public enum ScopeDimension
{
    Journey,
}

/// <summary>
/// What a score is about: no dimensions means all feedback. The key is canonical (dimensions sorted),
/// so the same scope always lands on the same aggregate rows.
/// </summary>
public sealed record ScoreScope(IReadOnlyList<(ScopeDimension Dimension, string Value)> Dimensions)
{
    public static readonly ScoreScope All = new([]);

    public static ScoreScope Journey(string journeyId) => new([(ScopeDimension.Journey, journeyId)]);

    public string Key => Dimensions.Count == 0
        ? "all"
        : string.Join("|", Dimensions.OrderBy(d => d.Dimension).Select(d => $"{d.Dimension.ToString().ToLowerInvariant()}={d.Value}"));

    /// <summary>The scopes one response counts in: all, plus each dimension it carries.</summary>
    public static IReadOnlyList<ScoreScope> ScopesOf(string? journeyId)
    {
        var scopes = new List<ScoreScope> { All };
        if (!string.IsNullOrEmpty(journeyId)) scopes.Add(Journey(journeyId));
        return scopes;
    }
}
