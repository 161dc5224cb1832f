using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Rpc;
using Microsoft.AspNetCore.Http;

namespace CxMesh.Platform.Errors;

/// <summary>
/// A refusal answered before any gRPC method runs (caller limits, authorization): a trailers-only gRPC response whose
/// status travels in the headers of an HTTP 200 for gRPC callers, a google.rpc.Status JSON body for JSON callers.
/// </summary>
internal static class StatusResponses
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithTypeRegistry(
        TypeRegistry.FromMessages(RetryInfo.Descriptor, ErrorInfo.Descriptor)));

    public static bool IsGrpc(HttpContext http) =>
        http.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    public static async Task WriteAsync(HttpContext http, Google.Rpc.Status status, int httpStatus)
    {
        if (IsGrpc(http))
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = "application/grpc";
            http.Response.Headers["grpc-status"] = status.Code.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers["grpc-message"] = Uri.EscapeDataString(status.Message);
            http.Response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(status.ToByteArray());
            return;
        }
        http.Response.StatusCode = httpStatus;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(Json.Format(status), http.RequestAborted);
    }
}
