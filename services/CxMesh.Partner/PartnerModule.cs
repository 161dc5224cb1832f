using CxMesh.Events.V1;
using CxMesh.Partner.Api;
using CxMesh.Partner.Data;
using CxMesh.Partner.Events;
using CxMesh.Partner.UseCases;
using CxMesh.Partner.Workers;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Hosting;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Platform.Security;
using CxMesh.Platform.Telemetry;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CxMesh.Partner;

/// <summary>The partner service's whole wiring.</summary>
public static class PartnerModule
{
    public const string Name = "partner";

    public static WebApplicationBuilder AddPartnerService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(Name, typeof(PartnerModule).Assembly);
        builder.Services.AddDatabaseGauge(Name, "cxmesh.partner.webhooks_pending", "{delivery}",
            "Webhook deliveries not yet delivered (new or being retried).", "select count(*) from webhook_deliveries where state = 'pending'");
        builder.Services.AddDatabaseGauge(Name, "cxmesh.partner.webhooks_retrying", "{delivery}",
            "Webhook deliveries that failed at least once and are still retried: a partner's endpoint is failing.",
            "select count(*) from webhook_deliveries where state = 'pending' and attempts > 0");
        builder.AddOutboxRelay(Name);
        builder.AddEventHandler<FeedbackReceived, FeedbackReceivedHandler>(Name, Topics.FeedbackReceived);
        builder.AddEventHandler<FeedbackErased, FeedbackErasedHandler>(Name, Topics.FeedbackErased);
        builder.AddEventHandler<PartnerResponseUpdated, PartnerResponseUpdatedHandler>(Name, Topics.PartnerResponseUpdated);
        builder.AddEventHandler<FeedbackRedacted, FeedbackRedactedHandler>(Name, Topics.FeedbackRedacted);
        builder.AddEventHandler<FeedbackRetagged, FeedbackRetaggedHandler>(Name, Topics.FeedbackRetagged);
        builder.AddEventHandler<SharingDecided, SharingDecidedHandler>(Name, Topics.SharingDecided);
        builder.Services.AddValidatedOptions<PartnerOptions>(PartnerOptions.Section);
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<PartnerOptions>, PartnerOptionsValidator>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<PartnerStore>();
        builder.Services.AddSingleton<ReportStore>();
        builder.Services.AddSingleton<ReportRenderer>();
        builder.Services.AddSingleton<AlignmentStore>();
        builder.Services.AddSingleton<PartnerUserStore>();
        builder.Services.AddSingleton<PublishReport>();
        builder.Services.AddSingleton<SubmitResponse>();
        builder.Services.AddSingleton<ManagePartners>();
        builder.Services.AddSingleton<CopyForPartners>();
        builder.Services.AddValidatedOptions<ScheduleOptions>(ScheduleOptions.Section);
        builder.Services.AddSingleton<ReportScheduler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReportScheduler>());
        builder.Services.AddValidatedOptions<WebhookOptions>(WebhookOptions.Section);
        builder.Services.AddSingleton<WebhookStore>();
        builder.Services.AddHttpClient(WebhookSender.Client).ConfigurePrimaryHttpMessageHandler(sp =>
            OutboundWebhooks.Handler(() => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<PartnerOptions>>().Value.WebhookAllowList));
        builder.Services.AddHostedService<WebhookSender>();
        return builder;
    }

    public static WebApplication MapPartnerService(this WebApplication app)
    {
        app.MapGrpcService<PartnerGrpcService>();
        // For partners who do not speak gRPC: the same download as DownloadMyReport, as a chunked HTTP response.
        app.MapGet("/v1/me/reports/{reportId}/download", DownloadAsync).RequireAuthorization(new AuthorizeAttribute { Roles = Roles.Partner })
            .WithMetadata(new CallerLimitAttribute(CallerLimits.Download));
        return app;
    }

    private static async Task<IResult> DownloadAsync(string reportId, string? format, HttpContext http, ReportStore reports, ReportRenderer renderer, CancellationToken ct)
    {
        var partnerId = http.User.FindFirst(Roles.PartnerIdClaim)?.Value;
        if (string.IsNullOrEmpty(partnerId)) return Results.Forbid();
        if (format is not (null or "csv" or "html")) return Results.Problem("format must be csv or html.", statusCode: StatusCodes.Status400BadRequest);
        if (!Guid.TryParse(reportId, out var id) || await reports.ReportAsync(partnerId, id, ct) is not { } stored)
        {
            return Results.Problem($"report '{reportId}' was not found.", statusCode: StatusCodes.Status404NotFound);
        }
        var report = V1.Report.Parser.ParseJson(stored.Content);
        var csv = format != "html";
        http.Response.ContentType = csv ? "text/csv; charset=utf-8" : "text/html; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"report-{report.StartDate}-{report.EndDate}.{(csv ? "csv" : "html")}\"";
        await foreach (var chunk in csv ? renderer.CsvAsync(report, ct) : renderer.HtmlAsync(report, ct))
        {
            await http.Response.Body.WriteAsync(chunk, ct);
        }
        return Results.Empty;
    }
}
