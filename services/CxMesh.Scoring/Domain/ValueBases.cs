namespace CxMesh.Scoring.Domain;

/// <summary>
/// What the value of experience is kept by ("bases"): all answers and each single dimension of an answer that says
/// where the experience happened (journey, touchpoint, channel, product, store, segment), and the predictors: answers
/// about a whole journey, and answers about one touchpoint.
/// </summary>
public static class ValueBases
{
    public const string JourneyPredictorPrefix = "predict.journey:";
    public const string TouchpointPredictorPrefix = "predict.touchpoint:";

    public static bool IsValueDimension(ScopeDimension dimension) => dimension is ScopeDimension.Journey or ScopeDimension.Touchpoint
        or ScopeDimension.Channel or ScopeDimension.Product or ScopeDimension.Store or ScopeDimension.Segment;

    /// <summary>
    /// The bases of one customer's NPS answer: its scopes, plus a journey predictor when the feedback named a journey
    /// and no touchpoint, or a touchpoint predictor when it named a touchpoint (with its journey when known).
    /// </summary>
    public static List<string> Of(IReadOnlyList<ScopePart> parts, string namedJourney, string namedTouchpoint, string journey)
    {
        var bases = new List<string> { ScoreScope.AllKey };
        bases.AddRange(parts.Where(p => IsValueDimension(p.Dimension)).Select(p => p.Key).Distinct());
        if (namedTouchpoint.Length > 0)
        {
            bases.Add(TouchpointPredictor(journey, namedTouchpoint));
        }
        else if (namedJourney.Length > 0)
        {
            bases.Add(JourneyPredictor(namedJourney));
        }
        return bases;
    }

    public static string JourneyPredictor(string journey) => JourneyPredictorPrefix + ScoreScope.Journey(journey).Key;

    public static string TouchpointPredictor(string journey, string touchpoint)
    {
        var parts = new List<ScopePart> { new(ScopeDimension.Touchpoint, touchpoint) };
        if (journey.Length > 0) parts.Add(new ScopePart(ScopeDimension.Journey, journey));
        return TouchpointPredictorPrefix + new ScoreScope(parts).Key;
    }

    /// <summary>The journey and touchpoint of a predictor basis.</summary>
    public static (string Journey, string Touchpoint) Describe(string basis)
    {
        var at = basis.IndexOf(':', StringComparison.Ordinal);
        var scope = ScoreScope.Parse(basis[(at + 1)..]);
        return (scope.Parts.FirstOrDefault(p => p.Dimension == ScopeDimension.Journey)?.Value ?? "",
            scope.Parts.FirstOrDefault(p => p.Dimension == ScopeDimension.Touchpoint)?.Value ?? "");
    }

    /// <summary>The first day of the calendar month (UTC) of <paramref name="at"/>.</summary>
    public static DateOnly MonthOf(DateTime at) => new(at.Year, at.Month, 1);
}
