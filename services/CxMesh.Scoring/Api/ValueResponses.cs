using System.Globalization;
using CxMesh.Scoring.Domain;
using CxMesh.Scoring.V1;

namespace CxMesh.Scoring.Api;

/// <summary>Shapes the value of experience (<see cref="ExperienceValue"/>) from the stored statistics into the response.</summary>
public static class ValueResponses
{
    public static GetValueOfExperienceResponse Build(ScoreScope scope, DateOnly from, DateOnly to, DateOnly today,
        IReadOnlyDictionary<string, NextMonth[]> stats)
    {
        var response = new GetValueOfExperienceResponse { StartMonth = Month(from), EndMonth = Month(to) };
        var byRating = stats.GetValueOrDefault(scope.Key) ?? new NextMonth[ExperienceValue.Ratings];
        var classes = new[] { NpsCategory.Promoter, NpsCategory.Passive, NpsCategory.Detractor }
            .Select(c => ExperienceValue.Figures(c, ExperienceValue.Sum(byRating, c))).ToList();
        response.Classes.AddRange(classes.Select(ToProto));
        var (promoters, detractors) = (classes[0], classes[2]);
        response.RetainedPoints = ToProto(ExperienceValue.SharePoints(promoters.Retained, detractors.Retained));
        response.RepeatPurchasePoints = ToProto(ExperienceValue.SharePoints(promoters.RepeatPurchase, detractors.RepeatPurchase));
        response.Spend = ToProto(ExperienceValue.Means(promoters.Spend, detractors.Spend));
        response.CostToServe = ToProto(ExperienceValue.Means(promoters.CostToServe, detractors.CostToServe));
        response.RevenueAtRisk = ToProto(ExperienceValue.RevenueAtRisk(promoters, detractors));
        response.IncompleteMonths.AddRange(IncompleteMonths(from, to, today));

        var journeys = Predictors(stats, ValueBases.JourneyPredictorPrefix, PredictorLevel.Journey);
        var touchpoints = Predictors(stats, ValueBases.TouchpointPredictorPrefix, PredictorLevel.Touchpoint);
        response.Journeys.AddRange(journeys.Select(p => p.Proto));
        response.Touchpoints.AddRange(touchpoints.Select(p => p.Proto));
        var journeysPooled = ExperienceValue.Auc(Pool(journeys.Select(p => p.ByRating)));
        var touchpointsPooled = ExperienceValue.Auc(Pool(touchpoints.Select(p => p.ByRating)));
        response.JourneysPooled = ToProto(PredictorLevel.Journey, "", "", journeysPooled);
        response.TouchpointsPooled = ToProto(PredictorLevel.Touchpoint, "", "", touchpointsPooled);
        response.JourneyMinusTouchpointAuc = ToProto(ExperienceValue.AucDifference(journeysPooled, touchpointsPooled));
        return response;
    }

    /// <summary>The predictor bases a scope reads: all of them for all answers, a journey's own for a journey scope, none otherwise.</summary>
    public static (IReadOnlyList<string> Keys, IReadOnlyList<string> Prefixes) PredictorBases(ScoreScope scope) => scope.Parts switch
    {
        [] => ([], [ValueBases.JourneyPredictorPrefix, ValueBases.TouchpointPredictorPrefix]),
        [{ Dimension: ScopeDimension.Journey } journey] =>
            ([ValueBases.JourneyPredictor(journey.Value)], [ValueBases.TouchpointPredictorPrefix + journey.Key + "|"]),
        _ => ([], []),
    };

    private static List<(PredictivePower Proto, NextMonth[] ByRating)> Predictors(IReadOnlyDictionary<string, NextMonth[]> stats, string prefix, PredictorLevel level) =>
        stats.Where(s => s.Key.StartsWith(prefix, StringComparison.Ordinal))
            .Select(s =>
            {
                var (journey, touchpoint) = ValueBases.Describe(s.Key);
                return (ToProto(level, journey, touchpoint, ExperienceValue.Auc(s.Value)), s.Value);
            })
            .OrderByDescending(p => p.Item1.HasValue).ThenByDescending(p => p.Item1.Auc).ThenBy(p => p.Item1.JourneyKey, StringComparer.Ordinal)
            .ThenBy(p => p.Item1.TouchpointKey, StringComparer.Ordinal)
            .ToList();

    private static NextMonth[] Pool(IEnumerable<NextMonth[]> tables)
    {
        var pooled = new NextMonth[ExperienceValue.Ratings];
        foreach (var table in tables)
        {
            for (var r = 0; r < pooled.Length; r++) pooled[r] += table[r];
        }
        return pooled;
    }

    /// <summary>The months of the window whose following month has not ended yet.</summary>
    public static IEnumerable<string> IncompleteMonths(DateOnly from, DateOnly to, DateOnly today)
    {
        var thisMonth = new DateOnly(today.Year, today.Month, 1);
        for (var month = from; month <= to; month = month.AddMonths(1))
        {
            if (month.AddMonths(1) >= thisMonth) yield return Month(month);
        }
    }

    private static string Month(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    private static ClassValue ToProto(ExperienceValue.ClassFigures f) => new()
    {
        NpsClass = f.Class switch { NpsCategory.Promoter => NpsClass.Promoter, NpsCategory.Passive => NpsClass.Passive, _ => NpsClass.Detractor },
        Customers = f.Customers,
        Retained = ToProto(f.Retained),
        RepeatPurchase = ToProto(f.RepeatPurchase),
        Spend = ToProto(f.Spend),
        CostToServe = ToProto(f.CostToServe),
    };

    public static Share ToProto(ShareFigure s) => new() { Count = s.Count, Percent = s.Percent, Low = s.Low, High = s.High };

    public static Average ToProto(MeanFigure m) => new() { Mean = m.Mean, MarginOfError = m.HasMargin ? m.Margin : 0, HasMargin = m.HasMargin };

    public static Difference ToProto(DifferenceFigure d) => new()
    {
        Value = d.Value,
        Low = d.Low,
        High = d.High,
        PValue = d.PValue,
        Significant = d.Significant,
        HasValue = d.HasValue,
    };

    private static PredictivePower ToProto(PredictorLevel level, string journey, string touchpoint, AucFigure auc) => new()
    {
        Level = level,
        JourneyKey = journey,
        TouchpointKey = touchpoint,
        Customers = auc.Customers,
        Retained = auc.Positives,
        Auc = auc.HasValue ? auc.Auc : 0,
        AucLow = auc.HasValue ? auc.Low : 0,
        AucHigh = auc.HasValue ? auc.High : 0,
        HasValue = auc.HasValue,
    };
}
