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

    /// <summary>
    /// Inbound connectors, by source name (the {source} of POST /v1/sources/{source}/events): each names its mapping
    /// (a shipped one: zendesk-ticket, trustpilot-review, app-store-review; or a mapping file's path) and how its
    /// deliveries prove who sent them (the HMAC secret of a mapping with a signature, or a token).
    /// </summary>
    public Dictionary<string, SourceConnector> Sources { get; set; } = [];

    /// <summary>How stored feedback is re-tagged after a taxonomy change (see <see cref="UseCases.RetagHistory"/>).</summary>
    public RetagSettings Retag { get; set; } = new();

    /// <summary>The services that hold customer data and answer an erasure with customer.erasure.applied.</summary>
    public string[] ErasureServices { get; set; } = ["journey", "scoring", "partner", "governance"];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DuplicateWindow < TimeSpan.Zero) yield return new ValidationResult("Feedback:DuplicateWindow must not be negative.");
        if (IdempotencyKeyRetention < TimeSpan.FromDays(1)) yield return new ValidationResult("Feedback:IdempotencyKeyRetention must be at least 1.00:00:00 (a day): clients retry for that long.");
        if (KeyExpiryInterval < TimeSpan.FromSeconds(1)) yield return new ValidationResult("Feedback:KeyExpiryInterval must be at least 00:00:01.");
        if (HistoryLimit < TimeSpan.FromDays(1) || HistoryLimit > TimeSpan.FromDays(36_525)) yield return new ValidationResult("Feedback:HistoryLimit must be 1.00:00:00 (a day) to 36525.00:00:00 (a hundred years).");
        if (!string.IsNullOrEmpty(PseudonymKey) && !IsKey(PseudonymKey)) yield return new ValidationResult("Feedback:PseudonymKey must be base64 of at least 32 random bytes.");
        foreach (var problem in Sources.SelectMany(s => s.Value.Problems(s.Key))) yield return new ValidationResult(problem);
        foreach (var problem in Retag.Problems()) yield return new ValidationResult(problem);
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

/// <summary><c>Feedback:Sources:&lt;source&gt;</c>: one inbound connector.</summary>
public sealed class SourceConnector
{
    public const int MinSecretLength = 16;

    /// <summary>A shipped mapping's name or the path of a mapping file (see <see cref="UseCases.SourceMapping"/>).</summary>
    public string Mapping { get; set; } = "";

    /// <summary>The HMAC-SHA256 secret deliveries are signed with (the mapping's signature says where the signature is).</summary>
    public string? Secret { get; set; }

    /// <summary>Or a token the sender presents as "Authorization: Bearer &lt;token&gt;" or in X-CxMesh-Source-Token.</summary>
    public string? Token { get; set; }

    public IEnumerable<string> Problems(string source)
    {
        var at = $"Feedback:Sources:{source}";
        if (!CxMesh.Platform.Validation.Identifiers.Key().IsMatch(source)) yield return $"{at}: a source name is 1-64 characters of a-z, 0-9, '.', '_' or '-'.";
        UseCases.SourceMapping? mapping = null;
        string? mappingProblem = null;
        try
        {
            mapping = UseCases.SourceMapping.Load(Mapping);
        }
        catch (UseCases.SourceMappingException ex)
        {
            mappingProblem = $"{at}:Mapping: {ex.Message}";
        }
        if (mappingProblem is not null) yield return mappingProblem;
        if (string.IsNullOrEmpty(Secret) && string.IsNullOrEmpty(Token)) yield return $"{at} needs a Secret (signed deliveries) or a Token.";
        if (Secret is { Length: > 0 and < MinSecretLength } || Token is { Length: > 0 and < MinSecretLength }) yield return $"{at}: Secret and Token must be at least {MinSecretLength} characters.";
        if (!string.IsNullOrEmpty(Secret) && mapping is { Signature: null }) yield return $"{at}: mapping '{mapping.Name}' declares no signature, so a Secret cannot be checked: give a Token instead.";
    }
}

/// <summary><c>Feedback:Retag</c>: the background re-tag of stored feedback after a taxonomy change.</summary>
public sealed class RetagSettings
{
    /// <summary>At most this many items a second (0: as fast as one core matches), so ingest keeps its speed.</summary>
    public int ItemsPerSecond { get; set; } = 5_000;

    /// <summary>Items matched, updated and published in one write (the cursor moves with them).</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// How long every replica may go on tagging new items with the taxonomy it had cached (the catalog reloads every
    /// <see cref="TaxonomyRefresh"/>), plus the longest an ingest holds an item between giving it an id and storing it.
    /// The re-tag leaves items younger than this for later and finishes only once the change is older than both.
    /// </summary>
    public TimeSpan Settle { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often each replica reloads the taxonomy (a change made through a replica applies there at once).</summary>
    public TimeSpan TaxonomyRefresh { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle replica looks for a re-tag to work on (one started through it wakes it at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    public IEnumerable<string> Problems()
    {
        if (ItemsPerSecond < 0) yield return "Feedback:Retag:ItemsPerSecond must be 0 (no limit) or more.";
        if (BatchSize is < 1 or > 10_000) yield return "Feedback:Retag:BatchSize must be 1 to 10000.";
        if (Settle < TimeSpan.Zero) yield return "Feedback:Retag:Settle must not be negative.";
        if (TaxonomyRefresh < TimeSpan.FromMilliseconds(100)) yield return "Feedback:Retag:TaxonomyRefresh must be at least 00:00:00.1.";
        if (PollInterval < TimeSpan.FromMilliseconds(100)) yield return "Feedback:Retag:PollInterval must be at least 00:00:00.1.";
    }
}

internal sealed class FeedbackOptionsValidator : IValidateOptions<FeedbackOptions>
{
    public ValidateOptionsResult Validate(string? name, FeedbackOptions options) =>
        KeyRing.Problem(options.ContactKeys, options.ActiveContactKey, "Feedback:ContactKeys", "Feedback:ActiveContactKey") is { } problem
            ? ValidateOptionsResult.Fail($"{problem.Key} {problem.Message}")
            : ValidateOptionsResult.Success;
}
