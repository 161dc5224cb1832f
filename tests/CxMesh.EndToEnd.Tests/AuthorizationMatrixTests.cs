using CxMesh.Governance.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Grpc.Core;
using Grpc.Net.Client;

namespace CxMesh.EndToEnd.Tests;

/// <summary>
/// Every RPC of every service, read from the protos with the roles each declares ("Roles: ..."), called with every kind
/// of caller: no token, an expired one, one signed with another key or another algorithm, a token mixing partner with
/// an internal role, and each role. Refused callers must get UNAUTHENTICATED, roles not declared PERMISSION_DENIED,
/// declared roles neither. An RPC without declared roles fails the test, so a new RPC cannot skip the matrix.
/// </summary>
public sealed class AuthorizationMatrixTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private const string Member = "matrix-owner";

    /// <summary>Each kind of caller: its token (null: none) and, for a role, that role.</summary>
    private IEnumerable<(string Caller, string? Token, string? Role)> Callers()
    {
        yield return ("no token", null, null);
        yield return ("expired", CxMeshTestHost.ForgedToken([("sub", "x"), ("role", Roles.Admin)], lifetime: TimeSpan.FromHours(-2)), null);
        yield return ("another key", CxMeshTestHost.ForgedToken([("sub", "x"), ("role", Roles.Admin)], signingKey: "not-the-key-but-long-enough-for-hmac-256!"), null);
        yield return ("HS512", CxMeshTestHost.ForgedToken([("sub", "x"), ("role", Roles.Admin)], algorithm: "HS512"), null);
        yield return ("partner+analyst", CxMeshTestHost.ForgedToken([("sub", "x"), ("role", Roles.Partner), ("role", Roles.Analyst), (Roles.PartnerIdClaim, "matrix-partner")]), null);
        foreach (var role in Roles.All)
        {
            yield return (role, fixture.Host.Token(role, role == Roles.Partner ? "matrix-partner" : null, role == Roles.JourneyOwner ? Member : null), role);
        }
    }

    [Fact]
    public async Task Every_RPC_answers_every_kind_of_caller_as_its_declared_roles_say()
    {
        // The journey-owner of the matrix is a member, as a real one is.
        var governance = fixture.Host.Client<GovernanceService.GovernanceServiceClient>();
        await governance.CreateTeamAsync(new CreateTeamRequest { Team = new Team { Id = "matrix", Name = "Matrix" } });
        await governance.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = Member, Name = "Matrix Owner", TeamId = "matrix" } });

        var rpcs = DeclaredRpcs.All();
        Assert.True(rpcs.Count > 80, $"only {rpcs.Count} RPCs found in the protos");
        var bytes = Marshallers.Create(b => b, b => b);
        var failures = new List<string>();
        var calls = 0;
        foreach (var (caller, token, role) in Callers())
        {
            var channel = GrpcChannel.ForAddress(fixture.Host.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = fixture.Host.Server.CreateHandler() });
            var invoker = channel.CreateCallInvoker();
            foreach (var rpc in rpcs)
            {
                var type = (rpc.ClientStreams, rpc.ServerStreams) switch
                {
                    (false, false) => MethodType.Unary,
                    (true, false) => MethodType.ClientStreaming,
                    (false, true) => MethodType.ServerStreaming,
                    _ => MethodType.DuplexStreaming,
                };
                var method = new Method<byte[], byte[]>(type, rpc.Service, rpc.Method, bytes, bytes);
                var headers = new Metadata();
                if (token is not null) headers.Add("authorization", $"Bearer {token}");
                var options = new CallOptions(headers, DateTime.UtcNow.AddSeconds(20));
                var status = await StatusOfAsync(invoker, method, options);
                calls++;
                var expected = role is null ? "UNAUTHENTICATED" : rpc.Roles.Contains(role) ? "allowed" : "PERMISSION_DENIED";
                var ok = expected switch
                {
                    "UNAUTHENTICATED" => status == StatusCode.Unauthenticated,
                    "PERMISSION_DENIED" => status == StatusCode.PermissionDenied,
                    _ => status is not (StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.Unimplemented),
                };
                if (!ok) failures.Add($"{rpc} as {caller}: {status}, expected {expected}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {calls} calls answered against the declared roles:\n{string.Join('\n', failures)}");
    }

    /// <summary>The status of a call with an empty request (a stream that ends at once).</summary>
    private static async Task<StatusCode> StatusOfAsync(CallInvoker invoker, Method<byte[], byte[]> method, CallOptions options)
    {
        try
        {
            switch (method.Type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(method, null, options, []);
                    break;
                case MethodType.ServerStreaming:
                    using (var call = invoker.AsyncServerStreamingCall(method, null, options, []))
                    {
                        while (await call.ResponseStream.MoveNext(default)) { }
                    }
                    break;
                case MethodType.ClientStreaming:
                    using (var call = invoker.AsyncClientStreamingCall(method, null, options))
                    {
                        await call.RequestStream.CompleteAsync();
                        await call.ResponseAsync;
                    }
                    break;
                default:
                    using (var call = invoker.AsyncDuplexStreamingCall(method, null, options))
                    {
                        await call.RequestStream.CompleteAsync();
                        while (await call.ResponseStream.MoveNext(default)) { }
                    }
                    break;
            }
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
