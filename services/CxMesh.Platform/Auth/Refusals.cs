using CxMesh.Platform.Errors;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace CxMesh.Platform.Auth;

/// <summary>
/// Refusals of API calls say what was missing: a gRPC call gets UNAUTHENTICATED or PERMISSION_DENIED in its status (never
/// a bare HTTP 401/403 a client reports as "Bad gRPC response"), a JSON call a google.rpc.Status body; both with an
/// ErrorInfo naming the roles the method allows and the roles the token has. The console's pages keep their own handling
/// (sign-in redirects).
/// </summary>
internal sealed class Refusals : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        var endpoint = context.GetEndpoint();
        if (!result.Succeeded && endpoint?.Metadata.GetMetadata<Messaging.EventRoute>() is { } route)
        {
            // A call to an event route without the sidecar's token: counted (cxmesh.events.rejected), answered 401.
            Messaging.MessagingTelemetry.Rejected.Add(1, new KeyValuePair<string, object?>("topic", route.Topic));
        }
        if (result.Succeeded || endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>() is not { } method)
        {
            await _default.HandleAsync(next, context, policy, result);
            return;
        }
        if (result.Challenged)
        {
            // The bearer handler's challenge knows why the token was refused: it answers gRPC calls itself, and leaves the
            // reason (and its 401 with WWW-Authenticate) for a JSON call, whose body says it here.
            await _default.HandleAsync(next, context, policy, result);
            if (StatusResponses.IsGrpc(context) || context.Response.HasStarted) return;
            var reason = context.Items.TryGetValue(ChallengeReasonKey, out var r) && r is string s ? s : "no valid bearer token: send 'authorization: Bearer <token>'.";
            await WriteAsync(context, Code.Unauthenticated, $"Unauthenticated: {reason}", "UNAUTHENTICATED", []);
            return;
        }
        var allowed = result.AuthorizationFailure?.FailedRequirements.OfType<RolesAuthorizationRequirement>().SelectMany(x => x.AllowedRoles).Distinct().Order().ToList() ?? [];
        var held = context.User.FindAll("role").Select(c => c.Value).Distinct().Order().ToList();
        var name = method.Method.FullName;
        var message = allowed.Count > 0
            ? $"{name} needs the role {string.Join(" or ", allowed)}; the token has {(held.Count == 0 ? "no role" : string.Join(", ", held))}."
            : $"{name} is not allowed for this caller.";
        await WriteAsync(context, Code.PermissionDenied, message, "ROLE_NOT_ALLOWED", [
            ("method", name), ("allowed_roles", string.Join(",", allowed)), ("token_roles", string.Join(",", held))]);
    }

    /// <summary>Where the bearer handler leaves why it refused a token, for the JSON answer.</summary>
    public const string ChallengeReasonKey = "cxmesh.challenge-reason";

    private static Task WriteAsync(HttpContext context, Code code, string message, string reason, IReadOnlyList<(string Key, string Value)> metadata)
    {
        var info = new ErrorInfo { Reason = reason, Domain = ErrorMappingInterceptor.ErrorDomain };
        foreach (var (key, value) in metadata) info.Metadata[key] = value;
        var status = new Google.Rpc.Status { Code = (int)code, Message = message, Details = { Any.Pack(info) } };
        return StatusResponses.WriteAsync(context, ErrorMappingInterceptor.WithErrorInfo(status),
            code == Code.Unauthenticated ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden);
    }
}
