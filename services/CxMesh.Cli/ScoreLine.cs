using System.Globalization;
using CxMesh.Common.V1;
using CxMesh.Scoring.V1;

namespace CxMesh.Cli;

/// <summary>A score as one line for people: "no responses" is not "NPS 0", and a figure too thin to stand says so.</summary>
public static class ScoreLine
{
    public static string Of(Metric metric, Score s)
    {
        var period = $"{s.StartDate}..{s.EndDate} [{s.Source}]";
        var name = metric switch { Metric.Nps => "NPS", Metric.Enps => "eNPS", Metric.Csat => "CSAT", _ => "CES" };
        if (!s.HasValue) return $"{name}: no responses {period}";
        string Margin(double margin, string format) => s.HasMargin ? $" ± {margin.ToString(format, CultureInfo.InvariantCulture)}" : "";
        var line = metric switch
        {
            Metric.Nps or Metric.Enps => $"{name} {s.Value.ToString("+0.0;-0.0;0", CultureInfo.InvariantCulture)}{Margin(s.MarginOfError, "0.0")} " +
                $"(n={s.N}: {s.Promoters} promoters, {s.Passives} passives, {s.Detractors} detractors)",
            Metric.Csat => $"CSAT {s.Value.ToString("0.0", CultureInfo.InvariantCulture)}% satisfied " +
                $"(95% {s.TopBoxShareLow.ToString("0.0", CultureInfo.InvariantCulture)}–{s.TopBoxShareHigh.ToString("0.0", CultureInfo.InvariantCulture)}%; " +
                $"n={s.N}; mean {s.Mean.ToString("0.00", CultureInfo.InvariantCulture)}{Margin(s.MeanMarginOfError, "0.00")} on question '{s.QuestionId}')",
            _ => $"CES mean {s.Value.ToString("0.00", CultureInfo.InvariantCulture)}{Margin(s.MarginOfError, "0.00")} ({(s.HigherIsBetter ? "higher" : "lower")} is easier; " +
                $"{s.TopBoxShare.ToString("0.0", CultureInfo.InvariantCulture)}% agreeing; n={s.N}, question '{s.QuestionId}')",
        };
        return s.LowConfidence ? $"{line} {period} — {TooFew(s)}" : $"{line} {period}";
    }

    private static string TooFew(Score s) => s.LowConfidenceReason.StartsWith("too few", StringComparison.Ordinal)
        ? $"too few responses to read on its own ({s.LowConfidenceReason})"
        : s.LowConfidenceReason;
}
