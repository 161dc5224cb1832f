using System.Text;
using Microsoft.Extensions.Options;

namespace CxMesh.Platform.Auth;

/// <summary>
/// Configuration section <c>Auth</c>. Development: a shared HMAC <see cref="SigningKey"/>.
/// Production: an OIDC <see cref="Authority"/> whose keys are discovered, and an <see cref="Audience"/>.
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";
    public const string DevelopmentIssuer = "cxmesh-dev";
    public const string DefaultAudience = "cxmesh";

    public string? SigningKey { get; set; }
    public string? Authority { get; set; }
    public string Audience { get; set; } = DefaultAudience;
    public string Issuer { get; set; } = DevelopmentIssuer;
    /// <summary>Production: a file holding the token this service presents when it calls another (re-read every minute).</summary>
    public string? ServiceTokenFile { get; set; }

    public byte[] SigningKeyBytes => Encoding.UTF8.GetBytes(SigningKey ?? "");
}

internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.SigningKey) && string.IsNullOrWhiteSpace(options.Authority))
        {
            return ValidateOptionsResult.Fail("Auth:SigningKey (development HMAC key) or Auth:Authority (OIDC issuer URL) must be set.");
        }
        if (!string.IsNullOrWhiteSpace(options.SigningKey) && options.SigningKeyBytes.Length < 32)
        {
            return ValidateOptionsResult.Fail("Auth:SigningKey must be at least 32 bytes long (HMAC-SHA256).");
        }
        if (!string.IsNullOrWhiteSpace(options.Authority) && !Uri.TryCreate(options.Authority, UriKind.Absolute, out _))
        {
            return ValidateOptionsResult.Fail($"Auth:Authority must be an absolute URL, got '{options.Authority}'.");
        }
        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            return ValidateOptionsResult.Fail("Auth:Audience must not be empty.");
        }
        return ValidateOptionsResult.Success;
    }
}
