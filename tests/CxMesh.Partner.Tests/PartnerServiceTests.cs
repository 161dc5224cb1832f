using System.Text;
using CxMesh.Events.V1;
using CxMesh.Governance.V1;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Partner.Tests;

public sealed class PartnerFixture : IAsyncLifetime
{
    public CxMeshTestHost Host { get; private set; } = null!;

    // Partner with governance (which approves its agreements), events delivered in process as all-in-one does.
    public async Task InitializeAsync() => Host = await CxMeshTestHost.StartAsync(s =>
    {
        s.Services = "partner,governance";
        s.Settings["CxMesh:Delivery"] = "InProcess";
    });

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public sealed class PartnerServiceTests(PartnerFixture fixture) : IClassFixture<PartnerFixture>
{
    private readonly PartnerService.PartnerServiceClient _admin = fixture.Host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);
    private readonly PartnerScenario _scenario = new(fixture);
    private static string Day(int offset) => PartnerScenario.Day(offset);
    private static string Unique(string name) => PartnerScenario.Unique(name);
    private ServiceDatabase Database => _scenario.Database;
    private Task DeliverAsync<TEvent>(EventTopic<TEvent> topic, string eventId, TEvent evt) where TEvent : IMessage<TEvent>, new() => _scenario.DeliverAsync(topic, eventId, evt);
    private static FeedbackReceived Feedback(string product, string lot, int nps, string verbatim = "", string customer = "", int daysAgo = 1) =>
        PartnerScenario.Feedback(product, lot, nps, verbatim, customer, daysAgo);
    private Task<(string PartnerId, string Product, Agreement Agreement)> ActivePartnerAsync(PartnerKind kind = PartnerKind.Producer, int k = 3) =>
        _scenario.ActivePartnerAsync(kind, k);
    private static Task<string> DownloadAsync(PartnerService.PartnerServiceClient client, string reportId, ReportFormat format) =>
        PartnerScenario.DownloadAsync(client, reportId, format);

    [Fact]
    public async Task Matched_feedback_is_copied_with_only_the_agreed_fields_and_reported_with_everything_under_k_suppressed()
    {
        var (partnerId, product, agreement) = await ActivePartnerAsync();
        for (var i = 0; i < 8; i++) await DeliverAsync(Topics.FeedbackReceived, $"e{i}-{partnerId}", Feedback(product, "lot-a", i < 6 ? 10 : 2, $"Fresh beans {i}", customer: $"cust-{i}"));
        await DeliverAsync(Topics.FeedbackReceived, $"e8-{partnerId}", Feedback(product, "lot-b", 9, "Lovely"));
        await DeliverAsync(Topics.FeedbackReceived, $"e9-{partnerId}", Feedback("sku-not-mapped", "lot-a", 0, "Not theirs"));

        await using (var connection = await Database.OpenConnectionAsync())
        {
            Assert.Equal(9, await connection.ExecuteScalarAsync<long>("select count(*) from partner_items where partner_id = @partnerId", new { partnerId }));
            // Scoring learns the mapping, to score feedback by partner.
            Assert.Equal(1, await connection.ExecuteScalarAsync<long>(
                "select count(*) from outbox where topic = 'partner.mapping.changed.v1' and payload like @p", new { p = $"%{partnerId}%" }));
            // The customer id itself is never stored with the copy, only a hash to honour erasures.
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from partner_items where customer_ref like 'cust-%'"));
        }

        var report = (await _admin.PublishReportAsync(new PublishReportRequest { PartnerId = partnerId, StartDate = Day(-7), EndDate = Day(0) })).Report;
        Assert.Equal((9L, 3, agreement.AgreementId, 1), (report.Items, report.MinGroupSize, report.AgreementId, report.AgreementVersion));
        Assert.Equal(100.0 * (7 - 2) / 9, report.Nps.Value, 9);
        Assert.False(report.Nps.Suppressed);
        Assert.True(report.Csat.Suppressed);
        var lotB = report.Breakdowns.Single(b => b.Value == "lot-b");
        Assert.True(lotB.Suppressed);
        Assert.Equal(0, lotB.N);
        // Lot A (8) is hidden as well: the product's 9 minus lot A's 8 would give lot B.
        Assert.True(report.Breakdowns.Single(b => b.Value == "lot-a").Suppressed);
        Assert.Equal(9, report.Breakdowns.Single(b => b.Dimension == "product").N);
        Assert.Equal("freshness", report.Themes.Single().ThemeKey);
        Assert.Equal(9, report.SampleVerbatims.Count);
        Assert.DoesNotContain("Not theirs", report.SampleVerbatims);
        Assert.Equal("", report.PeerBand);
        Assert.Equal(64, report.ContentHash.Length);

        await using var db = await Database.OpenConnectionAsync();
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("select count(*) from reports where report_id = @id::uuid and content_hash = @hash",
            new { id = report.ReportId, hash = report.ContentHash }));
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("select count(*) from outbox where topic = 'partner.report.published.v1' and payload like @id",
            new { id = $"%{report.ReportId}%" }));
        // The ledger names every item the report disclosed.
        Assert.Equal(9, await db.ExecuteScalarAsync<long>("select cardinality(feedback_ids) from report_items where report_id = @id::uuid", new { id = report.ReportId }));

        // The partner reads it, and downloads it as CSV and HTML.
        var partner = fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>(partnerId);
        Assert.Equal(report.ReportId, (await partner.ListMyReportsAsync(new ListMyReportsRequest())).Reports.Single().ReportId);
        Assert.Equal(report.Nps.Value, (await partner.GetMyReportAsync(new GetMyReportRequest { ReportId = report.ReportId })).Report.Nps.Value);
        var csv = await DownloadAsync(partner, report.ReportId, ReportFormat.Csv);
        Assert.Equal(10, csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("Fresh beans 3", csv);
        Assert.DoesNotContain("cust-", csv);
        var html = await DownloadAsync(partner, report.ReportId, ReportFormat.Html);
        Assert.StartsWith("<!doctype html>", html);
        Assert.Contains("<svg", html);
        Assert.Contains("name=viewport", html);
    }

    [Fact]
    public async Task Downloads_of_many_chunks_keep_every_character_whole_and_list_the_shown_themes()
    {
        // A kind of its own: another producer would become the peers of the producers of the other tests.
        var (partnerId, product, _) = await ActivePartnerAsync(PartnerKind.Reseller);
        // Characters outside the BMP (surrogate pairs in .NET strings) across several 64 KiB chunks: a pair split between
        // two chunks of the renderer's text must still be one character in the bytes.
        var verbatim = string.Concat(Enumerable.Repeat("豆 ☕ 😀 fresh ", 60));
        for (var i = 0; i < 200; i++) await DeliverAsync(Topics.FeedbackReceived, $"big{i}-{partnerId}", Feedback(product, "lot-a", i % 11, $"{i} {verbatim}"));
        var report = (await _admin.PublishReportAsync(new PublishReportRequest { PartnerId = partnerId, StartDate = Day(-7), EndDate = Day(0) })).Report;
        var partner = fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>(partnerId);
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        foreach (var format in new[] { ReportFormat.Csv, ReportFormat.Html })
        {
            using var call = partner.DownloadMyReport(new DownloadMyReportRequest { ReportId = report.ReportId, Format = format });
            var bytes = new List<byte>();
            var chunks = 0;
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                bytes.AddRange(chunk.Chunk);
                chunks++;
            }
            Assert.True(chunks > 2, $"{format}: {chunks} chunks");
            var text = strict.GetString(bytes.ToArray());
            Assert.DoesNotContain('\uFFFD', text);
            if (format == ReportFormat.Csv)
            {
                Assert.Equal(200 * 60, text.Split("😀").Length - 1);
                var rows = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
                Assert.Equal(201, rows.Length);
                Assert.All(rows.Skip(1), row => Assert.Contains(",freshness,", row));
            }
        }
    }

    [Fact]
    public async Task A_preview_shows_the_figures_a_publication_would_and_records_publishes_and_sends_nothing()
    {
        var (partnerId, product, _) = await ActivePartnerAsync();
        for (var i = 0; i < 5; i++) await DeliverAsync(Topics.FeedbackReceived, $"pv{i}-{partnerId}", Feedback(product, "lot-a", i < 4 ? 10 : 3, $"Preview {i}"));
        var request = new PublishReportRequest { PartnerId = partnerId, StartDate = Day(-7), EndDate = Day(0), ValidateOnly = true };

        var preview = (await _admin.PublishReportAsync(request)).Report;
        Assert.Equal(5L, preview.Items);
        Assert.Equal(100.0 * (4 - 1) / 5, preview.Nps.Value, 9);
        await using (var db = await Database.OpenConnectionAsync())
        {
            Assert.Equal(0, await db.ExecuteScalarAsync<long>("select count(*) from reports where partner_id = @partnerId", new { partnerId }));
            Assert.Equal(0, await db.ExecuteScalarAsync<long>("select count(*) from outbox where topic = 'partner.report.published.v1' and payload like @p", new { p = $"%{partnerId}%" }));
        }
        var partner = fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>(partnerId);
        Assert.Empty((await partner.ListMyReportsAsync(new ListMyReportsRequest())).Reports);

        // A preview can be asked again; the publication that follows shows the same figures.
        Assert.Equal(preview.Nps.Value, (await _admin.PublishReportAsync(request)).Report.Nps.Value);
        request.ValidateOnly = false;
        var published = (await _admin.PublishReportAsync(request)).Report;
        Assert.Equal((preview.Items, preview.Nps.Value), (published.Items, published.Nps.Value));
        // Once the period is reported, its preview is refused as the publication would be.
        request.ValidateOnly = true;
        var refused = await RpcAssert.StatusAsync(() => _admin.PublishReportAsync(request).ResponseAsync, StatusCode.FailedPrecondition);
        Assert.Contains(published.ReportId, refused.Status.Detail);
    }

    [Fact]
    public async Task A_partner_only_ever_sees_its_own_data_every_other_id_is_NOT_FOUND()
    {
        var (a, productA, _) = await ActivePartnerAsync();
        var (b, productB, _) = await ActivePartnerAsync();
        for (var i = 0; i < 4; i++)
        {
            await DeliverAsync(Topics.FeedbackReceived, $"iso-a{i}-{a}", Feedback(productA, "lot", 9, "fine"));
            await DeliverAsync(Topics.FeedbackReceived, $"iso-b{i}-{b}", Feedback(productB, "lot", 3, "bad"));
        }
        var reportB = (await _admin.PublishReportAsync(new PublishReportRequest { PartnerId = b, StartDate = Day(-7), EndDate = Day(0) })).Report;
        var itemB = await (await Database.OpenConnectionAsync()).ExecuteScalarAsync<Guid>("select feedback_id from partner_items where partner_id = @b limit 1", new { b });
        var asA = fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>(a);

        await RpcAssert.StatusAsync(() => asA.GetMyReportAsync(new GetMyReportRequest { ReportId = reportB.ReportId }).ResponseAsync, StatusCode.NotFound);
        await RpcAssert.StatusAsync(() => DownloadAsync(asA, reportB.ReportId, ReportFormat.Csv), StatusCode.NotFound);
        await RpcAssert.StatusAsync(() => asA.SubmitResponseAsync(new SubmitResponseRequest { ReportId = reportB.ReportId, Kind = ResponseKind.Acknowledgement }).ResponseAsync, StatusCode.NotFound);
        await RpcAssert.StatusAsync(() => asA.SubmitResponseAsync(new SubmitResponseRequest
        {
            ReportId = reportB.ReportId,
            Kind = ResponseKind.Dispute,
            FeedbackId = itemB.ToString(),
            Text = "not ours",
        }).ResponseAsync, StatusCode.NotFound);
        Assert.Empty((await asA.ListMyReportsAsync(new ListMyReportsRequest())).Reports);
        Assert.Equal(a, (await asA.GetMyAgreementAsync(new GetMyAgreementRequest())).Agreement.PartnerId);
        // The chunked HTTP download answers the same way.
        var http = fixture.Host.Http();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", fixture.Host.Token(Roles.Partner, a));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync($"/v1/me/reports/{reportB.ReportId}/download?format=csv")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", fixture.Host.Token(Roles.Partner, b));
        var own = await http.GetAsync($"/v1/me/reports/{reportB.ReportId}/download?format=csv");
        Assert.Equal("text/csv", own.Content.Headers.ContentType?.MediaType);
        Assert.Equal(5, (await own.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
        // And no partner reaches the admin side.
        await RpcAssert.StatusAsync(() => asA.GetPartnerAsync(new GetPartnerRequest { Id = b }).ResponseAsync, StatusCode.PermissionDenied);
    }

    [Fact]
    public async Task Partners_acknowledge_dispute_and_commit_and_each_answer_is_published()
    {
        var (partnerId, product, _) = await ActivePartnerAsync();
        for (var i = 0; i < 3; i++) await DeliverAsync(Topics.FeedbackReceived, $"r{i}-{partnerId}", Feedback(product, "lot", 4, "stale"));
        var report = (await _admin.PublishReportAsync(new PublishReportRequest { PartnerId = partnerId, StartDate = Day(-7), EndDate = Day(0) })).Report;
        var item = await (await Database.OpenConnectionAsync()).ExecuteScalarAsync<Guid>("select feedback_id from partner_items where partner_id = @partnerId limit 1", new { partnerId });
        var partner = fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>(partnerId);

        await partner.SubmitResponseAsync(new SubmitResponseRequest { ReportId = report.ReportId, Kind = ResponseKind.Acknowledgement, Text = "Thanks" });
        await partner.SubmitResponseAsync(new SubmitResponseRequest { ReportId = report.ReportId, Kind = ResponseKind.Dispute, FeedbackId = item.ToString(), Text = "Wrong lot" });
        var commitment = await partner.SubmitResponseAsync(new SubmitResponseRequest
        {
            ReportId = report.ReportId,
            Kind = ResponseKind.Commitment,
            Text = "Roast closer to shipping",
            Owner = "Head roaster",
            DueDate = Day(30),
        });
        await partner.SubmitResponseAsync(new SubmitResponseRequest { ReportId = report.ReportId, Kind = ResponseKind.Commitment, ResponseId = commitment.ResponseId, Status = "done" });

        await RpcAssert.InvalidArgumentAsync(() => partner.SubmitResponseAsync(new SubmitResponseRequest
        {
            ReportId = report.ReportId,
            Kind = ResponseKind.Commitment,
            Text = "Late",
            Owner = "x",
            DueDate = Day(-1),
        }).ResponseAsync, "due_date");
        await RpcAssert.InvalidArgumentAsync(() => partner.SubmitResponseAsync(new SubmitResponseRequest { ReportId = report.ReportId, Kind = ResponseKind.Dispute, Text = "" }).ResponseAsync, "text");
        await RpcAssert.StatusAsync(() => partner.SubmitResponseAsync(new SubmitResponseRequest
        {
            ReportId = report.ReportId,
            Kind = ResponseKind.Dispute,
            FeedbackId = Guid.NewGuid().ToString(),
            Text = "unknown item",
        }).ResponseAsync, StatusCode.NotFound);

        await using var connection = await Database.OpenConnectionAsync();
        Assert.Equal(4, await connection.ExecuteScalarAsync<long>(
            "select count(*) from outbox where topic = 'partner.response.received.v1' and payload like @id", new { id = $"%{report.ReportId}%" }));
        Assert.Equal("done", await connection.ExecuteScalarAsync<string>("select status from responses where response_id = @id::uuid", new { id = commitment.ResponseId }));
    }

    [Fact]
    public async Task A_new_version_of_an_active_agreement_needs_approval_again_and_then_supersedes_it()
    {
        var (partnerId, product, v1) = await ActivePartnerAsync();
        var proposal = v1.Clone();
        proposal.MinGroupSize = 10;
        var v2 = (await _admin.ProposeAgreementAsync(new ProposeAgreementRequest { Agreement = proposal })).Agreement;
        Assert.Equal((2, AgreementState.Draft), (v2.Version, v2.State));
        var partner = fixture.Host.PartnerClient<PartnerService.PartnerServiceClient>(partnerId);
        Assert.Equal(1, (await partner.GetMyAgreementAsync(new GetMyAgreementRequest())).Agreement.Version);

        // A draft is not governance's to decide: it has to be submitted first.
        var governance = fixture.Host.Client<GovernanceService.GovernanceServiceClient>();
        await RpcAssert.StatusAsync(() => governance.DecideSharingAsync(new DecideSharingRequest { AgreementId = v2.AgreementId, Version = 2, Approved = true }).ResponseAsync,
            StatusCode.NotFound);
        await _admin.SubmitAgreementAsync(new SubmitAgreementRequest { AgreementId = v2.AgreementId, Version = 2 });
        await SharingApprovals.DecideAsync(fixture.Host, v2.AgreementId, 2);
        await Eventually.Until(async () => (await partner.GetMyAgreementAsync(new GetMyAgreementRequest())).Agreement.Version, v => v == 2);
        Assert.Equal(AgreementState.Superseded, (await _admin.GetAgreementAsync(new GetAgreementRequest { AgreementId = v1.AgreementId, Version = 1 })).Agreement.State);
        _ = product;
    }

    [Fact]
    public async Task Erasure_removes_the_verbatims_of_the_customer_from_partner_copies_and_is_recorded()
    {
        var (partnerId, product, _) = await ActivePartnerAsync();
        await DeliverAsync(Topics.FeedbackReceived, $"er1-{partnerId}", Feedback(product, "lot", 9, "Call me, I am Jane", customer: $"erase-{partnerId}"));
        await DeliverAsync(Topics.FeedbackReceived, $"er2-{partnerId}", Feedback(product, "lot", 9, "Someone else", customer: $"keep-{partnerId}"));
        var erased = new FeedbackErased { EventId = Guid.NewGuid().ToString(), OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow), CustomerId = $"erase-{partnerId}" };
        await DeliverAsync(Topics.FeedbackErased, erased.EventId, erased);

        await using var connection = await Database.OpenConnectionAsync();
        var verbatims = (await connection.QueryAsync<string?>("select redacted_verbatim from partner_items where partner_id = @partnerId order by redacted_verbatim nulls first", new { partnerId })).ToList();
        Assert.Equal([null, "Someone else"], verbatims);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("select count(*) from partner_items where partner_id = @partnerId and erased_at is not null", new { partnerId }));
    }

    [Fact]
    public async Task A_re_tag_replaces_the_themes_of_partner_copies_and_a_late_older_one_does_not()
    {
        var (partnerId, product, _) = await ActivePartnerAsync();
        var item = Feedback(product, "lot", 3, "Stale beans, tasted burnt");
        await DeliverAsync(Topics.FeedbackReceived, item.EventId, item);
        FeedbackRetagged Retag(long version, params (string Key, double Score)[] themes)
        {
            var evt = new FeedbackRetagged { EventId = $"{item.FeedbackId}/v{version}", OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow), FeedbackId = item.FeedbackId, TaxonomyVersion = version };
            foreach (var (key, score) in themes) evt.Themes.Add(new CxMesh.Common.V1.ThemeMention { ThemeKey = key, SentimentScore = score });
            return evt;
        }
        await DeliverAsync(Topics.FeedbackRetagged, $"{item.FeedbackId}/v3", Retag(3, ("freshness", -0.6), ("roast-level", -0.7)));
        await DeliverAsync(Topics.FeedbackRetagged, $"{item.FeedbackId}/v2", Retag(2, ("packaging", 0.9)));

        await using var connection = await Database.OpenConnectionAsync();
        var themes = await connection.QuerySingleAsync<string>("select themes::text from partner_items where partner_id = @partnerId", new { partnerId });
        Assert.Equal(["freshness", "roast-level"], System.Text.Json.JsonDocument.Parse(themes).RootElement.EnumerateArray().Select(t => t.GetProperty("key").GetString()!).ToArray());
    }

    [Fact]
    public async Task A_removed_mapping_no_longer_brings_feedback_to_the_partner_and_scoring_is_told()
    {
        var (partnerId, product, _) = await ActivePartnerAsync();
        await DeliverAsync(Topics.FeedbackReceived, $"before-{partnerId}", Feedback(product, "lot", 9, "before"));
        var listed = (await _admin.ListMappingsAsync(new ListMappingsRequest { PartnerId = partnerId })).Mappings.Single();
        Assert.Equal((partnerId, MappingKind.Product, product), (listed.PartnerId, listed.Kind, listed.Value));
        await _admin.RemoveMappingAsync(new RemoveMappingRequest { Mapping = new Mapping { PartnerId = partnerId, Kind = MappingKind.Product, Value = product } });
        await DeliverAsync(Topics.FeedbackReceived, $"after-{partnerId}", Feedback(product, "lot", 9, "after"));
        await RpcAssert.StatusAsync(() => _admin.RemoveMappingAsync(new RemoveMappingRequest
        {
            Mapping = new Mapping { PartnerId = partnerId, Kind = MappingKind.Product, Value = product },
        }).ResponseAsync, StatusCode.NotFound);

        await using var connection = await Database.OpenConnectionAsync();
        Assert.Equal(["before"], await connection.QueryAsync<string>("select redacted_verbatim from partner_items where partner_id = @partnerId", new { partnerId }));
        Assert.Empty((await _admin.ListMappingsAsync(new ListMappingsRequest { PartnerId = partnerId })).Mappings);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>(
            "select count(*) from outbox where topic = 'partner.mapping.changed.v1' and payload like @p and payload not like '%\"mapped\": true%'", new { p = $"%{partnerId}%" }));
    }

    [Fact]
    public async Task Copies_older_than_the_agreement_s_retention_are_deleted()
    {
        var (partnerId, product, _) = await ActivePartnerAsync();
        await DeliverAsync(Topics.FeedbackReceived, $"old-{partnerId}", Feedback(product, "lot", 9, "old", daysAgo: 400));
        await DeliverAsync(Topics.FeedbackReceived, $"new-{partnerId}", Feedback(product, "lot", 9, "new", daysAgo: 3));
        await fixture.Host.Services.GetRequiredService<Data.ReportStore>().PurgeExpiredAsync(default);
        await using var connection = await Database.OpenConnectionAsync();
        Assert.Equal(["new"], await connection.QueryAsync<string>("select redacted_verbatim from partner_items where partner_id = @partnerId", new { partnerId }));
    }

    [Fact]
    public async Task A_period_without_data_gives_an_empty_report_not_an_error()
    {
        var (partnerId, _, _) = await ActivePartnerAsync();
        var report = (await _admin.PublishReportAsync(new PublishReportRequest { PartnerId = partnerId, StartDate = Day(-60), EndDate = Day(-31) })).Report;
        Assert.Equal(0, report.Items);
        Assert.True(report.Nps.Suppressed);
        Assert.Empty(report.Breakdowns);
        Assert.Empty(report.SampleVerbatims);
    }

    public static TheoryData<string, string> BadRequests => new()
    {
        { "agreement without scope", "agreement.scope" },
        { "k of 1", "agreement.min_group_size" },
        { "invalid cron", "agreement.cadence" },
        { "no fields", "agreement.fields" },
        { "plain http webhook", "partner.webhook_url" },
        { "webhook to a private address", "partner.webhook_url" },
        { "webhook to NAT64 metadata", "partner.webhook_url" },
        { "webhook to IPv4-compatible loopback", "partner.webhook_url" },
        { "webhook to 6to4 loopback", "partner.webhook_url" },
        { "webhook to the metadata service", "partner.webhook_url" },
        { "webhook to localhost", "partner.webhook_url" },
        { "partner without a kind", "partner.kind" },
        { "report ending in the future", "end_date" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_is_INVALID_ARGUMENT_naming_the_field(string how, string field)
    {
        Agreement Proposal() => new()
        {
            PartnerId = "farm-x",
            Scope = { new Mapping { Kind = MappingKind.Product, Value = "sku-1" } },
            Fields = { SharedField.Ratings },
            MinGroupSize = 5,
            Cadence = "0 6 1 * *",
            RetentionDays = 30,
        };
        V1.Partner Partner(string webhook = "") => new() { Id = Unique("bad"), Name = "Bad", Kind = PartnerKind.Supplier, WebhookUrl = webhook };
        Func<Task> call = how switch
        {
            "agreement without scope" => () => _admin.ProposeAgreementAsync(new ProposeAgreementRequest { Agreement = Change.With(Proposal(), a => a.Scope.Clear()) }).ResponseAsync,
            "k of 1" => () => _admin.ProposeAgreementAsync(new ProposeAgreementRequest { Agreement = Change.With(Proposal(), a => a.MinGroupSize = 1) }).ResponseAsync,
            "invalid cron" => () => _admin.ProposeAgreementAsync(new ProposeAgreementRequest { Agreement = Change.With(Proposal(), a => a.Cadence = "every monday") }).ResponseAsync,
            "no fields" => () => _admin.ProposeAgreementAsync(new ProposeAgreementRequest { Agreement = Change.With(Proposal(), a => a.Fields.Clear()) }).ResponseAsync,
            "plain http webhook" => () => _admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = Partner("http://example.com/hook") }).ResponseAsync,
            "webhook to a private address" => () => _admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = Partner("https://10.0.0.7/hook") }).ResponseAsync,
            "webhook to NAT64 metadata" => () => _admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = Partner("https://[64:ff9b::a9fe:a9fe]/hook") }).ResponseAsync,
            "webhook to IPv4-compatible loopback" => () => _admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = Partner("https://[::127.0.0.1]/hook") }).ResponseAsync,
            "webhook to 6to4 loopback" => () => _admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = Partner("https://[2002:7f00:1::]/hook") }).ResponseAsync,
            "webhook to the metadata service" => () => _admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = Partner("https://169.254.169.254/latest") }).ResponseAsync,
            "webhook to localhost" => () => _admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = Partner("https://localhost/hook") }).ResponseAsync,
            "partner without a kind" => () => _admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = Change.With(Partner(), p => p.Kind = PartnerKind.Unspecified) }).ResponseAsync,
            "report ending in the future" => () => _admin.PublishReportAsync(new PublishReportRequest { PartnerId = "farm-x", StartDate = Day(-3), EndDate = Day(2) }).ResponseAsync,
            _ => throw new ArgumentOutOfRangeException(nameof(how)),
        };
        await RpcAssert.InvalidArgumentAsync(call, field);
    }


    [Fact]
    public async Task Unknown_partners_are_NOT_FOUND_and_a_partner_registered_twice_ALREADY_EXISTS()
    {
        await RpcAssert.StatusAsync(() => _admin.GetPartnerAsync(new GetPartnerRequest { Id = "nobody" }).ResponseAsync, StatusCode.NotFound);
        await RpcAssert.StatusAsync(() => _admin.AddMappingAsync(new AddMappingRequest
        {
            Mapping = new Mapping { PartnerId = "nobody", Kind = MappingKind.Lot, Value = "lot-1" },
        }).ResponseAsync, StatusCode.NotFound);
        await RpcAssert.StatusAsync(() => _admin.PublishReportAsync(new PublishReportRequest { PartnerId = "nobody", StartDate = Day(-3), EndDate = Day(0) }).ResponseAsync, StatusCode.NotFound);
        var id = Unique("twice");
        await _admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = new V1.Partner { Id = id, Name = "Twice", Kind = PartnerKind.Logistics } });
        await RpcAssert.StatusAsync(() => _admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = new V1.Partner { Id = id, Name = "Twice", Kind = PartnerKind.Logistics } }).ResponseAsync,
            StatusCode.AlreadyExists);
        // No agreement yet: nothing can be shared.
        await RpcAssert.StatusAsync(() => _admin.PublishReportAsync(new PublishReportRequest { PartnerId = id, StartDate = Day(-3), EndDate = Day(0) }).ResponseAsync, StatusCode.FailedPrecondition);
    }

    [Fact]
    public async Task The_peer_band_places_a_partner_among_three_or_more_peers_of_its_kind_without_naming_them()
    {
        var kind = PartnerKind.ServiceProvider;
        var partners = new List<(string Id, string Product)>();
        for (var p = 0; p < 4; p++)
        {
            var (id, product, _) = await ActivePartnerAsync(kind);
            partners.Add((id, product));
            for (var i = 0; i < 4; i++) await DeliverAsync(Topics.FeedbackReceived, $"peer{p}{i}-{id}", Feedback(product, "lot", i < p + 1 ? 10 : 0));
        }
        var best = (await _admin.PublishReportAsync(new PublishReportRequest { PartnerId = partners[3].Id, StartDate = Day(-7), EndDate = Day(0) })).Report;
        Assert.Equal("top quartile", best.PeerBand);
        var json = JsonFormatter.Default.Format(best);
        Assert.DoesNotContain(partners[0].Id, json);
        Assert.DoesNotContain(partners[0].Product, json);
    }
}
