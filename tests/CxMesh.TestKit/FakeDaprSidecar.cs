using System.Collections.Concurrent;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CxMesh.TestKit;

/// <summary>
/// The part of Dapr's gRPC API the relay uses (<c>dapr.proto.runtime.v1.Dapr/PublishEvent</c>), bound by hand
/// because Dapr.Protos ships only the client side. Records every publish; can be told to fail.
/// </summary>
[BindServiceMethod(typeof(FakeDaprSidecar), nameof(BindService))]
public class FakeDaprSidecar
{
    public ConcurrentQueue<PublishEventRequest> Published { get; } = new();
    public volatile bool Failing;

    public virtual Task<Empty> PublishEvent(PublishEventRequest request, ServerCallContext context)
    {
        if (Failing) throw new RpcException(new Status(StatusCode.Unavailable, "pub/sub component unavailable"));
        Published.Enqueue(request);
        return Task.FromResult(new Empty());
    }

    public static void BindService(ServiceBinderBase binder, FakeDaprSidecar? service)
    {
        var method = new Method<PublishEventRequest, Empty>(
            MethodType.Unary, "dapr.proto.runtime.v1.Dapr", "PublishEvent",
            Marshallers.Create(m => m.ToByteArray(), PublishEventRequest.Parser.ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), Empty.Parser.ParseFrom));
        binder.AddMethod(method, service is null ? null : new UnaryServerMethod<PublishEventRequest, Empty>(service.PublishEvent));
    }

    /// <summary>Hosts a sidecar on a TestServer; use the returned server's handler for the DaprClient channel.</summary>
    public static async Task<(FakeDaprSidecar Sidecar, WebApplication App, TestServer Server)> StartAsync(FakeDaprSidecar? given = null)
    {
        var sidecar = given ?? new FakeDaprSidecar();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(sidecar);
        var app = builder.Build();
        app.MapGrpcService<FakeDaprSidecar>();
        await app.StartAsync();
        return (sidecar, app, app.GetTestServer());
    }

    /// <summary>Points a host's Dapr client at a fake sidecar (or broker) served by <paramref name="handler"/>.</summary>
    public static void Use(IServiceCollection services, HttpMessageHandler handler)
    {
        services.RemoveAll<Dapr.Client.DaprClient>();
        services.AddSingleton(new Dapr.Client.DaprClientBuilder()
            .UseGrpcEndpoint("http://localhost")
            .UseGrpcChannelOptions(new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler })
            .Build());
    }
}
