namespace CxMesh.Scoring.Domain;

/// <summary>One day's sums of the text population: <see cref="Theme"/> "" is the items themselves.</summary>
public sealed record VoiceDay(DateOnly Day, string Theme, long Count, long Negative, double SentimentSum);

/// <summary>A theme in a period: mentions, negative mentions, mean sentiment and share of the items.</summary>
public sealed record ThemeVolumeFigures(string ThemeKey, long Mentions, long NegativeMentions, double MeanSentiment, double SharePercent);

/// <summary>The voice in a period: items with text, mean sentiment, share negative, and its themes (most mentioned first).</summary>
public sealed record VoiceFigures(DayWindow Period, long Items, double MeanSentiment, double NegativePercent, IReadOnlyList<ThemeVolumeFigures> Themes);

/// <summary>Sums the text population's days into periods (<see cref="DayWindow.Split"/>) and the whole window.</summary>
public static class VoiceTrend
{
    public static (IReadOnlyList<VoiceFigures> Points, VoiceFigures Total) Build(IReadOnlyList<VoiceDay> days, DayWindow window, TrendStep step,
        IReadOnlySet<string>? themes)
    {
        // One pass over the days (they come in day order): each period takes the run of days that falls in it.
        var periods = window.Split(step).ToList();
        var ordered = days.OrderBy(d => d.Day).ToList();
        var points = new List<VoiceFigures>(periods.Count);
        var at = 0;
        foreach (var period in periods)
        {
            while (at < ordered.Count && ordered[at].Day < period.Start) at++;
            var from = at;
            while (at < ordered.Count && ordered[at].Day <= period.End) at++;
            points.Add(Figures(period, ordered.GetRange(from, at - from), themes));
        }
        return (points, Figures(window, ordered, themes));
    }

    private static VoiceFigures Figures(DayWindow period, IEnumerable<VoiceDay> days, IReadOnlySet<string>? themes)
    {
        long items = 0, negative = 0;
        double sentiment = 0;
        var byTheme = new Dictionary<string, (long Count, long Negative, double Sum)>(StringComparer.Ordinal);
        foreach (var d in days)
        {
            if (d.Theme.Length == 0)
            {
                (items, negative, sentiment) = (items + d.Count, negative + d.Negative, sentiment + d.SentimentSum);
            }
            else if (themes is null || themes.Contains(d.Theme))
            {
                var t = byTheme.GetValueOrDefault(d.Theme);
                byTheme[d.Theme] = (t.Count + d.Count, t.Negative + d.Negative, t.Sum + d.SentimentSum);
            }
        }
        var volumes = byTheme
            .Select(t => new ThemeVolumeFigures(t.Key, t.Value.Count, t.Value.Negative, Mean(t.Value.Sum, t.Value.Count), Percent(t.Value.Count, items)))
            .OrderByDescending(t => t.Mentions).ThenBy(t => t.ThemeKey, StringComparer.Ordinal).ToList();
        return new VoiceFigures(period, items, Mean(sentiment, items), Percent(negative, items), volumes);
    }

    private static double Mean(double sum, long n) => n == 0 ? 0 : sum / n;

    private static double Percent(long part, long whole) => whole == 0 ? 0 : 100.0 * part / whole;
}
