using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace CxMesh.Platform.Auth;

internal static class AuthSetup
{
    /// <summary>The alg of a bearer token's header, if it can be read.</summary>
    private static string? SignedWith(string? authorization)
    {
        try
        {
            return authorization is { } a && a.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                ? new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(a["Bearer ".Length..].Trim()).Alg
                : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    public static void AddCxMeshAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>, TimeProvider>((jwt, auth, clock) =>
            {
                var o = auth.Value;
                // A token is validated once for its lifetime (at most five minutes), not on every call.
                jwt.TokenHandlers.Clear();
                jwt.TokenHandlers.Add(new CachingTokenHandler(clock) { MapInboundClaims = false });
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidateAudience = true,
                    ValidAudience = o.Audience,
                    RoleClaimType = "role",
                    NameClaimType = "sub",
                    ClockSkew = o.ClockSkew,
                };
                if (!string.IsNullOrWhiteSpace(o.Authority))
                {
                    jwt.Authority = o.Authority;
                    jwt.Audience = o.Audience;
                }
                else
                {
                    jwt.TokenValidationParameters.ValidIssuer = o.Issuer;
                    jwt.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(o.SigningKeyBytes);
                }
                // Pinned: a token signed any other way (HS384 with the same key, "none", RS256 with a public key used as
                // an HMAC secret) is refused.
                jwt.TokenValidationParameters.ValidAlgorithms = o.AcceptedAlgorithms;
                jwt.Events = new JwtBearerEvents
                {
                    OnTokenValidated = context =>
                    {
                        var roles = context.Principal!.FindAll("role").Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
                        if (roles.Contains(Roles.Partner) && roles.Count > 1)
                        {
                            context.Fail(new CallerRejectedException(
                                $"the token combines the partner role with {string.Join(", ", roles.Where(r => r != Roles.Partner).Order())}: a partner's token may carry no internal role."));
                        }
                        return Task.CompletedTask;
                    },
                    OnChallenge = context =>
                    {
                        // gRPC clients read a reason from grpc-message, never from an HTTP 401: answer gRPC calls with a
                        // trailers-only UNAUTHENTICATED that says why. JSON calls get a body saying the same (Refusals).
                        var why = CallerRejectedException.Reason(context.AuthenticateFailure, SignedWith(context.Request.Headers.Authorization), o.AcceptedAlgorithms);
                        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
                        {
                            context.HttpContext.Items[Refusals.ChallengeReasonKey] = why;
                            return Task.CompletedTask;
                        }
                        context.HandleResponse();
                        context.Response.StatusCode = StatusCodes.Status200OK;
                        context.Response.ContentType = "application/grpc";
                        context.Response.Headers["grpc-status"] = "16";
                        context.Response.Headers["grpc-message"] = Uri.EscapeDataString(why);
                        return Task.CompletedTask;
                    },
                };
            });

        builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, Refusals>();
        // Anything not marked otherwise needs an authenticated caller; RPCs add their roles on top.
        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
    }
}

/// <summary>Why a caller's token was refused, in words safe to send back (never the token or a key).</summary>
public sealed class CallerRejectedException(string message) : Exception(message)
{
    public static string Reason(Exception? failure, string? algorithm, IReadOnlyCollection<string> algorithms) => failure switch
    {
        null => "no valid bearer token: send 'authorization: Bearer <token>'.",
        CallerRejectedException e => e.Message,
        _ when algorithm is not null && !algorithms.Contains(algorithm) =>
            $"the token is signed with {algorithm}, an algorithm not accepted here (accepted: {string.Join(", ", algorithms)}).",
        SecurityTokenExpiredException => "the token has expired.",
        SecurityTokenNotYetValidException => "the token is not valid yet.",
        SecurityTokenInvalidAlgorithmException => $"the token is signed with an algorithm that is not accepted (accepted: {string.Join(", ", algorithms)}).",
        SecurityTokenInvalidAudienceException => "the token is not meant for CxMesh (audience).",
        SecurityTokenInvalidIssuerException => "the token comes from an issuer CxMesh does not trust.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the token's signature is not valid.",
        _ => "the token is not valid.",
    };
}
