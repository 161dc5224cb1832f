using System.ComponentModel.DataAnnotations;
namespace CxMesh.Journey;

/// <summary>Configuration section <c>Journey</c>.</summary>
public sealed class JourneyOptions : IValidatableObject
{
    public const string Section = "Journey";

    /// <summary>Off only in tests that need touchpoints to stay unprojected.</summary>
    public bool ProjectorEnabled { get; set; } = true;
    public int ProjectorBatchSize { get; set; } = 200;
    public TimeSpan ProjectorPollInterval { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>How often open instances past their inactivity timeout are queued to be abandoned.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ProjectorBatchSize is < 1 or > 10_000) yield return new ValidationResult("Journey:ProjectorBatchSize must be 1 to 10000.");
        if (ProjectorPollInterval <= TimeSpan.Zero) yield return new ValidationResult("Journey:ProjectorPollInterval must be positive.");
        if (SweepInterval <= TimeSpan.Zero) yield return new ValidationResult("Journey:SweepInterval must be positive.");
    }
}
