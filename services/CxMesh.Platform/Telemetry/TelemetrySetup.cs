using System.Diagnostics;
using CxMesh.Platform.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CxMesh.Platform.Telemetry;

internal static class TelemetrySetup
{
    /// <summary>Every response carries the id of its trace, so a caller can quote it and an operator find the logs and spans.</summary>
    public const string TraceIdHeader = "x-trace-id";

    public static void AddCxMeshTelemetry(this WebApplicationBuilder builder, IReadOnlyCollection<string> services)
    {
        builder.Services.AddValidatedOptions<TelemetryOptions>(TelemetryOptions.Section);
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();

        // Log entries carry the trace and span of the call they were written in (the JSON format prints them).
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (options.LogFormat == "json")
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r
                .AddService("cxmesh-server", serviceVersion: typeof(TelemetrySetup).Assembly.GetName().Version?.ToString())
                .AddAttributes([new KeyValuePair<string, object>("cxmesh.services", string.Join(",", services))]))
            .WithTracing(t => t
                .AddSource("CxMesh.*")
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx =>
                    !ctx.Request.Path.StartsWithSegments("/healthz") && !ctx.Request.Path.StartsWithSegments(options.MetricsPath))
                // Outgoing calls: gRPC between services (with the method), HTTP (webhooks, Dapr), Postgres and Redis.
                .AddGrpcClientInstrumentation(o => o.SuppressDownstreamInstrumentation = true)
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddRedisInstrumentation(o => o.SetVerboseDatabaseStatements = false))
            .WithMetrics(m =>
            {
                m.AddMeter("CxMesh.*")
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter("Npgsql");
                if (options.Prometheus) m.AddPrometheusExporter();
            })
            .WithLogging();

        // Only export when a collector is configured; otherwise the exporter retries a dead localhost:4317 forever.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }
        builder.Services.AddHostedService<DatabaseGaugeSampler>();
    }

    public static void UseCxMeshTelemetry(this WebApplication app)
    {
        var options = app.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        app.Use((context, next) =>
        {
            if (Activity.Current is { } activity) context.Response.Headers[TraceIdHeader] = activity.TraceId.ToHexString();
            return next(context);
        });
        if (options.Prometheus)
        {
            app.MapPrometheusScrapingEndpoint(options.MetricsPath).AllowAnonymous();
        }
    }
}
