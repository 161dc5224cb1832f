using System.Globalization;
using CxMesh.Common.V1;
using CxMesh.Platform.Validation;
using CxMesh.Scoring.Data;
using CxMesh.Scoring.Domain;
using CxMesh.Scoring.V1;

namespace CxMesh.Scoring.Api;

/// <summary>
/// The checks every scoring request shares (scope, window, metric), added to the platform's <see cref="Violations"/>:
/// every problem is collected with the field it is in, so that one INVALID_ARGUMENT names them all.
/// </summary>
public sealed partial class ScoringRequests(DateOnly today, int retentionDays) : Violations
{
    public const int MaxValueLength = 256;

    /// <summary>Queries in one BatchGetScores: a dashboard's worth.</summary>
    public const int MaxBatchQueries = 100;

    public ScoreScope Scope(Scope? scope, string field, int maxParts = ScoreScope.MaxParts)
    {
        var parts = new List<ScopePart>();
        if (scope is null) return ScoreScope.All;
        Check(scope.Dimensions.Count <= maxParts, $"{field}.dimensions",
            maxParts == 1 ? $"{field}.dimensions may hold at most one dimension here." : $"{field}.dimensions may hold at most {maxParts} dimensions.");
        for (var i = 0; i < scope.Dimensions.Count; i++)
        {
            var d = scope.Dimensions[i];
            var at = $"{field}.dimensions[{i}]";
            var dimension = Dimension(d.Kind, d.Attribute, $"{at}.kind", $"{at}.attribute");
            Check(d.Value.Length is > 0 and <= MaxValueLength, $"{at}.value", $"{at}.value is required, at most {MaxValueLength} characters.");
            if (dimension is { } kind) parts.Add(new ScopePart(kind, d.Value, kind == ScopeDimension.Segment ? d.Attribute : null));
        }
        Check(parts.Select(p => p.Name).Distinct().Count() == parts.Count, $"{field}.dimensions",
            $"{field}.dimensions must be of different kinds (a response has one journey, one channel...).");
        Check(parts.Count < 2 || parts.All(p => !p.StandsAlone), $"{field}.dimensions",
            $"{field}.dimensions: language, audience and unit stand alone, without another dimension.");
        return new ScoreScope(parts);
    }

    public ScopeDimension? Dimension(DimensionKind kind, string attribute, string kindField, string attributeField)
    {
        ScopeDimension? dimension = kind switch
        {
            DimensionKind.Journey => ScopeDimension.Journey,
            DimensionKind.Touchpoint => ScopeDimension.Touchpoint,
            DimensionKind.Channel => ScopeDimension.Channel,
            DimensionKind.Product => ScopeDimension.Product,
            DimensionKind.Lot => ScopeDimension.Lot,
            DimensionKind.Store => ScopeDimension.Store,
            DimensionKind.Segment => ScopeDimension.Segment,
            DimensionKind.Partner => ScopeDimension.Partner,
            DimensionKind.Language => ScopeDimension.Language,
            DimensionKind.Audience => ScopeDimension.Audience,
            DimensionKind.Unit => ScopeDimension.Unit,
            _ => null,
        };
        Check(dimension is not null, kindField, $"{kindField} must be one of {string.Join(", ", Enum.GetNames<DimensionKind>().Skip(1))}; got {(int)kind}.");
        if (dimension == ScopeDimension.Segment)
        {
            Check(Identifiers.Key().IsMatch(attribute), attributeField, $"{attributeField} is required for segment dimensions: 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");
        }
        else
        {
            Check(attribute.Length == 0, attributeField, $"{attributeField} is only for segment dimensions.");
        }
        return dimension;
    }

    public DayWindow Window(Window? window, string field, int defaultDays = DayWindow.DefaultDays)
    {
        var result = DayWindow.LastDays(defaultDays, today);
        switch (window?.WindowCase)
        {
            case V1.Window.WindowOneofCase.LastDays:
                Check(window.LastDays >= 1 && window.LastDays <= retentionDays, $"{field}.last_days", $"{field}.last_days must be 1 to {retentionDays} (the days scores are kept).");
                if (window.LastDays >= 1 && window.LastDays <= retentionDays) result = DayWindow.LastDays(window.LastDays, today);
                break;
            case V1.Window.WindowOneofCase.Range:
                var start = ParseDate(window.Range.StartDate);
                var end = ParseDate(window.Range.EndDate);
                Check(start is not null, $"{field}.range.start_date", $"{field}.range.start_date must be a date (yyyy-MM-dd).");
                Check(end is not null, $"{field}.range.end_date", $"{field}.range.end_date must be a date (yyyy-MM-dd).");
                if (start is null || end is null) break;
                Check(end >= start, $"{field}.range", $"{field}.range.end_date must not be before start_date.");
                Check(end <= today, $"{field}.range.end_date", $"{field}.range.end_date is in the future (today is {today:yyyy-MM-dd} UTC).");
                Check(start >= today.AddDays(-retentionDays), $"{field}.range.start_date",
                    $"{field}.range.start_date is older than the {retentionDays} days scores are kept.");
                result = new DayWindow(start.Value, end.Value);
                break;
        }
        return result;
    }

    /// <summary>The step of a trend over <paramref name="window"/>, at most <see cref="DayWindow.MaxPoints"/> points.</summary>
    public TrendStep Step(Granularity granularity, DayWindow window, string field = "granularity")
    {
        TrendStep? step = granularity switch
        {
            Granularity.Unspecified or Granularity.Day => TrendStep.Day,
            Granularity.Week => TrendStep.Week,
            Granularity.Month => TrendStep.Month,
            _ => null,
        };
        if (!Check(step is not null, field, $"{field} must be GRANULARITY_DAY, GRANULARITY_WEEK or GRANULARITY_MONTH.")) return TrendStep.Day;
        var points = window.PointsBy(step!.Value);
        Check(points <= DayWindow.MaxPoints, field,
            $"a {window.Days}-day window by {step.Value.ToString().ToLowerInvariant()} is {points} points; at most {DayWindow.MaxPoints}: choose a longer step.");
        return step.Value;
    }

    /// <summary>The metric and which questions of it: NPS and eNPS default to all their questions, CSAT and CES to the standard one.</summary>
    public (MetricKind Kind, MetricKey Key) Metric(Metric metric, string questionId, string field = "metric", string questionField = "question_id")
    {
        var kind = MetricKinds.FromProto(metric);
        Check(kind is not null, field, metric == Common.V1.Metric.Unspecified ? $"{field} is required." : $"{field} is not a known metric.");
        Check(questionId.Length == 0 || Identifiers.Key().IsMatch(questionId), questionField, $"{questionField} must be a question id (1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit).");
        Check(kind != MetricKind.Custom || questionId.Length > 0, questionField, $"{questionField} is required for custom metrics.");
        var question = questionId.Length > 0
            ? questionId
            : kind switch
            {
                MetricKind.Csat => "csat",
                MetricKind.Ces => "ces",
                _ => ScoreStore.AllQuestions,
            };
        var k = kind ?? MetricKind.Nps;
        return (k, new MetricKey(ScoreStore.MetricName(k), question));
    }

    public const int MaxValueMonths = 120;

    /// <summary>
    /// The answer months of a value query (first days of months), both inclusive. Neither given: the six months up to
    /// the last one whose following month has ended.
    /// </summary>
    public (DateOnly From, DateOnly To) Months(string start, string end, string startField = "start_month", string endField = "end_month")
    {
        var thisMonth = new DateOnly(today.Year, today.Month, 1);
        if (start.Length == 0 && end.Length == 0) return (thisMonth.AddMonths(-7), thisMonth.AddMonths(-2));
        var from = ParseMonth(start);
        var to = ParseMonth(end);
        Check(from is not null, startField, $"{startField} must be a month (yyyy-MM); give both months or neither.");
        Check(to is not null, endField, $"{endField} must be a month (yyyy-MM); give both months or neither.");
        if (from is null || to is null) return (thisMonth, thisMonth);
        Check(to >= from, endField, $"{endField} must not be before {startField}.");
        Check(to <= thisMonth, endField, $"{endField} is in the future (this month is {thisMonth:yyyy-MM} UTC).");
        Check(to < from.Value.AddMonths(MaxValueMonths), endField, $"{startField} to {endField} may span at most {MaxValueMonths} months.");
        Check(from.Value.AddMonths(1) > today.AddDays(-retentionDays), startField, $"{startField} is older than the {retentionDays} days scores are kept.");
        return (from.Value, to.Value);
    }

    public static DateOnly? ParseMonth(string value) =>
        DateOnly.TryParseExact(value, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month) ? month : null;

    public const int MinStages = 2;
    public const int MaxStages = 12;
    public const int MaxStageTouchpoints = 10;

    /// <summary>A stage model as an admin gives it: 2-12 stages with unique keys, names, and rules within bounds.</summary>
    public void StageModel(V1.StageModel? model, string field = "model")
    {
        if (!Check(model is not null, field, $"{field} is required: its stages, lowest first.")) return;
        Check(model!.Stages.Count is >= MinStages and <= MaxStages, $"{field}.stages", $"{field}.stages must hold {MinStages} to {MaxStages} stages, lowest first.");
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < model.Stages.Count && i <= MaxStages; i++)
        {
            var stage = model.Stages[i];
            var at = $"{field}.stages[{i}]";
            if (Identifiers.IsKey(Key(stage.Key, $"{at}.key"))) Check(keys.Add(stage.Key), $"{at}.key", $"stage key '{stage.Key}' is used twice.");
            Check(stage.Name.Length is > 0 and <= 200, $"{at}.name", $"{at}.name is required, at most 200 characters.");
            Check(stage.Description.Length <= 2000, $"{at}.description", $"{at}.description must be at most 2000 characters.");
            var rule = stage.Rule ?? new V1.StageRule();
            Check(rule.MinPurchases is >= 0 and <= 10_000, $"{at}.rule.min_purchases", $"{at}.rule.min_purchases must be 0 to 10000.");
            Check(rule.MinPurchaseMonths is >= 0 and <= 1_200, $"{at}.rule.min_purchase_months", $"{at}.rule.min_purchase_months must be 0 to 1200.");
            Check(rule.MinReferrals is >= 0 and <= 10_000, $"{at}.rule.min_referrals", $"{at}.rule.min_referrals must be 0 to 10000.");
            Check(rule.Touchpoints.Count <= MaxStageTouchpoints, $"{at}.rule.touchpoints", $"{at}.rule.touchpoints may hold at most {MaxStageTouchpoints}.");
            var required = new HashSet<(string, string)>();
            for (var t = 0; t < rule.Touchpoints.Count && t <= MaxStageTouchpoints; t++)
            {
                var tp = rule.Touchpoints[t];
                var tat = $"{at}.rule.touchpoints[{t}]";
                Key(tp.JourneyKey, $"{tat}.journey_key");
                Key(tp.TouchpointKey, $"{tat}.touchpoint_key");
                Check(tp.MinCount is >= 1 and <= 10_000, $"{tat}.min_count", $"{tat}.min_count must be 1 to 10000.");
                Check(required.Add((tp.JourneyKey, tp.TouchpointKey)), tat, $"{tat} names a touchpoint the rule already asks for.");
            }
        }
    }

    public double Alpha(double alpha, string field)
    {
        Check(alpha == 0 || alpha is > 0 and < 0.5, field, $"{field} must be between 0 and 0.5 (0 means 0.05).");
        return alpha is > 0 and < 0.5 ? alpha : 0.05;
    }

    public static DateOnly? ParseDate(string value) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;
}
