using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CxMesh.Platform.Auth;

/// <summary>Mints tokens signed with the development HMAC key, for the run script and tests.</summary>
public static class DevelopmentTokens
{
    /// <summary>
    /// Who the printed development tokens are: members of the demo's CX programme (the journey-owner owns the demo's
    /// coffee-subscription journey; the approver is the second admin sharing decisions need), an app, the demo courier's
    /// admin (partner "demo-partner") and a user of one of the demo's farms (partner "finca-la-esperanza").
    /// </summary>
    public static readonly IReadOnlyList<(string Name, string Role, string Subject, string? PartnerId)> People =
    [
        ("admin", Roles.Admin, "mei.chen", null),
        ("approver", Roles.Admin, "tom.reyes", null),
        ("analyst", Roles.Analyst, "raj.patel", null),
        ("journey-owner", Roles.JourneyOwner, "ana.silva", null),
        ("app", Roles.App, "web-shop", null),
        ("partner", Roles.Partner, "kofi.mensah", "demo-partner"),
        ("farm", Roles.Partner, "lucia.mora", "finca-la-esperanza"),
    ];

    public static string Create(AuthOptions options, string role, string subject, string? partnerId = null, TimeSpan? lifetime = null)
    {
        if (string.IsNullOrWhiteSpace(options.SigningKey))
        {
            throw new InvalidOperationException("Development tokens need Auth:SigningKey.");
        }
        var claims = new List<Claim> { new("sub", subject), new("role", role) };
        if (partnerId is not null) claims.Add(new Claim(Roles.PartnerIdClaim, partnerId));
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = now,
            NotBefore = now.AddMinutes(-1),
            Expires = now + (lifetime ?? TimeSpan.FromHours(12)),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(options.SigningKeyBytes), SecurityAlgorithms.HmacSha256),
        });
    }
}
