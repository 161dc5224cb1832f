using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CxMesh.Platform.Auth;

/// <summary>
/// Validates a bearer token once for its lifetime: a client sends the same token on every call, and checking its
/// signature, audience, issuer and times again each time is most of what authentication costs. Entries are keyed by a
/// SHA-256 of the token (never the token itself), hold a copy of the validated identity (each call gets its own clone),
/// and end at the token's expiry or after <see cref="MaxAge"/>, whichever comes first; a token that failed is never
/// cached, so each failure is checked (and explained) afresh, and a token without an expiry is checked every time. The
/// validation parameters are the process's own (the handler clones them per request, so they are not compared): a signing
/// key withdrawn from the issuer's key set stops being honoured for a token already seen within <see cref="MaxAge"/>.
/// </summary>
public sealed class CachingTokenHandler(TimeProvider clock) : JsonWebTokenHandler
{
    /// <summary>The longest a validation is trusted without checking again (a revoked signing key stops being honoured by then).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    /// <summary>How many distinct tokens are remembered; beyond it the least recently used go.</summary>
    public const int MaxEntries = 10_000;

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = MaxEntries });

    private sealed record Entry(ClaimsIdentity Identity, SecurityToken Token, string? TokenType, DateTimeOffset Until);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        if (_cache.TryGetValue(key, out Entry? hit) && hit is not null && hit.Until > clock.GetUtcNow())
        {
            return new TokenValidationResult
            {
                IsValid = true,
                ClaimsIdentity = hit.Identity.Clone(),
                SecurityToken = hit.Token,
                TokenType = hit.TokenType,
            };
        }
        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is { ValidTo: var expires } validated && expires != DateTime.MinValue && result.ClaimsIdentity is { } identity)
        {
            var now = clock.GetUtcNow();
            var expiry = new DateTimeOffset(DateTime.SpecifyKind(expires, DateTimeKind.Utc));
            var until = expiry < now + MaxAge ? expiry : now + MaxAge;
            if (until > now)
            {
                // The cache's own expiry only evicts; Until (on this handler's clock) decides.
                _cache.Set(key, new Entry(identity.Clone(), validated, result.TokenType, until), new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = MaxAge, Size = 1 });
            }
        }
        return result;
    }
}
