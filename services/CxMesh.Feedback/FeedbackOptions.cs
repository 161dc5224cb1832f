using System.ComponentModel.DataAnnotations;
using CxMesh.Platform.Security;
using Microsoft.Extensions.Options;

namespace CxMesh.Feedback;

/// <summary>
/// Configuration section <c>Feedback</c>: the AES-256 keys contact details are encrypted with.
/// <c>Feedback:ContactKeys:&lt;id&gt;</c> = base64 of 32 random bytes; <c>Feedback:ActiveContactKey</c> = the id new
/// records use. Old keys stay listed until nothing encrypted with them is left.
/// </summary>
public sealed partial class FeedbackOptions : IValidatableObject
{
    public const string Section = "Feedback";

    public Dictionary<string, string> ContactKeys { get; set; } = [];
    public string? ActiveContactKey { get; set; }

    /// <summary>How far apart (by given_at) the same customer's same words still count as one saying.</summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// How long an idempotency key is remembered: a retry within this time replays the first item, a key older than this
    /// is forgotten (re-imports stay recognised by source system and external id, which are kept with the item).
    /// </summary>
    public TimeSpan IdempotencyKeyRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often forgotten keys are looked for.</summary>
    public TimeSpan KeyExpiryInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How old feedback may be when it arrives (by given_at): history older than this is refused. Ten years by default,
    /// so the survey exports a programme starts from can be imported; scoring keeps days by its own retention.
    /// </summary>
    public TimeSpan HistoryLimit { get; set; } = TimeSpan.FromDays(3653);

    /// <summary>
    /// Base64 of at least 32 random bytes: the key pseudonymous customer ids are derived with when feedback carries
    /// contact details but no customer id (see <see cref="Domain.CustomerPseudonyms"/>). Unset: such feedback is refused.
    /// Never change it once set: the same person would get a second id.
    /// </summary>
    public string? PseudonymKey { get; set; }

    /// <summary>The key's bytes, or null when unset.</summary>
    public byte[]? PseudonymKeyBytes() => string.IsNullOrEmpty(PseudonymKey) ? null : Convert.FromBase64String(PseudonymKey);

    /// <summary>The services that hold customer data and answer an erasure with customer.erasure.applied.</summary>
    public string[] ErasureServices { get; set; } = ["journey", "scoring", "partner", "governance"];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DuplicateWindow < TimeSpan.Zero) yield return new ValidationResult("Feedback:DuplicateWindow must not be negative.");
        if (IdempotencyKeyRetention < TimeSpan.FromDays(1)) yield return new ValidationResult("Feedback:IdempotencyKeyRetention must be at least 1.00:00:00 (a day): clients retry for that long.");
        if (KeyExpiryInterval < TimeSpan.FromSeconds(1)) yield return new ValidationResult("Feedback:KeyExpiryInterval must be at least 00:00:01.");
        if (HistoryLimit < TimeSpan.FromDays(1) || HistoryLimit > TimeSpan.FromDays(36_525)) yield return new ValidationResult("Feedback:HistoryLimit must be 1.00:00:00 (a day) to 36525.00:00:00 (a hundred years).");
        if (!string.IsNullOrEmpty(PseudonymKey) && !IsKey(PseudonymKey)) yield return new ValidationResult("Feedback:PseudonymKey must be base64 of at least 32 random bytes.");
        if (ErasureServices.Any(string.IsNullOrWhiteSpace)) yield return new ValidationResult("Feedback:ErasureServices must name services (journey, scoring, partner, governance).");
    }
}

public sealed partial class FeedbackOptions
{
    private static bool IsKey(string base64)
    {
        var bytes = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, bytes, out var n) && n >= 32;
    }
}

internal sealed class FeedbackOptionsValidator : IValidateOptions<FeedbackOptions>
{
    public ValidateOptionsResult Validate(string? name, FeedbackOptions options) =>
        KeyRing.Problem(options.ContactKeys, options.ActiveContactKey, "Feedback:ContactKeys", "Feedback:ActiveContactKey") is { } problem
            ? ValidateOptionsResult.Fail($"{problem.Key} {problem.Message}")
            : ValidateOptionsResult.Success;
}
