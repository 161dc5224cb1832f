using System.Net;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Platform.Redis;
using CxMesh.Platform.Telemetry;
using Dapr;
using FluentValidation;
using Google.Protobuf.Reflection;
using Google.Rpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CxMesh.Platform.Hosting;

/// <summary>Hosting defaults every service shares: ports, gRPC, errors, auth, health, telemetry, data, messaging.</summary>
internal static class PlatformSetup
{
    /// <summary>Largest request message (and JSON body) any RPC accepts: 1 MiB and room for the envelope.</summary>
    public const int MaxRequestBytes = (1024 + 64) * 1024;

    public static void AddCxMeshPlatform(this WebApplicationBuilder builder, CxMeshOptions options, HostedServices hosted)
    {
        builder.Services.AddSingleton(hosted);
        builder.Services.AddValidatedOptions<CxMeshOptions>(CxMeshOptions.Section);

        if (!IPAddress.TryParse(options.BindAddress, out var address))
        {
            throw new ConfigurationException("CxMesh:BindAddress", $"must be an IP address, got '{options.BindAddress}'.");
        }
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address, options.GrpcPort, o => o.Protocols = HttpProtocols.Http2);
            k.Listen(address, options.HttpPort, o => o.Protocols = HttpProtocols.Http1);
        });

        // Field names in validation errors are proto field paths (ratings[0].value), not C# names.
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member is null ? null : FieldNames.ToProtoName(member.Name);
        ValidatorOptions.Global.PropertyNameResolver = (_, member, _) => member is null ? null : FieldNames.ToProtoName(member.Name);

        // Before AddGrpc(options): AddGrpcSwagger calls AddGrpc() itself, and after ours every gRPC method was bound
        // twice (AmbiguousMatchException on every call).
        builder.Services.AddCxMeshOpenApi(hosted.Names);
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<ErrorMappingInterceptor>();
            o.EnableDetailedErrors = false;
            // No request needs more (an import chunk is at most 1 MiB); a larger one is RESOURCE_EXHAUSTED before it is
            // buffered, which keeps a caller's concurrent calls from holding 4 MiB each.
            o.MaxReceiveMessageSize = MaxRequestBytes;
        }).AddJsonTranscoding(o =>
        {
            // RPCs with google.api.http annotations are also JSON over HTTP; error details must be printable there.
            o.TypeRegistry = TypeRegistry.FromMessages(
                BadRequest.Descriptor, ErrorInfo.Descriptor, ResourceInfo.Descriptor, RetryInfo.Descriptor);
        });
        builder.Services.AnswerMalformedRequestsWithInvalidArgument();

        builder.Services.AddGrpcReflection();
        // Liveness is the process answering at all ("self"); readiness adds Postgres and Redis.
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [HealthTags.Live]);
        builder.Services.AddGrpcHealthChecks(o =>
        {
            o.Services.Map("", r => r.Tags.Contains(HealthTags.Ready) || r.Tags.Contains(HealthTags.Live));
            o.Services.Map("liveness", r => r.Tags.Contains(HealthTags.Live));
        });

        builder.AddCxMeshAuth();
        builder.Services.AddCxMeshCallerLimits(builder.Configuration);
        builder.AddCxMeshTelemetry(hosted.Names);
        builder.AddCxMeshRedis();
        builder.AddCxMeshMessaging(hosted.Delivery, options.AppApiToken);

        // Registered before any module so that its StartAsync (migrations) runs before relays start.
        builder.Services.AddHostedService<StartupMigrations>();
    }

    public static void UseCxMeshPlatform(this WebApplication app, HostedServices hosted)
    {
        app.UseCxMeshTelemetry();
        if (hosted.Delivery == EventDelivery.Dapr)
        {
            app.UseCloudEvents(new CloudEventsMiddlewareOptions { ForwardCloudEventPropertiesAsHeaders = true });
        }
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseCxMeshCallerLimits();

        app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = r => r.Tags.Contains(HealthTags.Live) }).AllowAnonymous();
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = r => r.Tags.Contains(HealthTags.Ready) }).AllowAnonymous();
        app.MapGrpcHealthChecksService().AllowAnonymous();
        app.MapGrpcReflectionService().AllowAnonymous();
        app.MapCxMeshOpenApi();
        if (hosted.Delivery == EventDelivery.Dapr)
        {
            app.MapDaprSubscriptions();
        }
    }
}

/// <summary>In the all-in-one mode, brings every hosted database up to date before anything else starts.</summary>
internal sealed class StartupMigrations(
    HostedServices hosted, IEnumerable<ServiceDatabaseRegistration> databases, IServiceProvider services,
    Microsoft.Extensions.Options.IOptions<CxMeshOptions> options, ILogger<StartupMigrations> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!(options.Value.MigrateOnStart ?? hosted.AllInOne)) return;
        foreach (var registration in databases)
        {
            await Migrator.MigrateAsync(services.GetRequiredKeyedService<ServiceDatabase>(registration.Service), logger, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
