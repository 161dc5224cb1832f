using System.ComponentModel.DataAnnotations;
namespace CxMesh.Scoring;

public sealed class ScoringOptions : IValidatableObject
{
    public const string Section = "Scoring";

    /// <summary>
    /// How long a hot score lives in Redis. Bounds how stale a cached score can be after Redis missed
    /// updates during an outage; normal updates replace it at once.
    /// </summary>
    public TimeSpan HotScoreTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Feedback without a journey is attributed to the customer's latest touchpoint at most this long before it.</summary>
    public TimeSpan AttributionWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Windows may not start earlier than this many days ago; older daily statistics are deleted. Ten years and a
    /// little by default, so imported history (feedback's HistoryLimit) is kept: deleting is a policy, not an accident.
    /// </summary>
    public int RetentionDays { get; set; } = 3_700;

    /// <summary>Item alerts are raised only for feedback given at most this long ago: imported history raises none.</summary>
    public TimeSpan ItemAlertMaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Score-drop alerts: the last N days against the N before, two-sided at this level, each window with at least this many responses.</summary>
    public int DropAlertWindowDays { get; set; } = 7;

    public double DropAlertAlpha { get; set; } = 0.01;

    public int DropAlertMinN { get; set; } = 30;

    /// <summary>score.changed is published at most this often per scope, metric, question and window.</summary>
    public TimeSpan ScoreChangedThrottle { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A score on fewer responses than this is marked low_confidence ("too few responses"): readers show it as such.</summary>
    public int MinResponses { get; set; } = 30;

    /// <summary>
    /// A unit's eNPS on fewer employees' answers than this is withheld (CompareUnits, GetUnitScorecard): in a team of four
    /// the figure would tell each one's answer to anyone who knows the others'.
    /// </summary>
    public int EmployeeMinResponses { get; set; } = 5;

    /// <summary>A complaint at or below this sentiment raises an alert whatever its ratings.</summary>
    public double NegativeComplaintSentiment { get; set; } = -0.5;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (HotScoreTtl <= TimeSpan.Zero) yield return new ValidationResult("Scoring:HotScoreTtl must be positive.");
        if (MinResponses is < 1 or > 100_000) yield return new ValidationResult("Scoring:MinResponses must be 1 to 100000.");
        if (EmployeeMinResponses is < 3 or > 1000) yield return new ValidationResult("Scoring:EmployeeMinResponses must be 3 to 1000: fewer would tell who answered what.");
        if (AttributionWindow < TimeSpan.Zero || AttributionWindow > TimeSpan.FromDays(366)) yield return new ValidationResult("Scoring:AttributionWindow must be 0 to 366 days.");
        if (RetentionDays is < 90 or > 36_600) yield return new ValidationResult("Scoring:RetentionDays must be 90 to 36600 (the longest hot window is 90 days).");
        if (ItemAlertMaxAge < TimeSpan.FromHours(1) || ItemAlertMaxAge > TimeSpan.FromDays(366)) yield return new ValidationResult("Scoring:ItemAlertMaxAge must be 01:00:00 to 366.00:00:00.");
        if (DropAlertWindowDays is < 1 or > 90) yield return new ValidationResult("Scoring:DropAlertWindowDays must be 1 to 90.");
        if (DropAlertAlpha is <= 0 or >= 1 || double.IsNaN(DropAlertAlpha)) yield return new ValidationResult("Scoring:DropAlertAlpha must be between 0 and 1 (e.g. 0.01).");
        if (DropAlertMinN < 2) yield return new ValidationResult("Scoring:DropAlertMinN must be at least 2.");
        if (ScoreChangedThrottle < TimeSpan.Zero) yield return new ValidationResult("Scoring:ScoreChangedThrottle must not be negative.");
        if (NegativeComplaintSentiment is < -1 or > 1 || double.IsNaN(NegativeComplaintSentiment)) yield return new ValidationResult("Scoring:NegativeComplaintSentiment must be -1 to 1.");
    }
}
