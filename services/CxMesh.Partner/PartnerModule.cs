using System.Net;
using System.Net.Sockets;
using CxMesh.Events.V1;
using CxMesh.Partner.Api;
using CxMesh.Partner.Data;
using CxMesh.Partner.Domain;
using CxMesh.Partner.Events;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Microsoft.AspNetCore.Builder;
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
        builder.AddOutboxRelay(Name);
        builder.AddEventHandler<FeedbackReceived, FeedbackReceivedHandler>(Name, Topics.FeedbackReceived);
        builder.AddEventHandler<FeedbackErased, FeedbackErasedHandler>(Name, Topics.FeedbackErased);
        builder.AddEventHandler<SharingDecided, SharingDecidedHandler>(Name, Topics.SharingDecided);
        builder.Services.AddOptions<PartnerOptions>().BindConfiguration(PartnerOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<PartnerStore>();
        builder.Services.AddSingleton<ReportStore>();
        builder.Services.AddSingleton<ReportRenderer>();
        builder.Services.AddSingleton<AlignmentStore>();
        builder.Services.AddSingleton<ReportPublisher>();
        builder.Services.AddOptions<ScheduleOptions>().BindConfiguration(ScheduleOptions.Section);
        builder.Services.AddSingleton<ReportScheduler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReportScheduler>());
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section);
        builder.Services.AddSingleton<WebhookStore>();
        builder.Services.AddHttpClient(WebhookSender.Client).ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
        {
            // Webhooks never follow redirects: a redirect could lead into our own network.
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            // The address is checked again when connecting, so a name that resolved to a public address at registration
            // cannot be re-pointed at a private one later (DNS rebinding).
            ConnectCallback = async (context, ct) =>
            {
                var host = context.DnsEndPoint.Host;
                var allowed = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<PartnerOptions>>().Value.WebhookAllowList
                    .Contains(host, StringComparer.OrdinalIgnoreCase);
                var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
                if (addresses.Length == 0 || !allowed && addresses.Any(WebhookAddress.IsForbidden))
                {
                    throw new HttpRequestException($"refused to connect to {host}: it resolves to a loopback, private, link-local or metadata address.");
                }
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        });
        builder.Services.AddHostedService<WebhookSender>();
        return builder;
    }

    public static WebApplication MapPartnerService(this WebApplication app)
    {
        app.MapGrpcService<PartnerGrpcService>();
        return app;
    }
}
