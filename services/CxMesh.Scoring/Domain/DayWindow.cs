namespace CxMesh.Scoring.Domain;

/// <summary>A window of whole UTC days, both ends inclusive.</summary>
public readonly record struct DayWindow(DateOnly Start, DateOnly End)
{
    public const int MaxDays = 366;
    public const int DefaultDays = 30;

    /// <summary>The windows kept hot in Redis for every scope with data.</summary>
    public static IReadOnlyList<int> HotDays { get; } = new List<int> { 7, 30, 90 }.AsReadOnly();

    public int Days => End.DayNumber - Start.DayNumber + 1;

    public static DayWindow LastDays(int days, DateOnly today) => new(today.AddDays(-(days - 1)), today);

    /// <summary>The window of the same length just before this one.</summary>
    public DayWindow Previous() => new(Start.AddDays(-Days), Start.AddDays(-1));

    /// <summary>Consecutive days, or weeks starting on Monday (the first and last may be partial).</summary>
    public IEnumerable<DayWindow> Split(bool weekly)
    {
        var start = Start;
        while (start <= End)
        {
            var end = weekly ? start.AddDays((7 - ((int)start.DayOfWeek + 6) % 7) - 1) : start;
            if (end > End) end = End;
            yield return new DayWindow(start, end);
            start = end.AddDays(1);
        }
    }
}
