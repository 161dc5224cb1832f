using CxMesh.Platform.Auth;
using CxMesh.Platform.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CxMesh.Platform.Clients;

/// <summary>
/// gRPC clients of other CxMesh services, as the conventions want them: an address per service
/// (<c>CxMesh:Endpoints:&lt;service&gt;</c>; this process's own gRPC port when it hosts the service), a deadline on every
/// call, retries on UNAVAILABLE only, deadline and cancellation propagated from the incoming call, round-robin over
/// every address a <c>dns:///</c> name resolves to (a headless Service in Kubernetes), and a service token.
/// </summary>
public static class ServiceClients
{
    public const string EndpointsSection = "CxMesh:Endpoints";

    /// <summary>The deadline a call gets when the incoming call carries none (or a later one).</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(10);

    public static IHttpClientBuilder AddServiceClient<TClient>(this WebApplicationBuilder builder, string service) where TClient : ClientBase =>
        builder.AddServiceClient<TClient>(service, sp => Task.FromResult<string?>(sp.GetRequiredService<ServiceTokens>().Current()));

    /// <summary>
    /// A client whose calls carry the token <paramref name="token"/> gives, read from the provider the client was resolved
    /// from (the web module passes the signed-in person's, so every rule of the called service holds for that person);
    /// no token, no authorization header (the call is then refused as unauthenticated). A <paramref name="name"/> keeps
    /// this configuration apart from the service-token client of the same type another module registers; such a client
    /// is created by name (<c>GrpcClientFactory.CreateClient&lt;TClient&gt;(name)</c>).
    /// </summary>
    public static IHttpClientBuilder AddServiceClient<TClient>(this WebApplicationBuilder builder, string service, Func<IServiceProvider, Task<string?>> token,
        string? name = null)
        where TClient : ClientBase
    {
        var hosted = (HostedServices?)builder.Services.LastOrDefault(d => d.ServiceType == typeof(HostedServices))?.ImplementationInstance
            ?? throw new InvalidOperationException("AddServiceClient runs after the platform is added.");
        var key = $"{EndpointsSection}:{service}";
        var configured = builder.Configuration[key];
        if (string.IsNullOrWhiteSpace(configured) && !hosted.Names.Contains(service))
        {
            throw new ConfigurationException(key, $"must be set: this process calls the {service} service but does not host it " +
                "(e.g. dns:///cxmesh-" + service + "-headless:5080).");
        }
        if (!string.IsNullOrWhiteSpace(configured) && !Uri.TryCreate(configured, UriKind.Absolute, out _))
        {
            throw new ConfigurationException(key, $"must be an absolute URI (http://host:port or dns:///host:port), got '{configured}'.");
        }
        builder.Services.TryAddSingleton<ServiceTokens>();
        var balanced = configured?.StartsWith("dns:", StringComparison.OrdinalIgnoreCase) == true;

        void Configure(IServiceProvider sp, Grpc.Net.ClientFactory.GrpcClientFactoryOptions o)
        {
            o.Address = new Uri(string.IsNullOrWhiteSpace(configured)
                ? $"http://127.0.0.1:{sp.GetRequiredService<IOptions<CxMeshOptions>>().Value.GrpcPort}"
                : configured);
            o.InterceptorRegistrations.Add(new Grpc.Net.ClientFactory.InterceptorRegistration(
                Grpc.Net.ClientFactory.InterceptorScope.Client, _ => new DefaultDeadlineInterceptor(DefaultDeadline)));
        }

        var before = builder.Services.Count;
        var client = (name is null ? builder.Services.AddGrpcClient<TClient>(Configure) : builder.Services.AddGrpcClient<TClient>(name, Configure))
            .ConfigureChannel(o =>
            {
                o.Credentials = ChannelCredentials.Insecure;
                // Service tokens travel in clear inside the cluster network (mTLS, when wanted, is the mesh's job).
                o.UnsafeUseInsecureChannelCallCredentials = true;
                o.ServiceConfig = new ServiceConfig
                {
                    MethodConfigs =
                    {
                        new MethodConfig
                        {
                            Names = { MethodName.Default },
                            RetryPolicy = new RetryPolicy
                            {
                                MaxAttempts = 3,
                                InitialBackoff = TimeSpan.FromMilliseconds(200),
                                MaxBackoff = TimeSpan.FromSeconds(2),
                                BackoffMultiplier = 2,
                                RetryableStatusCodes = { StatusCode.Unavailable },
                            },
                        },
                    },
                };
                if (balanced)
                {
                    // dns:/// names every pod behind a headless Service: round-robin over them, re-resolved as pods come
                    // and go. Load balancing needs the channel to own a SocketsHttpHandler, so it bypasses the factory's.
                    o.ServiceConfig.LoadBalancingConfigs.Add(new RoundRobinConfig());
                    o.HttpHandler = NewSocketsHandler();
                }
            })
            .ConfigurePrimaryHttpMessageHandler(sp =>
                sp.GetService<IServiceCallHandlerFactory>()?.Create(service) ?? NewSocketsHandler())
            .EnableCallContextPropagation(o => o.SuppressContextNotFoundErrors = true)
            .AddCallCredentials(async (_, metadata, sp) =>
            {
                if (await token(sp) is { Length: > 0 } bearer) metadata.Add("Authorization", "Bearer " + bearer);
            });

        if (name is not null)
        {
            // A named client is created by name only: the plain TClient registration stays the one with the service token.
            foreach (var added in builder.Services.Skip(before).Where(d => d.ServiceType == typeof(TClient)).ToList()) builder.Services.Remove(added);
        }
        return client;
    }

    private static SocketsHttpHandler NewSocketsHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
        KeepAlivePingDelay = TimeSpan.FromSeconds(60),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>
    /// Runs a call to another service and turns its failures into this service's errors: unreachable, overloaded or
    /// timed out is <see cref="DependencyUnavailableException"/> (UNAVAILABLE, naming the service); a refusal of what was
    /// asked (INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE) is FAILED_PRECONDITION <c>&lt;SERVICE&gt;_REFUSED</c>
    /// with the other service's reason; NOT_FOUND is what <paramref name="notFound"/> makes of it; anything else is a
    /// bug here or there, not the caller's (INTERNAL).
    /// </summary>
    public static async Task<T> CallAsync<T>(string service, Func<Task<T>> call, Func<RpcException, Exception>? notFound = null)
    {
        try
        {
            return await call();
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted)
        {
            throw new DependencyUnavailableException(service, e);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.NotFound && notFound is not null)
        {
            throw notFound(e);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange)
        {
            // What this service asked for, from data it holds (a sprint's scope and dates), is not something the other
            // service can answer: the caller learns why, in the other service's words.
            // The field is the other service's (this request may have no field of that name): named as "<service>:<field>".
            var status = e.GetRpcStatus();
            var theirField = status?.GetDetail<Google.Rpc.BadRequest>()?.FieldViolations.FirstOrDefault()?.Field
                ?? status?.GetDetail<Google.Rpc.ErrorInfo>()?.Metadata.GetValueOrDefault("field");
            throw new Errors.PreconditionFailedException($"{service.ToUpperInvariant()}_REFUSED", $"The {service} service refused the request: {e.Status.Detail}",
                string.IsNullOrEmpty(theirField) ? "" : $"{service}:{theirField}",
                new Dictionary<string, string> { ["service"] = service, ["code"] = e.StatusCode.ToString() });
        }
        catch (RpcException e) when (e.StatusCode is not StatusCode.Cancelled)
        {
            throw new InvalidOperationException($"The {service} service answered {e.StatusCode}: {e.Status.Detail}", e);
        }
    }
}

/// <summary>Another CxMesh service could not be reached or did not answer in time. Mapped to UNAVAILABLE.</summary>
public sealed class DependencyUnavailableException(string service, Exception inner)
    : Exception($"The {service} service is unavailable; retry with backoff.", inner)
{
    public string Service { get; } = service;
}

/// <summary>Lets the test kit route calls to services hosted in the same in-memory test server.</summary>
public interface IServiceCallHandlerFactory
{
    /// <summary>A handler for calls to <paramref name="service"/>, or null for a real socket.</summary>
    HttpMessageHandler? Create(string service);
}

/// <summary>Gives every call a deadline when it has none: a hung dependency must not hold a request forever.</summary>
internal sealed class DefaultDeadlineInterceptor(TimeSpan deadline) : Interceptor
{
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        var latest = DateTime.UtcNow + deadline;
        if (context.Options.Deadline is null || context.Options.Deadline > latest)
        {
            context = new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithDeadline(latest));
        }
        return continuation(request, context);
    }
}

/// <summary>
/// The bearer token this service presents to the others. Development (<c>Auth:SigningKey</c>): minted here for the
/// role <c>analyst</c> (reads, redacted data only) and renewed before it expires. Production: read from
/// <c>Auth:ServiceTokenFile</c> (a projected service-account token or a secret kept fresh by the platform), re-read
/// every minute so rotation needs no restart.
/// </summary>
public sealed class ServiceTokens(IOptions<AuthOptions> options, HostedServices hosted, TimeProvider clock)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);
    private readonly Lock _gate = new();
    private string? _token;
    private DateTimeOffset _renewAt;

    public string Current()
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (_token is not null && now < _renewAt) return _token;
            var o = options.Value;
            if (!string.IsNullOrWhiteSpace(o.SigningKey))
            {
                _token = DevelopmentTokens.Create(o, Roles.Analyst, "service:" + string.Join('+', hosted.Names), lifetime: Lifetime);
                _renewAt = now + Lifetime / 2;
            }
            else if (!string.IsNullOrWhiteSpace(o.ServiceTokenFile))
            {
                _token = File.ReadAllText(o.ServiceTokenFile).Trim();
                _renewAt = now + TimeSpan.FromMinutes(1);
            }
            else
            {
                throw new InvalidOperationException("Service calls need Auth:SigningKey or Auth:ServiceTokenFile.");
            }
            return _token;
        }
    }
}
