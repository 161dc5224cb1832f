using CxMesh.Feedback;
using CxMesh.Governance;
using CxMesh.Journey;
using CxMesh.Notifications;
using CxMesh.Partner;
using CxMesh.Platform.Hosting;
using CxMesh.Scoring;
using CxMesh.Web;

namespace CxMesh.Host;

/// <summary>Every service cxmesh-server can host, in start-up order.</summary>
public static class Modules
{
    public static IReadOnlyList<ServiceModule> All { get; } =
    [
        new(JourneyModule.Name, b => b.AddJourneyService(), a => a.MapJourneyService()),
        new(FeedbackModule.Name, b => b.AddFeedbackService(), a => a.MapFeedbackService()),
        new(ScoringModule.Name, b => b.AddScoringService(), a => a.MapScoringService()),
        new(PartnerModule.Name, b => b.AddPartnerService(), a => a.MapPartnerService()),
        new(GovernanceModule.Name, b => b.AddGovernanceService(), a => a.MapGovernanceService()),
        new(NotificationsModule.Name, b => b.AddNotificationsService(), a => a.MapNotificationsService()),
        new(WebModule.Name, b => b.AddWebService(), a => a.MapWebService()),
    ];
}
