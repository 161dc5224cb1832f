using Grpc.Net.ClientFactory;

namespace CxMesh.Web.Calls;

/// <summary>
/// The services' clients as the console calls them: named apart from the service-token clients other modules of the
/// same process register for the same types, and carrying the signed-in person's token.
/// </summary>
public sealed class ConsoleClients(GrpcClientFactory factory)
{
    public const string Prefix = "console:";

    public CxMesh.Journey.V1.JourneyService.JourneyServiceClient Journey => Create<CxMesh.Journey.V1.JourneyService.JourneyServiceClient>();
    public CxMesh.Feedback.V1.FeedbackService.FeedbackServiceClient Feedback => Create<CxMesh.Feedback.V1.FeedbackService.FeedbackServiceClient>();
    public CxMesh.Scoring.V1.ScoringService.ScoringServiceClient Scoring => Create<CxMesh.Scoring.V1.ScoringService.ScoringServiceClient>();
    public CxMesh.Partner.V1.PartnerService.PartnerServiceClient Partner => Create<CxMesh.Partner.V1.PartnerService.PartnerServiceClient>();
    public CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient Governance => Create<CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient>();
    public CxMesh.Notifications.V1.NotificationService.NotificationServiceClient Notifications => Create<CxMesh.Notifications.V1.NotificationService.NotificationServiceClient>();

    public static string NameOf<TClient>() => Prefix + typeof(TClient).Name;

    private TClient Create<TClient>() where TClient : class => factory.CreateClient<TClient>(NameOf<TClient>());
}
