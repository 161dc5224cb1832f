using CxMesh.Events.V1;
using CxMesh.Journey.Api;
using CxMesh.Journey.Data;
using CxMesh.Journey.Events;
using CxMesh.Journey.UseCases;
using CxMesh.Journey.V1;
using CxMesh.Journey.Workers;
using CxMesh.Platform.Clients;
using CxMesh.Platform.Hosting;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Platform.Telemetry;
using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CxMesh.Journey;

/// <summary>The journey service's whole wiring.</summary>
public static class JourneyModule
{
    public const string Name = "journey";

    public static WebApplicationBuilder AddJourneyService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(Name, typeof(JourneyModule).Assembly);
        builder.Services.AddDatabaseGauge(Name, "cxmesh.journey.projection_backlog", "{customer}",
            "Customers' journeys waiting to be projected into instances.", "select count(*) from pending_projections");
        builder.Services.AddDatabaseGauge(Name, "cxmesh.journey.projection_lag", "s",
            "Age of the oldest journey waiting to be projected; 0 when none waits.",
            "select coalesce(extract(epoch from now() - min(enqueued_at)), 0) from pending_projections");
        builder.AddOutboxRelay(Name);
        builder.AddEventHandler<FeedbackErased, FeedbackErasedHandler>(Name, Topics.FeedbackErased);
        builder.Services.AddValidatedOptions<JourneyOptions>(JourneyOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<DefinitionStore>();
        builder.Services.AddSingleton<JourneyReads>();
        builder.Services.AddSingleton<RelationshipReads>();
        builder.Services.AddSingleton<ProjectInstances>();
        builder.Services.AddSingleton<ProjectionWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProjectionWorker>());
        builder.Services.AddSingleton<RecordTouchpoints>();
        builder.Services.AddSingleton<IValidator<CreateJourneyDefinitionRequest>, CreateJourneyDefinitionValidator>();
        builder.Services.AddSingleton<IValidator<UpdateJourneyDefinitionRequest>, UpdateJourneyDefinitionValidator>();
        builder.Services.AddSingleton<IValidator<TouchpointEvent>, TouchpointEventValidator>();
        // Who owns a journey is governance's: read when a journey-owner changes a definition.
        builder.AddServiceClient<CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient>("governance");
        return builder;
    }

    public static WebApplication MapJourneyService(this WebApplication app)
    {
        app.MapGrpcService<JourneyGrpcService>();
        return app;
    }
}
