using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace CxMesh.Partner;

public sealed class PartnerOptions : IValidatableObject
{
    public const string Section = "Partner";

    /// <summary>Hosts whose webhooks may resolve to private addresses or use plain http (development sinks).</summary>
    public List<string> WebhookAllowList { get; set; } = [];

    /// <summary>AES-256 keys (base64 of 32 bytes) by id that seal webhook signing secrets at rest; old ids stay while used.</summary>
    public Dictionary<string, string> SecretKeys { get; set; } = [];

    /// <summary>The key id new signing secrets are sealed with.</summary>
    public string? ActiveSecretKey { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // The key ring is checked by PartnerOptionsValidator (the same rules as feedback's contact keys).
        foreach (var host in WebhookAllowList)
        {
            if (Uri.CheckHostName(host) == UriHostNameType.Unknown) yield return new ValidationResult($"Partner:WebhookAllowList holds '{host}', which is not a host name or address.");
        }
    }
}

public sealed class ScheduleOptions : IValidatableObject
{
    public const string Section = "Partner:Schedule";

    /// <summary>How often agreements are checked for a due report.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Interval <= TimeSpan.Zero) yield return new ValidationResult("Partner:Schedule:Interval must be positive.");
    }
}

public sealed class WebhookOptions : IValidatableObject
{
    public const string Section = "Partner:Webhooks";

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);
    /// <summary>How long a delivery is retried before it is marked failed.</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(72);
    /// <summary>How long the previous secret keeps signing after a rotation.</summary>
    public TimeSpan SecretOverlap { get; set; } = TimeSpan.FromHours(24);
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Timeout <= TimeSpan.Zero) yield return new ValidationResult("Partner:Webhooks:Timeout must be positive.");
        if (InitialBackoff <= TimeSpan.Zero) yield return new ValidationResult("Partner:Webhooks:InitialBackoff must be positive.");
        if (MaxBackoff < InitialBackoff) yield return new ValidationResult("Partner:Webhooks:MaxBackoff must not be below InitialBackoff.");
        if (GiveUpAfter <= TimeSpan.Zero) yield return new ValidationResult("Partner:Webhooks:GiveUpAfter must be positive.");
        if (SecretOverlap < TimeSpan.Zero) yield return new ValidationResult("Partner:Webhooks:SecretOverlap must not be negative.");
        if (PollInterval <= TimeSpan.Zero) yield return new ValidationResult("Partner:Webhooks:PollInterval must be positive.");
    }
}

internal sealed class PartnerOptionsValidator : IValidateOptions<PartnerOptions>
{
    public ValidateOptionsResult Validate(string? name, PartnerOptions options) =>
        Platform.Security.KeyRing.Problem(options.SecretKeys, options.ActiveSecretKey, "Partner:SecretKeys", "Partner:ActiveSecretKey") is { } problem
            ? ValidateOptionsResult.Fail($"{problem.Key} {problem.Message}")
            : ValidateOptionsResult.Success;
}
