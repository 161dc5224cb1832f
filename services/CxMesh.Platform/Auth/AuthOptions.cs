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

    /// <summary>
    /// The signing algorithms accepted; others are refused. Default: HS256 with a development key, RS256, PS256 and
    /// ES256 with an OIDC authority.
    /// </summary>
    public string[]? Algorithms { get; set; }

    /// <summary>How far a token's expiry (and not-before) may be off the service's clock; 0 to 5 minutes.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);

    public string[] AcceptedAlgorithms => Algorithms is { Length: > 0 } set ? set
        : string.IsNullOrWhiteSpace(Authority) ? ["HS256"] : ["RS256", "PS256", "ES256"];

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
        if (options.Algorithms?.FirstOrDefault(a => a is not ("HS256" or "RS256" or "PS256" or "ES256" or "RS384" or "RS512" or "ES384" or "ES512" or "PS384" or "PS512")) is { } unknown)
        {
            return ValidateOptionsResult.Fail($"Auth:Algorithms: '{unknown}' is not a JWS algorithm CxMesh accepts (HS256, RS256/384/512, PS256/384/512, ES256/384/512).");
        }
        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(5))
        {
            return ValidateOptionsResult.Fail($"Auth:ClockSkew must be 0 to 5 minutes, got {options.ClockSkew}.");
        }
        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            return ValidateOptionsResult.Fail("Auth:Audience must not be empty.");
        }
        return ValidateOptionsResult.Success;
    }
}
