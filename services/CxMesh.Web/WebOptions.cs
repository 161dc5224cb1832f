using System.ComponentModel.DataAnnotations;

namespace CxMesh.Web;

/// <summary>
/// Configuration section <c>Web</c>: how people sign in to the console. Production: an OpenID Connect provider
/// (<see cref="OidcAuthority"/>, client id and secret) whose access tokens the services accept. Development: a page
/// to pick a demo member, whose token is minted with the development signing key (<see cref="DevelopmentSignIn"/>).
/// </summary>
public sealed class WebOptions : IValidatableObject
{
    public const string Section = "Web";

    /// <summary>The OIDC issuer (its discovery document is read from it); empty: no OIDC sign-in.</summary>
    public string? OidcAuthority { get; set; }
    public string? OidcClientId { get; set; }
    public string? OidcClientSecret { get; set; }
    /// <summary>The scopes asked for besides openid and profile, e.g. the API scope whose access token names the roles.</summary>
    public string[] OidcScopes { get; set; } = [];

    /// <summary>Lets a person sign in as a demo member of the programme; needs Auth:SigningKey. Never on in production.</summary>
    public bool DevelopmentSignIn { get; set; }

    /// <summary>How long a sign-in lasts before the person signs in again.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "7.00:00:00", ErrorMessage = "Web:SessionLifetime must be 5 minutes to 7 days.")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    public bool Oidc => !string.IsNullOrWhiteSpace(OidcAuthority);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Oidc && !Uri.TryCreate(OidcAuthority, UriKind.Absolute, out _))
        {
            yield return new ValidationResult($"Web:OidcAuthority must be an absolute URL, got '{OidcAuthority}'.", [nameof(OidcAuthority)]);
        }
        if (Oidc && string.IsNullOrWhiteSpace(OidcClientId))
        {
            yield return new ValidationResult("Web:OidcClientId is required with Web:OidcAuthority.", [nameof(OidcClientId)]);
        }
    }
}
