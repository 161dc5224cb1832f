using CxMesh.Events.V1;
using CxMesh.Notifications.Api;
using CxMesh.Notifications.Data;
using CxMesh.Notifications.Events;
using CxMesh.Notifications.UseCases;
using CxMesh.Notifications.Workers;
using CxMesh.Platform.Hosting;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Platform.Security;
using CxMesh.Platform.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CxMesh.Notifications;

/// <summary>The notifications service's whole wiring.</summary>
public static class NotificationsModule
{
    public const string Name = "notifications";

    public static WebApplicationBuilder AddNotificationsService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(Name, typeof(NotificationsModule).Assembly);
        builder.Services.AddDatabaseGauge(Name, "cxmesh.notifications.pending", "{message}",
            "Notifications waiting to be sent (held for quiet hours included; digests excluded).", "select count(*) from deliveries where state = 'pending'");
        builder.Services.AddDatabaseGauge(Name, "cxmesh.notifications.retrying", "{message}",
            "Notifications that failed at least once and are still retried: a channel is failing.",
            "select count(*) from deliveries where state = 'pending' and attempts > 0");
        builder.AddEventHandler<ActionCreated, ActionCreatedHandler>(Name, Topics.ActionCreated);
        builder.AddEventHandler<ActionOverdue, ActionOverdueHandler>(Name, Topics.ActionOverdue);
        builder.AddEventHandler<PartnerResponseReceived, PartnerResponseReceivedHandler>(Name, Topics.PartnerResponseReceived);
        builder.AddEventHandler<PartnerReportPublished, PartnerReportPublishedHandler>(Name, Topics.PartnerReportPublished);
        builder.AddEventHandler<PraiseReceived, PraiseReceivedHandler>(Name, Topics.PraiseReceived);
        builder.Services.AddValidatedOptions<NotificationsOptions>(NotificationsOptions.Section);
        builder.Services.AddValidatedOptions<SmtpOptions>(SmtpOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ChannelStore>();
        builder.Services.AddSingleton<DeliveryStore>();
        builder.Services.AddSingleton<Notify>();
        builder.Services.AddHttpClient(NotificationSender.Client).ConfigurePrimaryHttpMessageHandler(sp =>
            OutboundWebhooks.Handler(() => sp.GetRequiredService<IOptions<NotificationsOptions>>().Value.WebhookAllowList));
        builder.Services.AddSingleton<NotificationSender>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NotificationSender>());
        return builder;
    }

    public static WebApplication MapNotificationsService(this WebApplication app)
    {
        app.MapGrpcService<NotificationsGrpcService>();
        // The unsubscribe link of every e-mail: no sign-in, the token is the key.
        app.MapGet(Unsubscribe.Path, (string? token) => Unsubscribe.Confirm(token)).AllowAnonymous();
        app.MapPost(Unsubscribe.Path, (HttpContext http, ChannelStore channels, CancellationToken ct) => Unsubscribe.ApplyAsync(http, channels, ct))
            .AllowAnonymous().DisableAntiforgery();
        return app;
    }
}
