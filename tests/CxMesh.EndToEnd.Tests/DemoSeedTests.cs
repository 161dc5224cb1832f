using CxMesh.Feedback.V1;
using CxMesh.Governance.V1;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.EndToEnd.Tests;

/// <summary>
/// <c>cxmesh seed-demo</c>, as <c>./run.sh</c> runs it, against all services: the README promises that a second run on
/// the same day adds nothing, so no feedback, report, webhook, audit entry or programme item may appear the second time.
/// </summary>
public sealed class DemoSeedTests
{
    private static readonly string CliDll = RepoFiles.Built("CxMesh.Cli", "cxmesh.dll");

    private sealed record Snapshot(long AuditEntries, int Actions, int Ideas, int Sprints, int CaseStudies, int Members, string Reports, int Deliveries);

    [Fact]
    public async Task A_second_seed_on_the_same_day_adds_nothing()
    {
        // As run.sh: the courier's webhook on this machine (allow-listed), where nothing listens: deliveries are recorded and retried.
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.ListenOnLoopback = true;
            s.Settings["Partner:WebhookAllowList:0"] = "127.0.0.1";
        });
        var environment = new Dictionary<string, string>
        {
            ["CXMESH_GRPC"] = host.GrpcAddress!,
            ["CXMESH_TOKEN"] = host.Token(Roles.Admin, subject: "mei.chen"),
            ["CXMESH_APPROVER_TOKEN"] = host.Token(Roles.Admin, subject: "tom.reyes"),
        };
        var governance = host.Client<GovernanceService.GovernanceServiceClient>();
        var feedback = host.Client<FeedbackService.FeedbackServiceClient>();

        await SeedAsync(environment);
        var first = await SettledAsync(host);
        Assert.True(first.Reports.Contains("demo-partner=4", StringComparison.Ordinal), first.Reports);
        Assert.True(first.Deliveries >= 4, $"{first.Deliveries} webhook deliveries");
        var lastEntry = first.AuditEntries;
        var secondStarted = Timestamp.FromDateTime(DateTime.UtcNow);

        var output = await SeedAsync(environment);
        Assert.Contains("0 items stored", output);
        var second = await SettledAsync(host);

        var added = (await governance.ListAuditEntriesAsync(new ListAuditEntriesRequest { AfterSequence = lastEntry, PageSize = 100 })).Entries;
        Assert.True(added.Count == 0, "the second run wrote audit entries: " + string.Join(", ", added.Select(e => $"{e.Kind} {e.Subject} by {e.Actor}")));
        Assert.Empty((await feedback.ListFeedbackAsync(new ListFeedbackRequest { ReceivedAfter = secondStarted, PageSize = 10 })).Items);
        Assert.Equal(first, second);
    }

    private static async Task<string> SeedAsync(Dictionary<string, string> environment)
    {
        var (exit, output) = await RepoFiles.RunAsync(CliDll,
            ["seed-demo", "--count", "120", "--customers", "40", "--club-members", "60", "--courier-webhook", $"http://127.0.0.1:{Ports.Free()}/hooks/cxmesh"], environment, TimeSpan.FromMinutes(4));
        Assert.True(exit == 0, output);
        return output;
    }

    /// <summary>What the demo made, once the events it raised have been handled (nothing changed for three seconds).</summary>
    private static async Task<Snapshot> SettledAsync(CxMeshTestHost host)
    {
        Snapshot? previous = null;
        for (var i = 0; i < 40; i++)
        {
            var now = await SnapshotAsync(host);
            if (now == previous) return now;
            previous = now;
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        throw new TimeoutException($"the demo's effects did not settle: {previous}");
    }

    private static async Task<Snapshot> SnapshotAsync(CxMeshTestHost host)
    {
        var governance = host.Client<GovernanceService.GovernanceServiceClient>();
        var partners = host.Client<PartnerService.PartnerServiceClient>();
        var reports = new List<string>();
        var deliveries = 0;
        foreach (var partner in (await partners.ListPartnersAsync(new ListPartnersRequest())).Partners.OrderBy(p => p.Id, StringComparer.Ordinal))
        {
            var own = host.PartnerClient<PartnerService.PartnerServiceClient>(partner.Id);
            reports.Add($"{partner.Id}={(await own.ListMyReportsAsync(new ListMyReportsRequest())).Reports.Count}");
            deliveries += (await partners.ListWebhookDeliveriesAsync(new ListWebhookDeliveriesRequest { PartnerId = partner.Id })).Deliveries.Count;
        }
        return new Snapshot(
            (await governance.VerifyAuditLogAsync(new VerifyAuditLogRequest())).Entries,
            (await governance.ListActionsAsync(new ListActionsRequest { PageSize = 200 })).Actions.Count,
            (await governance.ListIdeasAsync(new ListIdeasRequest { PageSize = 200 })).Ideas.Count,
            (await governance.ListSprintsAsync(new ListSprintsRequest { PageSize = 200 })).Sprints.Count,
            (await governance.ListCaseStudiesAsync(new ListCaseStudiesRequest { PageSize = 200 })).CaseStudies.Count,
            (await governance.ListMembersAsync(new ListMembersRequest { PageSize = 200 })).Members.Count,
            string.Join(' ', reports),
            deliveries);
    }
}
