using CxMesh.Governance.V1;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.TestKit;
using Google.Rpc;
using Grpc.Core;

namespace CxMesh.Partner.Tests;

/// <summary>Partners' answers reach people: disputes become actions, their outcome goes back, everyone can list them.</summary>
public sealed class PartnerResponseTests(PartnerFixture fixture) : IClassFixture<PartnerFixture>
{
    private readonly PartnerScenario _scenario = new(fixture);
    private readonly PartnerService.PartnerServiceClient _admin = fixture.Host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);
    private readonly GovernanceService.GovernanceServiceClient _governance = fixture.Host.Client<GovernanceService.GovernanceServiceClient>();

    [Fact]
    public async Task A_dispute_becomes_an_action_with_the_item_s_words_and_its_outcome_goes_back_to_the_partner()
    {
        var (partnerId, product, _) = await _scenario.ActivePartnerAsync(k: 3);
        for (var i = 0; i < 3; i++) await _scenario.DeliverAsync(Topics.FeedbackReceived, $"d{i}-{partnerId}", PartnerScenario.Feedback(product, "lot", 2, $"Bitter and burnt {i}"));
        var report = (await _admin.PublishReportAsync(new PublishReportRequest { PartnerId = partnerId, StartDate = PartnerScenario.Day(-7), EndDate = PartnerScenario.Day(0) })).Report;
        var partner = fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>(partnerId);
        var rows = (await PartnerScenario.DownloadAsync(partner, report.ReportId, ReportFormat.Csv)).Split("\r\n")[1].Split(',');
        var itemId = rows[0];

        await partner.SubmitResponseAsync(new SubmitResponseRequest { ReportId = report.ReportId, Kind = ResponseKind.Acknowledgement, Text = "Seen, thanks" });
        var dispute = await partner.SubmitResponseAsync(new SubmitResponseRequest
        {
            ReportId = report.ReportId,
            Kind = ResponseKind.Dispute,
            FeedbackId = itemId,
            Text = "That lot was roasted by another farm",
        });

        // Governance: an action for the partner's contact (here the CX team), carrying the reason and the item's redacted words.
        var action = await Eventually.Until(async () => (await _governance.ListActionsAsync(new ListActionsRequest { PageSize = 200 })).Actions
            .FirstOrDefault(a => a.Source == "partner-dispute" && a.Title.Contains(partnerId, StringComparison.Ordinal)), a => a is not null, because: "the dispute reaches governance");
        Assert.Contains("another farm", action!.Detail);
        Assert.Contains("Bitter and burnt", action.Detail);
        Assert.Contains(await Eventually.Until(async () => (await _governance.ListAuditEntriesAsync(new ListAuditEntriesRequest { Kind = "partner.acknowledged", PageSize = 1000 })).Entries,
            e => e.Any(x => x.Subject == $"report/{report.ReportId}"), because: "the acknowledgement is kept"), e => e.Actor == $"partner/{partnerId}");

        var listed = (await _admin.ListPartnerResponsesAsync(new ListPartnerResponsesRequest { PartnerId = partnerId })).Responses;
        Assert.Equal([("dispute", "open"), ("acknowledgement", "received")],
            listed.Select(r => (r.Kind == ResponseKind.Dispute ? "dispute" : "acknowledgement", r.Status)));
        Assert.Single((await _admin.ListPartnerResponsesAsync(new ListPartnerResponsesRequest { PartnerId = partnerId, Kind = ResponseKind.Dispute })).Responses);

        // Settled: the outcome comes back, and the partner sees it in its own list.
        await _governance.ResolveActionAsync(new ResolveActionRequest { ActionId = action.Id, RootCause = "Lot label swapped at packing", Resolution = "Item re-attributed; label fixed" });
        var mine = await Eventually.Until(async () => (await partner.ListMyResponsesAsync(new ListMyResponsesRequest())).Responses.Single(r => r.ResponseId == dispute.ResponseId),
            r => r.Status == "resolved", because: "partner.response.updated reaches the partner service");
        Assert.Equal("Item re-attributed; label fixed", mine.Outcome);
        Assert.Equal(2, (await partner.ListMyResponsesAsync(new ListMyResponsesRequest())).Responses.Count);
        // Another partner sees none of it.
        Assert.Empty((await fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>("someone-else").ListMyResponsesAsync(new ListMyResponsesRequest())).Responses);
    }

    [Fact]
    public async Task A_suspended_partner_is_reactivated_with_a_reason_and_both_changes_are_audited()
    {
        var (partnerId, _, _) = await _scenario.ActivePartnerAsync(k: 3);
        await _admin.SuspendPartnerAsync(new SuspendPartnerRequest { Id = partnerId });
        await RpcAssert.InvalidArgumentAsync(() => _admin.ReactivatePartnerAsync(new ReactivatePartnerRequest { Id = partnerId }).ResponseAsync, "reason");
        var back = (await _admin.ReactivatePartnerAsync(new ReactivatePartnerRequest { Id = partnerId, Reason = "Audit passed" })).Partner;
        Assert.Equal(partnerId, back.Id);
        var again = await RpcAssert.StatusAsync(() => _admin.ReactivatePartnerAsync(new ReactivatePartnerRequest { Id = partnerId, Reason = "twice" }).ResponseAsync,
            StatusCode.FailedPrecondition);
        Assert.Equal("PARTNER_NOT_SUSPENDED", again.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
        await RpcAssert.StatusAsync(() => _admin.ReactivatePartnerAsync(new ReactivatePartnerRequest { Id = "no-such-partner", Reason = "x" }).ResponseAsync, StatusCode.NotFound);
        // Sharing does not resume by itself: the suspended agreement stays suspended until a new version is approved.
        await RpcAssert.StatusAsync(() => _admin.PublishReportAsync(new PublishReportRequest { PartnerId = partnerId, StartDate = PartnerScenario.Day(-7), EndDate = PartnerScenario.Day(0) }).ResponseAsync,
            StatusCode.FailedPrecondition);

        var audit = await Eventually.Until(async () => (await _governance.ListAuditEntriesAsync(new ListAuditEntriesRequest { Kind = "partner.status.changed", PageSize = 1000 })).Entries
            .Where(e => e.Subject == $"partner/{partnerId}").ToList(), e => e.Count == 2, because: "partner.status.changed reaches governance");
        Assert.Contains(audit, e => e.Details.Contains("\"status\":\"active\"", StringComparison.Ordinal) && e.Details.Contains("Audit passed", StringComparison.Ordinal)
            && e.Actor == "test-admin");
    }
}
