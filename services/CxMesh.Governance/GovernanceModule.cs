using CxMesh.Events.V1;
using CxMesh.Governance.Api;
using CxMesh.Governance.Data;
using CxMesh.Governance.Events;
using CxMesh.Governance.UseCases;
using CxMesh.Governance.Workers;
using CxMesh.Platform.Clients;
using CxMesh.Platform.Hosting;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Platform.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CxMesh.Governance;

/// <summary>The governance service's whole wiring.</summary>
public static class GovernanceModule
{
    public const string Name = "governance";

    public static WebApplicationBuilder AddGovernanceService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(Name, typeof(GovernanceModule).Assembly);
        builder.Services.AddDatabaseGauge(Name, "cxmesh.governance.open_actions", "{action}",
            "Actions not yet resolved or closed.", "select count(*) from actions where state in ('open', 'in_progress')");
        builder.Services.AddDatabaseGauge(Name, "cxmesh.governance.overdue_actions", "{action}",
            "Open actions past their due date.", "select count(*) from actions where state in ('open', 'in_progress') and due_at < now()");
        builder.AddOutboxRelay(Name);
        builder.AddEventHandler<AlertRaised, AlertRaisedHandler>(Name, Topics.AlertRaised);
        builder.AddEventHandler<PartnerAgreementSubmitted, PartnerAgreementSubmittedHandler>(Name, Topics.PartnerAgreementSubmitted);
        builder.AddEventHandler<PartnerReportPublished, PartnerReportPublishedHandler>(Name, Topics.PartnerReportPublished);
        builder.AddEventHandler<PartnerResponseReceived, PartnerResponseReceivedHandler>(Name, Topics.PartnerResponseReceived);
        builder.AddEventHandler<FeedbackErased, FeedbackErasedHandler>(Name, Topics.FeedbackErased);
        builder.AddEventHandler<PartnerStatusChanged, PartnerStatusChangedHandler>(Name, Topics.PartnerStatusChanged);
        builder.AddEventHandler<FeedbackRedacted, FeedbackRedactedHandler>(Name, Topics.FeedbackRedacted);
        builder.Services.AddValidatedOptions<GovernanceOptions>(GovernanceOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<PeopleStore>();
        builder.Services.AddSingleton<ProgrammeStore>();
        builder.Services.AddSingleton<ActionStore>();
        builder.Services.AddSingleton<RaiseAction>();
        builder.Services.AddSingleton<MoveAction>();
        builder.Services.AddSingleton<SweepOverdueActions>();
        builder.Services.AddSingleton<DecideSharing>();
        builder.Services.AddSingleton<CaseStudyStore>();
        builder.Services.AddSingleton<SharingStore>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddHostedService<OverdueSweeper>();
        // Reads of other services, over gRPC: scores and key drivers for sprints and the CX code, feedback items and
        // journeys for case studies.
        builder.AddServiceClient<CxMesh.Scoring.V1.ScoringService.ScoringServiceClient>("scoring");
        builder.AddServiceClient<CxMesh.Feedback.V1.FeedbackService.FeedbackServiceClient>("feedback");
        builder.AddServiceClient<CxMesh.Journey.V1.JourneyService.JourneyServiceClient>("journey");
        return builder;
    }

    public static WebApplication MapGovernanceService(this WebApplication app)
    {
        app.MapGrpcService<GovernanceGrpcService>();
        return app;
    }
}
