namespace CxMesh.Scoring.Domain;

/// <summary>A window of whole UTC days, both ends inclusive.</summary>
public readonly record struct DayWindow(DateOnly Start, DateOnly End)
{
    public const int MaxDays = 366;
    public const int HotDays = 30;

    public int Days => End.DayNumber - Start.DayNumber + 1;

    public static DayWindow LastDays(int days, DateOnly today) => new(today.AddDays(-(days - 1)), today);
}
