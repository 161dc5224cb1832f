using System.Globalization;
using CsvHelper;
using CxMesh.Events.V1;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.TestKit;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace CxMesh.Partner.Tests;

/// <summary>What leaves for a partner: k holds in every format, the formats agree, and periods cannot be differenced.</summary>
public sealed class DisclosureTests(PartnerFixture fixture) : IClassFixture<PartnerFixture>
{
    private readonly PartnerScenario _scenario = new(fixture);
    private readonly PartnerService.PartnerServiceClient _admin = fixture.Host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);

    private static List<Dictionary<string, string>> Rows(string csv)
    {
        using var reader = new CsvReader(new StringReader(csv), CultureInfo.InvariantCulture);
        return reader.GetRecords<dynamic>().Select(r => ((IDictionary<string, object>)r).ToDictionary(p => p.Key, p => (string)p.Value)).ToList();
    }

    private async Task<Report> PublishAsync(string partnerId, int from = -7, int to = 0) =>
        (await _admin.PublishReportAsync(new PublishReportRequest { PartnerId = partnerId, StartDate = PartnerScenario.Day(from), EndDate = PartnerScenario.Day(to) })).Report;

    [Fact]
    public async Task A_small_lot_is_not_listed_in_downloads_nor_recoverable_from_its_product_minus_its_sibling()
    {
        var (partnerId, product, _) = await _scenario.ActivePartnerAsync(k: 3);
        for (var i = 0; i < 4; i++) await _scenario.DeliverAsync(Topics.FeedbackReceived, $"a{i}-{partnerId}", PartnerScenario.Feedback(product, "lot-a", 9, $"fine {i}"));
        for (var i = 0; i < 2; i++) await _scenario.DeliverAsync(Topics.FeedbackReceived, $"b{i}-{partnerId}", PartnerScenario.Feedback(product, "lot-b", 1, $"awful {i}"));

        var report = await PublishAsync(partnerId);
        var productRow = report.Breakdowns.Single(b => b.Dimension == "product");
        Assert.Equal((6L, false), (productRow.N, productRow.Suppressed));
        // lot B is under k; lot A is hidden too, or product minus lot A would give lot B.
        Assert.All(report.Breakdowns.Where(b => b.Dimension == "lot"), b => Assert.Equal((true, 0L, product), (b.Suppressed, b.N, b.Parent)));

        var partner = fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>(partnerId);
        var rows = Rows(await PartnerScenario.DownloadAsync(partner, report.ReportId, ReportFormat.Csv));
        Assert.Equal(6, rows.Count);
        Assert.All(rows, r => Assert.Equal(("", product), (r["lot"], r["product"])));
        var html = await PartnerScenario.DownloadAsync(partner, report.ReportId, ReportFormat.Html);
        var itemsTable = html[html.IndexOf("<h2>Responses in this report</h2>", StringComparison.Ordinal)..];
        Assert.DoesNotContain("lot-", itemsTable);
        Assert.Contains("awful 1", itemsTable);
        // And the JSON the partner reads is the same document.
        Assert.Equal(report.Breakdowns, (await partner.GetMyReportAsync(new GetMyReportRequest { ReportId = report.ReportId })).Report.Breakdowns);
    }

    [Fact]
    public async Task After_an_erasure_every_format_of_a_published_report_has_lost_the_customer_s_words()
    {
        var (partnerId, product, _) = await _scenario.ActivePartnerAsync(k: 3);
        var customer = $"erased-{partnerId}";
        await _scenario.DeliverAsync(Topics.FeedbackReceived, $"x-{partnerId}", PartnerScenario.Feedback(product, "lot", 2, "The beans tasted of smoke, says Quentin", customer: customer));
        for (var i = 0; i < 3; i++) await _scenario.DeliverAsync(Topics.FeedbackReceived, $"o{i}-{partnerId}", PartnerScenario.Feedback(product, "lot", 9, $"Lovely cup {i}"));
        var report = await PublishAsync(partnerId);
        Assert.Contains("The beans tasted of smoke, says Quentin", report.SampleVerbatims);

        var erased = new FeedbackErased { EventId = Guid.NewGuid().ToString(), OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow), CustomerId = customer };
        await _scenario.DeliverAsync(Topics.FeedbackErased, erased.EventId, erased);

        var partner = fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>(partnerId);
        var json = (await partner.GetMyReportAsync(new GetMyReportRequest { ReportId = report.ReportId })).Report;
        Assert.DoesNotContain(json.SampleVerbatims, v => v.Contains("Quentin"));
        Assert.Equal(3, json.SampleVerbatims.Count);
        Assert.DoesNotContain("Quentin", await PartnerScenario.DownloadAsync(partner, report.ReportId, ReportFormat.Csv));
        Assert.DoesNotContain("Quentin", await PartnerScenario.DownloadAsync(partner, report.ReportId, ReportFormat.Html));
        // Figures stay as published: erasure takes words, not the count they were part of.
        Assert.Equal(4, Rows(await PartnerScenario.DownloadAsync(partner, report.ReportId, ReportFormat.Csv)).Count);
    }

    [Fact]
    public async Task A_report_lists_the_items_it_disclosed_not_feedback_that_arrived_later()
    {
        var (partnerId, product, _) = await _scenario.ActivePartnerAsync(k: 3);
        for (var i = 0; i < 3; i++) await _scenario.DeliverAsync(Topics.FeedbackReceived, $"on-time{i}-{partnerId}", PartnerScenario.Feedback(product, "lot", 9, "ok"));
        var report = await PublishAsync(partnerId);
        // Given in the period, but only arrived now.
        await _scenario.DeliverAsync(Topics.FeedbackReceived, $"late-{partnerId}", PartnerScenario.Feedback(product, "lot", 0, "late and bitter", daysAgo: 2));

        var partner = fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>(partnerId);
        var csv = await PartnerScenario.DownloadAsync(partner, report.ReportId, ReportFormat.Csv);
        Assert.Equal(3, Rows(csv).Count);
        Assert.DoesNotContain("late and bitter", csv);
    }

    [Fact]
    public async Task Overlapping_periods_are_refused_so_two_reports_cannot_be_subtracted()
    {
        var (partnerId, product, _) = await _scenario.ActivePartnerAsync(k: 3);
        for (var i = 0; i < 8; i++) await _scenario.DeliverAsync(Topics.FeedbackReceived, $"p{i}-{partnerId}", PartnerScenario.Feedback(product, "lot", 9, "", daysAgo: 1 + i * 2));
        var first = await PublishAsync(partnerId, -7, 0);

        var refused = await RpcAssert.StatusAsync(() => PublishAsync(partnerId, -8, -1), StatusCode.FailedPrecondition);
        Assert.Contains(first.ReportId, refused.Status.Detail);
        Assert.Equal("PERIOD_ALREADY_REPORTED", refused.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
        // Republishing the same period is refused too: late feedback or an erasure would make the difference readable.
        await RpcAssert.StatusAsync(() => PublishAsync(partnerId, -7, 0), StatusCode.FailedPrecondition);
        await RpcAssert.StatusAsync(() => PublishAsync(partnerId, -30, -5), StatusCode.FailedPrecondition);

        // An adjacent earlier period is fine.
        var earlier = await PublishAsync(partnerId, -15, -8);
        Assert.Equal(4, earlier.Items);
    }

    [Fact]
    public async Task Trend_points_are_the_earlier_reports_as_published_never_recomputed()
    {
        var (partnerId, product, _) = await _scenario.ActivePartnerAsync(k: 3);
        for (var i = 0; i < 3; i++) await _scenario.DeliverAsync(Topics.FeedbackReceived, $"w{i}-{partnerId}", PartnerScenario.Feedback(product, "lot", 9, "", daysAgo: 10));
        var earlier = await PublishAsync(partnerId, -14, -8);
        // A late detractor for the earlier period: the trend must not show a second version of it.
        await _scenario.DeliverAsync(Topics.FeedbackReceived, $"late-{partnerId}", PartnerScenario.Feedback(product, "lot", 0, "", daysAgo: 10));
        for (var i = 0; i < 3; i++) await _scenario.DeliverAsync(Topics.FeedbackReceived, $"n{i}-{partnerId}", PartnerScenario.Feedback(product, "lot", 9, "", daysAgo: 2));
        var now = await PublishAsync(partnerId, -7, 0);
        var point = Assert.Single(now.Trend);
        Assert.Equal((earlier.StartDate, earlier.EndDate, earlier.Nps), (point.StartDate, point.EndDate, point.Nps));
    }

    [Fact]
    public async Task A_period_under_k_shows_no_count_at_all()
    {
        var (partnerId, product, _) = await _scenario.ActivePartnerAsync(k: 5);
        for (var i = 0; i < 2; i++) await _scenario.DeliverAsync(Topics.FeedbackReceived, $"few{i}-{partnerId}", PartnerScenario.Feedback(product, "lot", 9, "hi"));
        var report = await PublishAsync(partnerId);
        Assert.Equal((0L, true), (report.Items, report.Suppressed));
        var partner = fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>(partnerId);
        Assert.Empty(Rows(await PartnerScenario.DownloadAsync(partner, report.ReportId, ReportFormat.Csv)));
        Assert.DoesNotContain(" 2 items", await PartnerScenario.DownloadAsync(partner, report.ReportId, ReportFormat.Html));
    }

    [Theory]
    [InlineData("=HYPERLINK(\"http://evil\")")]
    [InlineData("+1+1")]
    [InlineData("-2+3")]
    [InlineData("@SUM(A1:A9)")]
    [InlineData("\t=1+1")]
    [InlineData("\r=1+1")]
    public async Task Formula_leading_cells_are_escaped_in_partner_downloads(string verbatim)
    {
        var (partnerId, product, _) = await _scenario.ActivePartnerAsync(k: 3);
        for (var i = 0; i < 3; i++) await _scenario.DeliverAsync(Topics.FeedbackReceived, $"f{i}-{partnerId}", PartnerScenario.Feedback(product, "lot", 9, verbatim));
        var report = await PublishAsync(partnerId);
        var partner = fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>(partnerId);
        var rows = Rows(await PartnerScenario.DownloadAsync(partner, report.ReportId, ReportFormat.Csv));
        Assert.All(rows, r => Assert.Equal("'" + verbatim, r["verbatim"]));
    }
}
