namespace CxMesh.Scoring.Domain;

/// <summary>A window of whole UTC days, both ends inclusive.</summary>
public readonly record struct DayWindow(DateOnly Start, DateOnly End)
{
    public const int DefaultDays = 30;

    /// <summary>The most points a trend returns: a decade is 120 months or 522 weeks, so long windows go by month.</summary>
    public const int MaxPoints = 550;

    /// <summary>The windows kept hot in Redis for every scope with data.</summary>
    public static IReadOnlyList<int> HotDays { get; } = new List<int> { 7, 30, 90 }.AsReadOnly();

    public int Days => End.DayNumber - Start.DayNumber + 1;

    public static DayWindow LastDays(int days, DateOnly today) => new(today.AddDays(-(days - 1)), today);

    /// <summary>The window of the same length just before this one.</summary>
    public DayWindow Previous() => new(Start.AddDays(-Days), Start.AddDays(-1));

    /// <summary>Consecutive days, weeks starting on Monday, or calendar months (the first and last may be partial).</summary>
    public IEnumerable<DayWindow> Split(TrendStep step)
    {
        var start = Start;
        while (start <= End)
        {
            var end = step switch
            {
                TrendStep.Week => start.AddDays((7 - ((int)start.DayOfWeek + 6) % 7) - 1),
                TrendStep.Month => new DateOnly(start.Year, start.Month, 1).AddMonths(1).AddDays(-1),
                _ => start,
            };
            if (end > End) end = End;
            yield return new DayWindow(start, end);
            start = end.AddDays(1);
        }
    }

    /// <summary>How many points <see cref="Split"/> gives.</summary>
    public int PointsBy(TrendStep step) => step switch
    {
        TrendStep.Week => (End.DayNumber - (Start.DayNumber - ((int)Start.DayOfWeek + 6) % 7)) / 7 + 1,
        TrendStep.Month => (End.Year - Start.Year) * 12 + End.Month - Start.Month + 1,
        _ => Days,
    };
}

/// <summary>The step of a trend.</summary>
public enum TrendStep
{
    Day,
    Week,
    Month,
}
