using CxMesh.Governance.V1;

namespace CxMesh.TestKit;

/// <summary>Approves a submitted sharing agreement as governance's admin would, once partner.agreement.submitted arrived.</summary>
public static class SharingApprovals
{
    public static async Task DecideAsync(GovernanceService.GovernanceServiceClient governance, string agreementId, int version, bool approved = true, string reason = "test")
    {
        await Eventually.Until(
            async () => (await governance.ListSharingApprovalsAsync(new ListSharingApprovalsRequest())).Approvals,
            pending => pending.Any(a => a.AgreementId == agreementId && a.Version == version),
            because: "the submission reaches governance as partner.agreement.submitted");
        await governance.DecideSharingAsync(new DecideSharingRequest { AgreementId = agreementId, Version = version, Approved = approved, Reason = reason });
    }
}
