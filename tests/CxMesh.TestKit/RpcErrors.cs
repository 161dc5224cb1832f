using Google.Rpc;
using Grpc.Core;

namespace CxMesh.TestKit;

/// <summary>The machine-readable parts of a refusal: the fields it names (BadRequest) and its reason (ErrorInfo).</summary>
public static class RpcErrors
{
    public static IReadOnlyList<string> Fields(RpcException e) =>
        e.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations.Select(v => v.Field).ToList() ?? [];

    public static string? Reason(RpcException e) => e.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason;
}
