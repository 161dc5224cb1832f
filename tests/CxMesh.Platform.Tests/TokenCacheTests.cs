using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Microsoft.IdentityModel.Tokens;

namespace CxMesh.Platform.Tests;

/// <summary>A token is validated once for its lifetime (at most five minutes), never beyond its expiry, and failures are never kept.</summary>
public sealed class TokenCacheTests
{
    private const string Key = "cxmesh-token-cache-test-key-0123456789abcdef";

    private static TokenValidationParameters Parameters(string key = Key) => new()
    {
        ValidIssuer = AuthOptions.DevelopmentIssuer,
        ValidAudience = AuthOptions.DefaultAudience,
        IssuerSigningKey = new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(key)),
        ValidAlgorithms = ["HS256"],
        ClockSkew = TimeSpan.Zero,
    };

    private static string Token(TimeSpan lifetime) => CxMeshTestHost.ForgedToken([("sub", "mei.chen"), ("role", Roles.Analyst)], signingKey: Key, lifetime: lifetime);

    [Fact]
    public async Task A_validated_token_is_taken_from_the_cache_until_it_expires_or_five_minutes_pass()
    {
        var clock = new ShiftableClock();
        var handler = new CachingTokenHandler(clock) { MapInboundClaims = false };
        var token = Token(TimeSpan.FromHours(1));

        var first = await handler.ValidateTokenAsync(token, Parameters());
        Assert.True(first.IsValid);
        // Parameters that would refuse it (another key): the cached validation answers, with an identity of its own.
        var cached = await handler.ValidateTokenAsync(token, Parameters("another-key-of-at-least-thirty-two-bytes!!"));
        Assert.True(cached.IsValid);
        Assert.NotSame(first.ClaimsIdentity, cached.ClaimsIdentity);
        Assert.Equal("mei.chen", cached.ClaimsIdentity.FindFirst("sub")!.Value);

        // Five minutes on, the token is checked again.
        clock.Advance(CachingTokenHandler.MaxAge + TimeSpan.FromSeconds(1));
        Assert.False((await handler.ValidateTokenAsync(token, Parameters("another-key-of-at-least-thirty-two-bytes!!"))).IsValid);
        Assert.True((await handler.ValidateTokenAsync(token, Parameters())).IsValid);
    }

    [Fact]
    public async Task A_token_is_never_taken_from_the_cache_past_its_own_expiry()
    {
        var clock = new ShiftableClock();
        var handler = new CachingTokenHandler(clock);
        var token = Token(TimeSpan.FromMinutes(2));
        Assert.True((await handler.ValidateTokenAsync(token, Parameters())).IsValid);
        clock.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        Assert.False((await handler.ValidateTokenAsync(token, Parameters("another-key-of-at-least-thirty-two-bytes!!"))).IsValid);
    }

    [Fact]
    public async Task A_refused_token_is_not_remembered_and_a_changed_token_is_checked_on_its_own()
    {
        var handler = new CachingTokenHandler(TimeProvider.System);
        var token = Token(TimeSpan.FromHours(1));
        Assert.False((await handler.ValidateTokenAsync(token, Parameters("another-key-of-at-least-thirty-two-bytes!!"))).IsValid);
        Assert.True((await handler.ValidateTokenAsync(token, Parameters())).IsValid);
        // One character of the signature changed: not the cached token.
        var tampered = token[..^2] + (token[^2] == 'A' ? 'B' : 'A') + token[^1];
        Assert.False((await handler.ValidateTokenAsync(tampered, Parameters())).IsValid);
        Assert.False((await handler.ValidateTokenAsync(Token(TimeSpan.FromHours(-2)), Parameters())).IsValid);
    }
}
