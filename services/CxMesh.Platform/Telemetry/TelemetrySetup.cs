using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CxMesh.Platform.Telemetry;

internal static class TelemetrySetup
{
    public static void AddCxMeshTelemetry(this WebApplicationBuilder builder, IReadOnlyCollection<string> services)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r
                .AddService("cxmesh-server", serviceVersion: typeof(TelemetrySetup).Assembly.GetName().Version?.ToString())
                .AddAttributes([new KeyValuePair<string, object>("cxmesh.services", string.Join(",", services))]))
            .WithTracing(t => t
                .AddSource("CxMesh.*")
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !ctx.Request.Path.StartsWithSegments("/healthz"))
                .AddNpgsql())
            .WithMetrics(m => m
                .AddMeter("CxMesh.*")
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation())
            .WithLogging();

        // Only export when a collector is configured; otherwise the exporter retries a dead localhost:4317 forever.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }
    }
}
