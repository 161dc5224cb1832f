using System.Reflection;
using Google.Rpc;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Any = Google.Protobuf.WellKnownTypes.Any;
using Status = Google.Rpc.Status;

namespace CxMesh.Platform.Errors;

/// <summary>
/// A request (or stream item) whose bytes are not a message of the method's type: invalid UTF-8 in a string, a
/// truncated message, an over-long varint, field number 0, groups nested past the parser's limit. It is an
/// <see cref="RpcException"/>, so grpc-dotnet answers INVALID_ARGUMENT with it; stream readers catch it to reject
/// the one item and go on reading (the frame is consumed before it is parsed).
/// </summary>
public sealed class MalformedRequestException : RpcException
{
    public const string Reason = "MALFORMED_REQUEST";

    public MalformedRequestException(string messageType, Exception cause) : this(Build(messageType, cause)) { }

    private MalformedRequestException((Grpc.Core.Status Status, Metadata Trailers, string Description) parts)
        : base(parts.Status, parts.Trailers, parts.Description) => Description = parts.Description;

    /// <summary>What a client reads: the type it sent and why it could not be parsed (the parser's words, bounded).</summary>
    public string Description { get; }

    private static (Grpc.Core.Status, Metadata, string) Build(string messageType, Exception cause)
    {
        var description = $"The request could not be parsed as a {messageType}: {ErrorMappingInterceptor.Cut(cause.Message, ErrorMappingInterceptor.MaxDescriptionLength)}";
        var exception = new Status
        {
            Code = (int)Code.InvalidArgument,
            Message = description,
            Details =
            {
                Any.Pack(new ErrorInfo { Reason = Reason, Domain = ErrorMappingInterceptor.ErrorDomain, Metadata = { ["message_type"] = messageType } }),
            },
        }.ToRpcException();
        return (exception.Status, exception.Trailers, description);
    }
}

/// <summary>
/// grpc-dotnet parses a request before any interceptor runs, and answers a parser exception with UNKNOWN
/// ("Exception was thrown by handler."). This replaces its service method provider with one that binds the same
/// methods, with the same endpoint metadata (roles, rate limits), but whose request deserializer turns a parser
/// exception into <see cref="MalformedRequestException"/>. <see cref="IServiceMethodProvider{TService}"/> is
/// grpc-dotnet's public extension point for how methods are bound (code-first gRPC uses it too).
/// </summary>
public static class MalformedRequests
{
    public static IServiceCollection AnswerMalformedRequestsWithInvalidArgument(this IServiceCollection services)
    {
        var defaults = services.Where(d => d.ServiceType == typeof(IServiceMethodProvider<>)
            && d.ImplementationType is { Name: "BinderServiceMethodProvider`1" }).ToList();
        if (defaults.Count == 0)
        {
            throw new InvalidOperationException("grpc-dotnet's BinderServiceMethodProvider is not registered: call AddGrpc first.");
        }
        foreach (var descriptor in defaults) services.Remove(descriptor);
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(ParsingServiceMethodProvider<>));
        return services;
    }

    /// <summary>The deserializer of <paramref name="method"/>, answering what cannot be parsed with INVALID_ARGUMENT.</summary>
    public static Method<TRequest, TResponse> Guarded<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class where TResponse : class
    {
        var inner = method.RequestMarshaller.ContextualDeserializer;
        var type = typeof(TRequest).GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) is Google.Protobuf.Reflection.MessageDescriptor d
            ? d.FullName : typeof(TRequest).Name;
        var marshaller = new Marshaller<TRequest>(method.RequestMarshaller.ContextualSerializer, context =>
        {
            try
            {
                return inner(context);
            }
            catch (Exception ex) when (ex is not RpcException)
            {
                throw new MalformedRequestException(type, ex);
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, marshaller, method.ResponseMarshaller);
    }
}

/// <summary>grpc-dotnet's BinderServiceMethodProvider, binding every method through <see cref="MalformedRequests.Guarded"/>.</summary>
internal sealed class ParsingServiceMethodProvider<TService> : IServiceMethodProvider<TService> where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        var bind = FindBindMethod(typeof(TService));
        if (bind is null) return;
        var binder = new Binder(context, bind.GetParameters()[1].ParameterType);
        try
        {
            bind.Invoke(null, [binder, null]);
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"Error binding gRPC service '{typeof(TService).Name}'.", ex);
        }
    }

    /// <summary>The generated <c>BindService(ServiceBinderBase, TBase)</c>, named by [BindServiceMethod] on a base type.</summary>
    private static MethodInfo? FindBindMethod(Type serviceType)
    {
        for (var type = serviceType; type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>() is { } attribute)
            {
                return attribute.BindType.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
                    .FirstOrDefault(m => m.Name == attribute.BindMethodName && m.GetParameters() is [var first, _] && first.ParameterType == typeof(ServiceBinderBase));
            }
        }
        return null;
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context, Type declaringType) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Model<UnaryServerMethod<TService, TRequest, TResponse>>(method.Name, [typeof(TRequest), typeof(ServerCallContext)]);
            context.AddUnaryMethod(MalformedRequests.Guarded(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Model<ClientStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, [typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext)]);
            context.AddClientStreamingMethod(MalformedRequests.Guarded(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Model<ServerStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, [typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)]);
            context.AddServerStreamingMethod(MalformedRequests.Guarded(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Model<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method.Name,
                [typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)]);
            context.AddDuplexStreamingMethod(MalformedRequests.Guarded(method), metadata, invoker);
        }

        private (TDelegate Invoker, List<object> Metadata) Model<TDelegate>(string name, Type[] parameters) where TDelegate : Delegate
        {
            var handler = Find(name, parameters) ?? throw new InvalidOperationException($"Could not find '{name}' on {typeof(TService)}.");
            var metadata = new List<object>();
            // As grpc-dotnet does: the type's attributes first (lower priority), then the method's, then POST only.
            metadata.AddRange(typeof(TService).GetCustomAttributes(inherit: true));
            metadata.AddRange(handler.GetCustomAttributes(inherit: true));
            metadata.Add(new HttpMethodMetadata(["POST"], acceptCorsPreflight: true));
            return ((TDelegate)Delegate.CreateDelegate(typeof(TDelegate), handler), metadata);
        }

        /// <summary>The public override of the base's virtual method (a method that hides it is skipped).</summary>
        private MethodInfo? Find(string name, Type[] parameters)
        {
            for (var type = typeof(TService); type is not null; type = type.BaseType)
            {
                var method = type.GetMethod(name, BindingFlags.Public | BindingFlags.Instance, null, parameters, null);
                if (method is null) return null;
                if (method.IsVirtual && method.GetBaseDefinition().DeclaringType == declaringType) return method;
            }
            return null;
        }
    }
}
