using System.Security.Claims;
using CxMesh.Platform.Auth;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace CxMesh.Web.Calls;

/// <summary>What the console keeps of a signed-in person, as claims of its cookie.</summary>
public static class WebClaims
{
    /// <summary>The access token the services are called with.</summary>
    public const string AccessToken = "cxmesh:access_token";
    public const string Name = "name";
    public const string Role = "role";
    public const string Subject = "sub";

    /// <summary>
    /// The cookie's identity for an access token: its subject, roles and partner from the token itself (what the services
    /// will see), the display name given, and the token.
    /// </summary>
    public static ClaimsIdentity IdentityOf(string accessToken, string? displayName, string scheme)
    {
        var token = new JsonWebToken(accessToken);
        var claims = new List<Claim> { new(AccessToken, accessToken) };
        var subject = token.Claims.FirstOrDefault(c => c.Type == Subject)?.Value ?? "";
        claims.Add(new Claim(Subject, subject));
        claims.Add(new Claim(Name, string.IsNullOrWhiteSpace(displayName) ? subject : displayName));
        claims.AddRange(token.Claims.Where(c => c.Type is Role or Roles.PartnerIdClaim).Select(c => new Claim(c.Type, c.Value)));
        return new ClaimsIdentity(claims, scheme, Name, Role);
    }
}

/// <summary>The signed-in person of this request or circuit: their token for the services, and who they are.</summary>
public sealed class Person(AuthenticationStateProvider authentication)
{
    private ClaimsPrincipal? _user;

    /// <summary>An endpoint outside the components (a download) names the request's person here.</summary>
    public void Use(ClaimsPrincipal user) => _user = user;

    public async Task<ClaimsPrincipal> UserAsync() => _user ?? (await authentication.GetAuthenticationStateAsync()).User;

    public async Task<string?> TokenAsync() => (await UserAsync()).FindFirst(WebClaims.AccessToken)?.Value;

    /// <summary>
    /// Takes the token of a new sign-in (sealed by <c>/session/renew</c>) into this circuit, so a page whose session ended
    /// goes on with what the person typed. Only the same person: a different one gets false (the page must be reloaded).
    /// </summary>
    public async Task<bool> RenewAsync(IDataProtectionProvider protection, string sealedSession)
    {
        if (SessionRenewal.Open(protection, sealedSession) is not { } renewed) return false;
        var current = (await UserAsync()).FindFirst(WebClaims.Subject)?.Value;
        if (renewed.FindFirst(WebClaims.Subject)?.Value != current) return false;
        _user = renewed;
        return true;
    }
}

/// <summary>An access token sealed for a moment: readable only by this application's servers, for two minutes.</summary>
public static class SessionRenewal
{
    private const string Purpose = "CxMesh.Web.SessionRenewal";

    public static string Seal(IDataProtectionProvider protection, string accessToken, string? displayName) =>
        protection.CreateProtector(Purpose).ToTimeLimitedDataProtector()
            .Protect(System.Text.Json.JsonSerializer.Serialize(new[] { accessToken, displayName ?? "" }), TimeSpan.FromMinutes(2));

    public static ClaimsPrincipal? Open(IDataProtectionProvider protection, string sealedSession)
    {
        try
        {
            var parts = System.Text.Json.JsonSerializer.Deserialize<string[]>(protection.CreateProtector(Purpose).ToTimeLimitedDataProtector().Unprotect(sealedSession));
            return parts is [var token, var name] ? new ClaimsPrincipal(WebClaims.IdentityOf(token, name, WebModule.CookieScheme)) : null;
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or System.Text.Json.JsonException or FormatException or ArgumentException)
        {
            return null;
        }
    }
}
