using System.ComponentModel.DataAnnotations;

namespace CxMesh.Governance;

/// <summary>Configuration section <c>Governance</c>.</summary>
public sealed class GovernanceOptions : IValidatableObject
{
    public const string Section = "Governance";

    /// <summary>The team that gets actions nobody owns (journeys or touchpoints without an owner); created when missing.</summary>
    [Required(ErrorMessage = "Governance:CxTeam is required.")]
    public string CxTeam { get; set; } = "cx";

    /// <summary>The team that gets actions raised from employees' feedback (an eNPS detractor, an eNPS drop); created when missing.</summary>
    [Required(ErrorMessage = "Governance:PeopleTeam is required.")]
    public string PeopleTeam { get; set; } = "people";

    /// <summary>Time to act on an alert, by the channel of the feedback behind it (channel names as in feedback).</summary>
    public Dictionary<string, TimeSpan> ChannelSla { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["survey"] = TimeSpan.FromHours(24),
        ["complaint"] = TimeSpan.FromHours(4),
        ["contact-centre"] = TimeSpan.FromHours(8),
        ["social"] = TimeSpan.FromHours(4),
        ["review"] = TimeSpan.FromHours(24),
    };

    /// <summary>Channels not listed, manual actions and partner commitments without a date.</summary>
    public TimeSpan DefaultSla { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A scope's significant score drop: a root-cause look, not a call-back.</summary>
    public TimeSpan ScoreDropSla { get; set; } = TimeSpan.FromHours(72);

    /// <summary>How often the overdue sweeper looks for actions past their due time.</summary>
    public TimeSpan OverdueSweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan SlaFor(string? channel) =>
        channel is not null && ChannelSla.TryGetValue(channel, out var sla) ? sla : DefaultSla;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (channel, sla) in ChannelSla)
        {
            if (sla <= TimeSpan.Zero) yield return new ValidationResult($"Governance:ChannelSla:{channel} must be a positive duration (e.g. 04:00:00).");
        }
        if (DefaultSla <= TimeSpan.Zero) yield return new ValidationResult("Governance:DefaultSla must be a positive duration.");
        if (ScoreDropSla <= TimeSpan.Zero) yield return new ValidationResult("Governance:ScoreDropSla must be a positive duration.");
        if (OverdueSweepInterval < TimeSpan.FromSeconds(1)) yield return new ValidationResult("Governance:OverdueSweepInterval must be at least one second.");
    }
}
