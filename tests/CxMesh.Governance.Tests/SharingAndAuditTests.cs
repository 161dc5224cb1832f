using CxMesh.Governance.V1;
using CxMesh.Partner.V1;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static CxMesh.Governance.Tests.GovernanceTestKit;

namespace CxMesh.Governance.Tests;

/// <summary>Sharing approvals decided by governance and the hash-chained audit log, against the real partner service.</summary>
public sealed class SharingAndAuditTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly GovernanceService.GovernanceServiceClient _approver = SharingApprovals.ApproverClient(fixture.Host);
    private readonly GovernanceService.GovernanceServiceClient _admin = fixture.Host.Client<GovernanceService.GovernanceServiceClient>();
    private readonly PartnerService.PartnerServiceClient _partners = fixture.Host.Client<PartnerService.PartnerServiceClient>();

    private async Task<Agreement> SubmittedAgreementAsync(string partnerId)
    {
        await _partners.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = new Partner.V1.Partner { Id = partnerId, Name = "Finca Test", Kind = PartnerKind.Producer } });
        var draft = (await _partners.ProposeAgreementAsync(new ProposeAgreementRequest
        {
            Agreement = new Agreement
            {
                PartnerId = partnerId,
                Scope = { new Mapping { Kind = MappingKind.Product, Value = Unique("sku") } },
                Fields = { SharedField.Ratings, SharedField.Themes },
                MinGroupSize = 5,
                Cadence = "0 6 1 * *",
                RetentionDays = 365,
            },
        })).Agreement;
        return (await _partners.SubmitAgreementAsync(new SubmitAgreementRequest { AgreementId = draft.AgreementId, Version = 1 })).Agreement;
    }

    private async Task<SharingApproval> PendingAsync(string agreementId) =>
        (await Eventually.Until(async () => (await _admin.ListSharingApprovalsAsync(new ListSharingApprovalsRequest())).Approvals.FirstOrDefault(a => a.AgreementId == agreementId),
            a => a is not null, because: "partner.agreement.submitted reaches governance"))!;

    [Fact]
    public async Task Submitted_agreements_wait_for_an_admin_whose_decision_activates_them_and_is_audited()
    {
        var partnerId = Unique("farm");
        var submitted = await SubmittedAgreementAsync(partnerId);
        var pending = await PendingAsync(submitted.AgreementId);
        Assert.Equal((partnerId, "Finca Test", 1, 5, ApprovalState.Pending), (pending.PartnerId, pending.PartnerName, pending.Version, pending.MinGroupSize, pending.State));
        Assert.Equal(["ratings", "themes"], pending.Fields);
        Assert.StartsWith("product=sku-", Assert.Single(pending.Scope));
        Assert.Equal("test-admin", pending.SubmittedBy);

        await RpcAssert.InvalidArgumentAsync(() => _approver.DecideSharingAsync(new DecideSharingRequest { AgreementId = submitted.AgreementId, Version = 1, Approved = false }).ResponseAsync,
            "reason");
        // Four eyes: the admin who submitted it cannot approve it.
        var ownDecision = await RpcAssert.StatusAsync(() => _admin.DecideSharingAsync(new DecideSharingRequest
        {
            AgreementId = submitted.AgreementId,
            Version = 1,
            Approved = true,
            Reason = "looks fine to me",
        }).ResponseAsync, StatusCode.FailedPrecondition);
        Assert.Equal("FOUR_EYES", ownDecision.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
        var decided = (await _approver.DecideSharingAsync(new DecideSharingRequest { AgreementId = submitted.AgreementId, Version = 1, Approved = true, Reason = "k=5, no verbatims" })).Approval;
        Assert.Equal((ApprovalState.Approved, SharingApprovals.Approver), (decided.State, decided.DecidedBy));
        await Eventually.Until(async () => (await _partners.GetAgreementAsync(new GetAgreementRequest { AgreementId = submitted.AgreementId })).Agreement.State,
            s => s == AgreementState.Active, because: "governance.sharing.decided reaches the partner service");

        var twice = await RpcAssert.StatusAsync(() => _approver.DecideSharingAsync(new DecideSharingRequest { AgreementId = submitted.AgreementId, Version = 1, Approved = false, Reason = "changed my mind" }).ResponseAsync,
            StatusCode.FailedPrecondition);
        Assert.Equal("SHARING_DECIDED", twice.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
        Assert.DoesNotContain((await _admin.ListSharingApprovalsAsync(new ListSharingApprovalsRequest())).Approvals, a => a.AgreementId == submitted.AgreementId);
        Assert.Contains((await _admin.ListSharingApprovalsAsync(new ListSharingApprovalsRequest { States = { ApprovalState.Approved } })).Approvals, a => a.AgreementId == submitted.AgreementId);

        var audit = (await _admin.ListAuditEntriesAsync(new ListAuditEntriesRequest { Kind = "sharing.decided", PageSize = 1000 })).Entries;
        var decision = Assert.Single(audit, e => e.Subject == $"agreement/{submitted.AgreementId}/v1");
        Assert.Contains("\"approved\":true", decision.Details);
        // The audit names both people.
        Assert.Contains("\"submittedBy\":\"test-admin\"", decision.Details);
        Assert.Contains($"\"decidedBy\":\"{SharingApprovals.Approver}\"", decision.Details);

        // The disclosure that the approval allows is audited too, when the partner service publishes a report.
        var today = DateTime.UtcNow.Date;
        var report = (await _partners.PublishReportAsync(new PublishReportRequest
        {
            PartnerId = partnerId,
            StartDate = today.AddDays(-6).ToString("yyyy-MM-dd"),
            EndDate = today.ToString("yyyy-MM-dd"),
        })).Report;
        var disclosure = await Eventually.Until(
            async () => (await _admin.ListAuditEntriesAsync(new ListAuditEntriesRequest { Kind = "report.disclosed", PageSize = 1000 })).Entries.FirstOrDefault(e => e.Subject == $"report/{report.ReportId}"),
            e => e is not null, because: "partner.report.published reaches governance");
        Assert.Contains(partnerId, disclosure!.Details);
        Assert.True((await _admin.VerifyAuditLogAsync(new VerifyAuditLogRequest())).Intact);
    }

    [Fact]
    public async Task A_rejected_version_never_becomes_active()
    {
        var submitted = await SubmittedAgreementAsync(Unique("roaster"));
        await PendingAsync(submitted.AgreementId);
        await _approver.DecideSharingAsync(new DecideSharingRequest { AgreementId = submitted.AgreementId, Version = 1, Approved = false, Reason = "verbatims not needed" });
        await Eventually.Until(async () => (await _partners.GetAgreementAsync(new GetAgreementRequest { AgreementId = submitted.AgreementId })).Agreement.State,
            s => s == AgreementState.Rejected, because: "the rejection reaches the partner service");
        await RpcAssert.StatusAsync(() => _approver.DecideSharingAsync(new DecideSharingRequest { AgreementId = Guid.NewGuid().ToString(), Version = 1, Approved = true }).ResponseAsync,
            StatusCode.NotFound);
        await RpcAssert.InvalidArgumentAsync(() => _approver.DecideSharingAsync(new DecideSharingRequest { AgreementId = submitted.AgreementId, Version = 0, Approved = true }).ResponseAsync, "version");
    }

    [Fact]
    public async Task The_audit_log_is_a_hash_chain_that_refuses_edits_and_shows_tampering()
    {
        // A host of its own: this test breaks its audit log on purpose.
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = "governance");
        var admin = host.Client<GovernanceService.GovernanceServiceClient>();
        await admin.PublishVisionAsync(new PublishVisionRequest { Vision = "Audit me.", Mission = "Chain me." });
        var p = await PeopleAsync(admin);
        await admin.AssignJourneyOwnersAsync(new AssignJourneyOwnersRequest { JourneyKey = p.Journey, SponsorId = p.Other, OwnerId = p.Owner });

        var entries = (await admin.ListAuditEntriesAsync(new ListAuditEntriesRequest { PageSize = 1000 })).Entries;
        Assert.Equal(4, entries.Count); // vision, sponsor and owner, then the sponsor's change
        Assert.Equal(Enumerable.Range(1, entries.Count).Select(i => (long)i), entries.Select(e => e.Sequence));
        for (var i = 1; i < entries.Count; i++) Assert.Equal(entries[i - 1].Hash, entries[i].PreviousHash);
        var verdict = await admin.VerifyAuditLogAsync(new VerifyAuditLogRequest());
        Assert.True(verdict.Intact);
        Assert.Equal(entries[^1].Hash, verdict.HeadHash);

        var database = host.Services.GetRequiredKeyedService<ServiceDatabase>("governance");
        await using var connection = await database.OpenConnectionAsync();
        // The table refuses edits and deletes outright...
        var refused = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("update audit_log set actor = 'mallory' where sequence = 2"));
        Assert.Contains("append-only", refused.MessageText);
        await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("delete from audit_log where sequence = 2"));

        // ...and someone who gets past that (a superuser skipping triggers) is caught by the chain.
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await connection.ExecuteAsync("set local session_replication_role = replica", transaction: tx);
            await connection.ExecuteAsync("update audit_log set details = replace(details, 'Audit me.', 'Nothing to see.') where kind = 'vision.published'", transaction: tx);
            await tx.CommitAsync();
        }
        var tampered = await admin.VerifyAuditLogAsync(new VerifyAuditLogRequest());
        Assert.False(tampered.Intact);
        var touched = entries.First(e => e.Kind == "vision.published" && e.Details.Contains("Audit me.", StringComparison.Ordinal));
        Assert.Equal(touched.Sequence, tampered.FirstBrokenSequence);
        Assert.Contains("changed after it was written", tampered.Problem);
    }

    [Fact]
    public async Task The_audit_log_and_the_teams_page_with_tokens_without_repeating_or_skipping_anything()
    {
        for (var i = 0; i < 5; i++)
        {
            await _admin.CreateTeamAsync(new CreateTeamRequest { Team = new Team { Id = Unique($"paged{i}"), Name = $"Paged team {i}" } });
        }
        var allTeams = (await _admin.ListTeamsAsync(new ListTeamsRequest())).Teams.Select(t => t.Id).ToList();
        Assert.Equal(allTeams.Order(StringComparer.Ordinal), allTeams);
        Assert.Equal(allTeams, await AllPagesAsync(async token =>
        {
            var page = await _admin.ListTeamsAsync(new ListTeamsRequest { PageSize = 2, PageToken = token });
            return (page.Teams.Select(t => t.Id).ToList(), page.NextPageToken);
        }));

        // Three audited changes, so the log has pages to turn whatever ran before.
        CodeDriver Driver(string theme) => new() { Name = theme, ThemeKey = theme, Definition = $"{theme}, as the customer sees it.", Target = "better" };
        for (var i = 0; i < 3; i++)
        {
            await _admin.SetCxCodeAsync(new SetCxCodeRequest { Drivers = { Driver("delivery"), Driver("freshness"), Driver(i % 2 == 0 ? "taste" : "price-value") } });
        }
        var all = (await _admin.ListAuditEntriesAsync(new ListAuditEntriesRequest { PageSize = 1000 })).Entries.Select(e => e.Sequence).ToList();
        Assert.True(all.Count >= 3);
        Assert.Equal(all, await AllPagesAsync(async token =>
        {
            var page = await _admin.ListAuditEntriesAsync(new ListAuditEntriesRequest { PageSize = 2, PageToken = token });
            return (page.Entries.Select(e => e.Sequence).ToList(), page.NextPageToken);
        }));
        await RpcAssert.InvalidArgumentAsync(() => _admin.ListAuditEntriesAsync(new ListAuditEntriesRequest { PageToken = "%%%" }).ResponseAsync, "page_token");
        await RpcAssert.InvalidArgumentAsync(() => _admin.ListAuditEntriesAsync(new ListAuditEntriesRequest
        {
            PageToken = Platform.Api.PageTokens.Encode("not a sequence"),
        }).ResponseAsync, "page_token");
        await RpcAssert.InvalidArgumentAsync(() => _admin.ListTeamsAsync(new ListTeamsRequest { PageSize = 1001 }).ResponseAsync, "page_size");
    }

    /// <summary>Every item of a list, following next_page_token to the end.</summary>
    private static async Task<List<T>> AllPagesAsync<T>(Func<string, Task<(List<T> Items, string Next)>> page)
    {
        var items = new List<T>();
        var token = "";
        do
        {
            var (some, next) = await page(token);
            items.AddRange(some);
            token = next;
        }
        while (token.Length > 0);
        return items;
    }
}
