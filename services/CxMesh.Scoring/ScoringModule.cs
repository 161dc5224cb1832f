using CxMesh.Events.V1;
using CxMesh.Platform.Hosting;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Api;
using CxMesh.Scoring.Data;
using CxMesh.Scoring.Events;
using CxMesh.Scoring.UseCases;
using CxMesh.Scoring.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CxMesh.Scoring;

/// <summary>The scoring service's whole wiring.</summary>
public static class ScoringModule
{
    public const string Name = "scoring";

    public static WebApplicationBuilder AddScoringService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(Name, typeof(ScoringModule).Assembly);
        builder.AddOutboxRelay(Name);
        builder.AddEventHandler<FeedbackReceived, FeedbackReceivedHandler>(Name, Topics.FeedbackReceived);
        builder.AddEventHandler<JourneyTouchpointRecorded, TouchpointRecordedHandler>(Name, Topics.JourneyTouchpointRecorded);
        builder.AddEventHandler<FeedbackRedacted, FeedbackRedactedHandler>(Name, Topics.FeedbackRedacted);
        builder.AddEventHandler<FeedbackRetagged, FeedbackRetaggedHandler>(Name, Topics.FeedbackRetagged);
        builder.AddEventHandler<FeedbackErased, FeedbackErasedHandler>(Name, Topics.FeedbackErased);
        builder.AddEventHandler<PartnerMappingChanged, PartnerMappingChangedHandler>(Name, Topics.PartnerMappingChanged);
        builder.Services.AddValidatedOptions<ScoringOptions>(ScoringOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ScoreStore>();
        builder.Services.AddSingleton<DriverStore>();
        builder.Services.AddSingleton<AlertStore>();
        builder.Services.AddSingleton<ValueStore>();
        builder.Services.AddSingleton<StageStore>();
        builder.Services.AddSingleton<UnitStore>();
        builder.Services.AddSingleton<RebuildStages>();
        builder.Services.AddSingleton<StageRebuilder>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StageRebuilder>());
        builder.Services.AddSingleton<HotScores>();
        builder.Services.AddSingleton<HotScoreRefresher>();
        builder.Services.AddSingleton<ScoreFeedback>();
        builder.Services.AddSingleton<RetagDrivers>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HotScoreRefresher>());
        return builder;
    }

    public static WebApplication MapScoringService(this WebApplication app)
    {
        app.MapGrpcService<ScoringGrpcService>();
        return app;
    }
}
