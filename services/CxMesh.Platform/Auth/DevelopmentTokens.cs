using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CxMesh.Platform.Auth;

/// <summary>Mints tokens signed with the development HMAC key, for the run script and tests.</summary>
public static class DevelopmentTokens
{
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
