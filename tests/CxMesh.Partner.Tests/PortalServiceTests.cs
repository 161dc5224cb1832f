using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.TestKit;
using Grpc.Core;

namespace CxMesh.Partner.Tests;

/// <summary>
/// What the supplier portal stands on: a report a supplier can read (its name, its own dimensions, its items a page at a
/// time), its users and their admin right, and its self-assessment.
/// </summary>
public sealed class PortalServiceTests(PartnerFixture fixture) : IClassFixture<PartnerFixture>
{
    private readonly PartnerScenario _scenario = new(fixture);
    private readonly PartnerService.PartnerServiceClient _admin = fixture.Host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);

    private PartnerService.PartnerServiceClient As(string partnerId, string subject) =>
        fixture.Host.ClientWithToken<PartnerService.PartnerServiceClient>(fixture.Host.Token(Roles.Partner, partnerId, subject));

    /// <summary>A courier (by the delivery touchpoint) whose items also name products and lots, as real feedback does.</summary>
    private async Task<(string PartnerId, string Touchpoint, Report Report)> CourierWithReportAsync(int items = 6)
    {
        var (partnerId, touchpoint, _) = await _scenario.ActivePartnerAsync(PartnerKind.Logistics, k: 3, scope: MappingKind.Touchpoint, name: "Swift Courier");
        for (var i = 0; i < items; i++)
        {
            // Two customers said the very same words: a sample shows them once.
            var words = i < 2 ? "Parcel left in the rain" : $"Courier was friendly {i}";
            await _scenario.DeliverAsync(Topics.FeedbackReceived, $"c{i}-{partnerId}",
                PartnerScenario.Feedback($"sku-{i % 2}", $"lot-{i}", i % 3 == 0 ? 3 : 10, words, touchpoint: touchpoint, daysAgo: 1 + i % 3));
        }
        var report = (await _admin.PublishReportAsync(new PublishReportRequest { PartnerId = partnerId, StartDate = PartnerScenario.Day(-7), EndDate = PartnerScenario.Day(0) })).Report;
        return (partnerId, touchpoint, report);
    }

    [Fact]
    public async Task A_courier_s_report_names_it_breaks_down_by_its_touchpoint_only_and_shows_each_comment_once()
    {
        var (partnerId, touchpoint, report) = await CourierWithReportAsync();
        Assert.Equal("Swift Courier", report.PartnerName);
        Assert.Equal([("touchpoint", touchpoint)], report.Breakdowns.Select(b => (b.Dimension, b.Value)));
        Assert.Equal(report.SampleVerbatims.Distinct().Count(), report.SampleVerbatims.Count);
        Assert.Single(report.SampleVerbatims, v => v == "Parcel left in the rain");

        var html = await PartnerScenario.DownloadAsync(As(partnerId, "anyone"), report.ReportId, ReportFormat.Html);
        Assert.Contains("Customer feedback for Swift Courier", html);
        Assert.DoesNotContain(report.AgreementId, html);
        Assert.DoesNotContain("lot-", html);
        Assert.DoesNotContain("sku-", html);
        Assert.Contains("<h2>By touchpoint</h2>", html);
        Assert.Equal(1, html.Split("Parcel left in the rain").Length - 1 - 2); // once in the samples, twice in the items
        // The trend has a labelled axis and the value on its bar; the metrics and the peer band are explained.
        foreach (var tick in (string[])[">100<", ">50<", ">0<", ">-50<", ">-100<"]) Assert.Contains(tick, html);
        Assert.Contains($">{report.Nps.Value.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)}<", html);
        Assert.Contains("Net Promoter Score", html);
        Assert.Contains("fewer than 3 other partners of your kind", html);
        Assert.Contains("How to respond", html);
        Assert.Contains("Microsoft YaHei", html);
    }

    [Fact]
    public async Task A_period_without_figures_is_marked_no_data_on_the_trend()
    {
        var (partnerId, _, _) = await _scenario.ActivePartnerAsync(PartnerKind.Logistics, k: 3, scope: MappingKind.Touchpoint);
        var empty = (await _admin.PublishReportAsync(new PublishReportRequest { PartnerId = partnerId, StartDate = PartnerScenario.Day(-20), EndDate = PartnerScenario.Day(-14) })).Report;
        Assert.True(empty.Suppressed);
        var html = await PartnerScenario.DownloadAsync(As(partnerId, "anyone"), empty.ReportId, ReportFormat.Html);
        Assert.Contains(">no data<", html);
        Assert.Contains("None shown: the period had fewer than 3 responses.", html);
    }

    [Fact]
    public async Task Report_items_come_a_page_at_a_time_with_only_the_partner_s_dimension_and_a_bad_token_names_its_field()
    {
        var (partnerId, touchpoint, report) = await CourierWithReportAsync(items: 7);
        var partner = As(partnerId, "anyone");
        var seen = new List<ReportItem>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await partner.ListMyReportItemsAsync(new ListMyReportItemsRequest { ReportId = report.ReportId, PageSize = 3, PageToken = token });
            seen.AddRange(page.Items);
            token = page.NextPageToken;
            pages++;
        }
        while (token.Length > 0);
        Assert.Equal(3, pages);
        Assert.Equal(7, seen.Select(i => i.FeedbackId).Distinct().Count());
        Assert.Equal(seen.OrderBy(i => i.GivenOn, StringComparer.Ordinal).Select(i => i.GivenOn), seen.Select(i => i.GivenOn));
        Assert.All(seen, i => Assert.Equal((touchpoint, "", "", ""), (i.TouchpointKey, i.ProductId, i.LotId, i.JourneyId)));
        Assert.All(seen, i => Assert.Equal(-1, i.Csat));

        var bad = await Assert.ThrowsAsync<RpcException>(() => partner.ListMyReportItemsAsync(new ListMyReportItemsRequest { ReportId = report.ReportId, PageToken = "not-a-token" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("page_token", bad.Status.Detail);
        // Another partner's report is not found, whatever the page.
        var other = await Assert.ThrowsAsync<RpcException>(() => As("someone-else", "x").ListMyReportItemsAsync(new ListMyReportItemsRequest { ReportId = report.ReportId }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task A_partner_s_admin_manages_its_users_and_a_removed_user_is_refused_while_their_token_is_valid()
    {
        var (partnerId, _, report) = await CourierWithReportAsync();
        await _admin.AddPartnerUserAsync(new AddPartnerUserRequest { PartnerId = partnerId, User = new PartnerUser { Subject = "ama", Name = "Ama Owusu", Email = "ama@courier.example", Admin = true } });
        var ama = As(partnerId, "ama");
        Assert.True((await ama.GetMyPartnerAsync(new GetMyPartnerRequest())).Me.Admin);
        Assert.Equal("Swift Courier", (await ama.GetMyPartnerAsync(new GetMyPartnerRequest())).Partner.Name);

        await ama.AddMyUserAsync(new AddMyUserRequest { User = new PartnerUser { Subject = "ben", Name = "Ben Asante" } });
        var ben = As(partnerId, "ben");
        Assert.Single((await ben.ListMyReportsAsync(new ListMyReportsRequest())).Reports);
        // Ben is no admin: he may read, not change the webhook or the users.
        var refused = await Assert.ThrowsAsync<RpcException>(() => ben.SetMyWebhookAsync(new SetMyWebhookRequest()).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Equal("NOT_PARTNER_ADMIN", RpcErrors.Reason(refused));
        await Assert.ThrowsAsync<RpcException>(() => ben.ListMyUsersAsync(new ListMyUsersRequest()).ResponseAsync);

        var badUser = await Assert.ThrowsAsync<RpcException>(() => ama.AddMyUserAsync(new AddMyUserRequest { User = new PartnerUser { Subject = " padded", Name = "", Email = "not-mail" } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badUser.StatusCode);
        Assert.Equal(["user.email", "user.name", "user.subject"], RpcErrors.Fields(badUser).Order(StringComparer.Ordinal));
        var self = await Assert.ThrowsAsync<RpcException>(() => ama.RemoveMyUserAsync(new RemoveMyUserRequest { Subject = "ama" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, self.StatusCode);

        var removed = (await ama.RemoveMyUserAsync(new RemoveMyUserRequest { Subject = "ben" })).User;
        Assert.NotNull(removed.RemovedAt);
        var gone = await Assert.ThrowsAsync<RpcException>(() => ben.GetMyReportAsync(new GetMyReportRequest { ReportId = report.ReportId }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, gone.StatusCode);
        Assert.Equal(["ama", "ben"], (await ama.ListMyUsersAsync(new ListMyUsersRequest())).Users.Select(u => u.Subject));
        var missing = await Assert.ThrowsAsync<RpcException>(() => ama.RemoveMyUserAsync(new RemoveMyUserRequest { Subject = "ben" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);

        // Another partner's admin sees its own users only.
        var (otherId, _, _) = await _scenario.ActivePartnerAsync();
        await _admin.AddPartnerUserAsync(new AddPartnerUserRequest { PartnerId = otherId, User = new PartnerUser { Subject = "ama", Name = "Ama at the farm", Admin = true } });
        Assert.Equal(["Ama at the farm"], (await As(otherId, "ama").ListMyUsersAsync(new ListMyUsersRequest())).Users.Select(u => u.Name));
        var unknown = await Assert.ThrowsAsync<RpcException>(() => _admin.AddPartnerUserAsync(new AddPartnerUserRequest { PartnerId = "no-such-partner", User = new PartnerUser { Subject = "x", Name = "X" } }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_partner_assesses_itself_and_sees_its_history_beside_the_cx_team_s()
    {
        var (partnerId, _, _) = await _scenario.ActivePartnerAsync();
        var partner = As(partnerId, "lucia");
        var questionnaire = (await partner.GetMyQuestionnaireAsync(new GetMyQuestionnaireRequest())).Questionnaire;
        var missing = await Assert.ThrowsAsync<RpcException>(() => partner.RecordMyAssessmentAsync(new RecordMyAssessmentRequest { QuestionnaireVersion = questionnaire.Version }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, missing.StatusCode);
        Assert.Contains("answers", RpcErrors.Fields(missing));

        var answers = questionnaire.Questions.ToDictionary(q => q.Key, _ => 4);
        await _admin.RecordAssessmentAsync(new RecordAssessmentRequest { PartnerId = partnerId, QuestionnaireVersion = questionnaire.Version, Answers = { answers } });
        var mine = (await partner.RecordMyAssessmentAsync(new RecordMyAssessmentRequest { QuestionnaireVersion = questionnaire.Version, Answers = { answers }, Notes = "After the joint review" })).Assessment;
        Assert.Equal((true, "lucia", 75.0), (mine.SelfAssessed, mine.AssessedBy, mine.Score));
        var history = (await partner.ListMyAssessmentsAsync(new ListMyAssessmentsRequest())).Assessments;
        Assert.Equal([false, true], history.Select(a => a.SelfAssessed));
        Assert.Empty((await As("someone-else", "x").ListMyAssessmentsAsync(new ListMyAssessmentsRequest())).Assessments);
    }
}
