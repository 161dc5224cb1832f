using CxMesh.Governance.V1;
using CxMesh.Platform.Auth;

namespace CxMesh.TestKit;

/// <summary>
/// Approves a submitted sharing agreement as governance's second admin would (the test admin submits, "test-approver"
/// decides: four eyes), once partner.agreement.submitted arrived.
/// </summary>
public static class SharingApprovals
{
    public const string Approver = "test-approver";

    public static GovernanceService.GovernanceServiceClient ApproverClient(CxMeshTestHost host) =>
        host.ClientWithToken<GovernanceService.GovernanceServiceClient>(host.Token(Roles.Admin, subject: Approver));

    public static Task DecideAsync(CxMeshTestHost host, string agreementId, int version, bool approved = true, string reason = "test") =>
        DecideAsync(ApproverClient(host), agreementId, version, approved, reason);

    /// <summary>Decides with <paramref name="governance"/>, a client calling as an admin other than the one who submitted.</summary>
    public static async Task DecideAsync(GovernanceService.GovernanceServiceClient governance, string agreementId, int version, bool approved = true, string reason = "test")
    {
        await Eventually.Until(
            async () => (await governance.ListSharingApprovalsAsync(new ListSharingApprovalsRequest())).Approvals,
            pending => pending.Any(a => a.AgreementId == agreementId && a.Version == version),
            because: "the submission reaches governance as partner.agreement.submitted");
        await governance.DecideSharingAsync(new DecideSharingRequest { AgreementId = agreementId, Version = version, Approved = approved, Reason = reason });
    }
}
