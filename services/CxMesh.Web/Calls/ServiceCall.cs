using Google.Rpc;
using Grpc.Core;

namespace CxMesh.Web.Calls;

/// <summary>
/// A service's refusal, as the console shows it: a message for the page, and the field violations to put beside the
/// fields they name (<c>BadRequest</c> details of an INVALID_ARGUMENT), and the machine-readable reason of a refused
/// precondition (<c>ErrorInfo</c>, e.g. <c>FOUR_EYES</c>) for pages that explain it in the person's language.
/// </summary>
public sealed record CallError(StatusCode Status, string Message, IReadOnlyDictionary<string, string> Fields, string? Reason = null)
{
    /// <summary>The violation of a field (proto path, e.g. <c>resolution</c>), if the service named it.</summary>
    public string? For(string field) => Fields.GetValueOrDefault(field);
}

/// <summary>The outcome of one call: its value, or why there is none.</summary>
public readonly record struct Outcome<T>(T? Value, CallError? Error)
{
    public bool Ok => Error is null;
}

/// <summary>
/// The one way pages call a service: every failure becomes a <see cref="CallError"/> the page shows (never an
/// exception that ends the circuit), with the service's own words and field violations.
/// </summary>
public static class ServiceCall
{
    /// <summary>
    /// A refusal as the answer of an HTTP endpoint of the console (a download): the service's words, or the fields it
    /// named, with the HTTP status of its gRPC status.
    /// </summary>
    public static Microsoft.AspNetCore.Http.IResult ProblemOf(RpcException e)
    {
        var error = ErrorOf(e);
        return Microsoft.AspNetCore.Http.Results.Problem(string.Join(" ", error.Fields.Select(f => $"{f.Key}: {f.Value}").DefaultIfEmpty(error.Message)),
            statusCode: e.StatusCode switch
            {
                StatusCode.InvalidArgument => 400,
                StatusCode.Unauthenticated => 401,
                StatusCode.PermissionDenied => 403,
                StatusCode.NotFound => 404,
                StatusCode.ResourceExhausted => 429,
                _ => 503,
            });
    }

    public static async Task<Outcome<T>> RunAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return new Outcome<T>(await call(), null);
        }
        catch (RpcException e)
        {
            return new Outcome<T>(default, ErrorOf(e));
        }
    }

    public static CallError ErrorOf(RpcException e)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.GetRpcStatus()?.GetDetail<BadRequest>() is { } bad)
        {
            foreach (var v in bad.FieldViolations) fields.TryAdd(v.Field, v.Description);
        }
        return new CallError(e.StatusCode, e.Status.Detail, fields, e.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
    }
}
