using System.Globalization;

namespace CxMesh.Governance.Domain;

/// <summary>The four Cs of a customer-first culture, scored 1-5 by each team for a period.</summary>
public static class CultureScorecard
{
    public const string Conscience = "conscience";
    public const string Communication = "communication";
    public const string Consistency = "consistency";
    public const string Credibility = "credibility";

    public sealed record Scores(int Conscience, int Communication, int Consistency, int Credibility)
    {
        public IEnumerable<(string C, int Score)> Each()
        {
            yield return (CultureScorecard.Conscience, Conscience);
            yield return (CultureScorecard.Communication, Communication);
            yield return (CultureScorecard.Consistency, Consistency);
            yield return (CultureScorecard.Credibility, Credibility);
        }
    }

    /// <summary>The lowest C; among equals, the one that fell most since <paramref name="previous"/>, then the first named.</summary>
    public static string MostRoomToGrow(Scores latest, Scores? previous)
    {
        var before = previous?.Each().ToDictionary(e => e.C, e => e.Score);
        return latest.Each()
            .OrderBy(e => e.Score)
            .ThenBy(e => before is null ? 0 : e.Score - before[e.C])
            .First().C;
    }

    /// <summary>"2026-Q3" (a quarter) or "2026-07" (a month) → its first day; false for anything else.</summary>
    public static bool TryParsePeriod(string period, out DateOnly start)
    {
        start = default;
        if (period.Length == 7 && period[4] == '-' && int.TryParse(period.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var year) && year is >= 2000 and <= 2100)
        {
            if (period[5] == 'Q' && period[6] is >= '1' and <= '4')
            {
                start = new DateOnly(year, (period[6] - '1') * 3 + 1, 1);
                return true;
            }
            if (int.TryParse(period.AsSpan(5, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var month) && month is >= 1 and <= 12)
            {
                start = new DateOnly(year, month, 1);
                return true;
            }
        }
        return false;
    }
}
