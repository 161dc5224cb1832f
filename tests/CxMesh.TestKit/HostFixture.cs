using Google.Rpc;
using Grpc.Core;
using Xunit;

namespace CxMesh.TestKit;

/// <summary>One all-in-one host per test class (xunit IClassFixture), with its own databases and key prefix.</summary>
public sealed class HostFixture : IAsyncLifetime
{
    public CxMeshTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await CxMeshTestHost.StartAsync();

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public static class RpcAssert
{
    /// <summary>Asserts INVALID_ARGUMENT with a google.rpc.BadRequest naming <paramref name="field"/>.</summary>
    public static async Task<BadRequest> InvalidArgumentAsync(Func<Task> call, string field)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var badRequest = ex.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        Assert.Contains(badRequest.FieldViolations, v => v.Field == field);
        Assert.Contains(field, ex.Status.Detail);
        return badRequest;
    }

    public static async Task<RpcException> StatusAsync(Func<Task> call, StatusCode code)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, ex.StatusCode);
        return ex;
    }
}
