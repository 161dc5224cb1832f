using CxMesh.Events.V1;
using CxMesh.Partner.Api;
using CxMesh.Partner.Data;
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
        return builder;
    }

    public static WebApplication MapPartnerService(this WebApplication app)
    {
        app.MapGrpcService<PartnerGrpcService>();
        return app;
    }
}
