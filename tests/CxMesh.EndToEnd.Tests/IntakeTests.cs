using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Scoring.V1;
using CxMesh.TestKit;
using Google.Protobuf;
using Grpc.Core;

namespace CxMesh.EndToEnd.Tests;

/// <summary>
/// What a CX programme brings in on its first day, through the one binary: two survey tools' exports with history and
/// bad rows, imported as exported, scored on the days they were given; then a complaint without a rating.
/// </summary>
public sealed class IntakeTests : IAsyncLifetime
{
    private CxMeshTestHost _host = null!;

    private const string Token = TestHostSettings.SourceToken;
    private const string ZendeskSecret = TestHostSettings.ZendeskSecret;

    public async Task InitializeAsync() => _host = await CxMeshTestHost.StartAsync(s => s.ShippedConnectors());

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<ImportFeedbackCsvResponse> ImportAsync(CsvImportOptions options, byte[] file)
    {
        var client = _host.Client<FeedbackService.FeedbackServiceClient>();
        using var call = client.ImportFeedbackCsv(deadline: DateTime.UtcNow.AddMinutes(2));
        await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Options = options });
        await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = ByteString.CopyFrom(file) });
        await call.RequestStream.CompleteAsync();
        ImportFeedbackCsvResponse? last = null;
        await foreach (var response in call.ResponseStream.ReadAllAsync()) last = response;
        return last!;
    }

    [Fact]
    public async Task The_demo_survey_registers_attribute_questions_and_key_drivers_rank_them_from_their_ratings()
    {
        var feedback = _host.Client<FeedbackService.FeedbackServiceClient>();
        foreach (var question in CxMesh.Cli.DemoData.AttributeQuestions) await feedback.RegisterQuestionAsync(new RegisterQuestionRequest { Question = question });
        var anchor = DateOnly.FromDateTime(DateTime.UtcNow);
        // A customer saying the same thing again counts once: only first sayings are scored.
        var items = new List<SubmitFeedbackRequest>();
        foreach (var item in CxMesh.Cli.DemoData.Generate(anchor, 400))
        {
            if ((await feedback.SubmitFeedbackAsync(item)).Item.DuplicateOf.Length == 0) items.Add(item);
        }

        var scoring = _host.Client<ScoringService.ScoringServiceClient>();
        var window = new Window { Range = new DateRange { StartDate = anchor.AddDays(-30).ToString("yyyy-MM-dd"), EndDate = anchor.ToString("yyyy-MM-dd") } };
        var rated = items.Count(i => i.Ratings.Any(r => r.QuestionId == "delivery-speed"));
        var model = await Eventually.Until(() => scoring.GetKeyDriversAsync(new GetKeyDriversRequest
        {
            Window = window,
            Outcome = Outcome.NpsRating,
            DriverKind = DriverKind.AttributeRating,
        }).ResponseAsync, m => m.Drivers.Count == 3 && m.Drivers.Single(d => d.QuestionId == "delivery-speed").Mentions == rated, because: "the demo's attribute ratings are scored");
        Assert.Equal("delivery-speed", model.Drivers[0].QuestionId);
        Assert.True(model.Drivers[0].Significant);
        Assert.Equal(items.Count(i => i.Ratings.Any(r => r.QuestionId == "app-ease")), model.N);
        Assert.False(model.Drivers.Single(d => d.QuestionId == "app-ease").Significant, "the app's ease is rated at random");
    }

    [Fact]
    public async Task Two_survey_tools_exports_with_history_import_as_exported_and_score_as_recomputed_and_an_unrated_complaint_is_heard()
    {
        // Each tool's mapping is stored once as a profile; each monthly export then imports by the profile's name alone.
        var feedback = _host.Client<FeedbackService.FeedbackServiceClient>();
        await feedback.PutImportProfileAsync(new PutImportProfileRequest
        {
            Profile = new ImportProfile
            {
                Name = "qualtrics-nps",
                Options = new CsvImportOptions
                {
                    SourceSystem = "qualtrics-nps",
                    DefaultChannel = Channel.Survey,
                    Columns =
            {
                ["rating:nps"] = "QID1",
                ["verbatim"] = "Q2",
                ["rating:csat"] = "How satisfied were you with your last delivery? - Delivery",
                ["customer_id"] = "ExternalReference",
            },
                }
            }
        });
        await feedback.PutImportProfileAsync(new PutImportProfileRequest
        {
            Profile = new ImportProfile
            {
                Name = "monkey-nps",
                Options = new CsvImportOptions
                {
                    SourceSystem = "monkey-nps",
                    DefaultChannel = Channel.Survey,
                    Columns =
            {
                ["rating:nps"] = "How likely is it that you would recommend Hillside Coffee to a friend or colleague?",
                ["verbatim"] = "What is the main reason for your score?",
                ["customer_id"] = "Custom Data 1",
            },
                }
            }
        });
        var qualtrics = await ImportAsync(new CsvImportOptions { Profile = "qualtrics-nps" }, RepoFiles.Sample("qualtrics-export.csv"));
        Assert.Equal((HeaderLayout.Qualtrics, 5L, 3L), (qualtrics.HeaderLayout, qualtrics.Stored, qualtrics.Rejected));
        var monkey = await ImportAsync(new CsvImportOptions { Profile = "monkey-nps" }, RepoFiles.Sample("surveymonkey-export.csv"));
        Assert.Equal((HeaderLayout.Surveymonkey, 3L, 2L), (monkey.HeaderLayout, monkey.Stored, monkey.Rejected));

        // The accepted rows' NPS answers, read off the samples by hand: Qualtrics 9, 3, 10, 6 (R_4 has none);
        // SurveyMonkey 10, 2, 8. Promoters 3, passives 1, detractors 3 of 7.
        int[] accepted = [9, 3, 10, 6, 10, 2, 8];
        var promoters = accepted.Count(v => v >= 9);
        var detractors = accepted.Count(v => v <= 6);
        var scoring = _host.Client<ScoringService.ScoringServiceClient>();
        var since2023 = new Window { Range = new DateRange { StartDate = "2023-11-01", EndDate = DateTime.UtcNow.ToString("yyyy-MM-dd") } };
        var score = await Eventually.Until(async () => (await scoring.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Window = since2023 })).Score,
            s => s.N == accepted.Length, because: "every accepted rating is scored");
        Assert.Equal((long)promoters, score.Promoters);
        Assert.Equal((long)detractors, score.Detractors);
        Assert.Equal(100.0 * (promoters - detractors) / accepted.Length, score.Value, 9);

        // Scored on the day it was given: nothing of it in the last year.
        var lastYear = await scoring.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps, Window = new Window { LastDays = 300 } });
        Assert.Equal(0, lastYear.Score.N);
        var byMonth = await scoring.GetTrendAsync(new GetTrendRequest { Metric = Metric.Nps, Window = since2023, Granularity = Granularity.Month });
        Assert.Equal(accepted.Length, byMonth.Points.Sum(p => p.N));
        Assert.Equal(1, byMonth.Points.Single(p => p.StartDate == "2023-11-01").N);

        // History raised no alert; a complaint without a rating today does, and is heard in the voice trend.
        await feedback.SubmitFeedbackAsync(new SubmitFeedbackRequest
        {
            IdempotencyKey = "complaint-without-a-rating",
            Channel = Channel.Complaint,
            Verbatim = "The parcel arrived late and broken, terrible service, I am furious.",
        });
        var alert = (await Eventually.Until(async () => (await scoring.ListAlertsAsync(new ListAlertsRequest())).Alerts, a => a.Count > 0,
            because: "the bitter complaint raises an alert")).Single();
        Assert.Equal(CxMesh.Events.V1.AlertKind.NegativeComplaint, alert.Kind);
        var voice = await Eventually.Until(() => scoring.GetVoiceTrendAsync(new GetVoiceTrendRequest { Window = new Window { LastDays = 7 } }).ResponseAsync,
            v => v.Total.Items == 1, because: "the complaint counts in the voice");
        Assert.Contains(voice.Total.Themes, t => t.ThemeKey == "delivery" && t.NegativeMentions == 1);
        Assert.True(voice.Total.NegativePercent > 99);
        // History with words counts in the voice of its own days: four Qualtrics and two SurveyMonkey comments, and today's complaint.
        var pastVoice = await scoring.GetVoiceTrendAsync(new GetVoiceTrendRequest { Window = since2023, Granularity = Granularity.Month });
        Assert.Equal(7, pastVoice.Total.Items);
    }

    [Fact]
    public async Task A_theme_added_today_reaches_two_years_of_history_in_the_voice_trend_and_key_drivers_and_a_deleted_one_leaves_them()
    {
        var feedback = _host.Client<FeedbackService.FeedbackServiceClient>();
        var analyst = _host.Client<FeedbackService.FeedbackServiceClient>(CxMesh.Platform.Auth.Roles.Analyst);
        var scoring = _host.Client<ScoringService.ScoringServiceClient>();
        var start = DateTime.UtcNow.Date.AddYears(-2);
        for (var i = 0; i < 40; i++)
        {
            // Charred beans go with low scores; the rest of the comments are about something else.
            var charred = i % 2 == 0;
            await feedback.SubmitFeedbackAsync(new SubmitFeedbackRequest
            {
                IdempotencyKey = $"history-{i}",
                Channel = Channel.Survey,
                GivenAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(start.AddDays(i * 17)),
                Ratings = { new Rating { QuestionId = "nps", Value = charred ? i % 3 : 8 + i % 3 } },
                Verbatim = charred ? $"The beans tasted charred and bitter, order {i}" : $"Friendly barista and quick service, visit {i}",
            });
        }
        var window = new Window { Range = new DateRange { StartDate = start.ToString("yyyy-MM-dd"), EndDate = DateTime.UtcNow.ToString("yyyy-MM-dd") } };
        Task<GetVoiceTrendResponse> Voice() => scoring.GetVoiceTrendAsync(new GetVoiceTrendRequest { Window = window, Granularity = Granularity.Month }).ResponseAsync;
        await Eventually.Until(Voice, v => v.Total.Items == 40, because: "the history is scored");
        Assert.DoesNotContain((await Voice()).Total.Themes, t => t.ThemeKey == "roast-level");

        var created = await analyst.CreateThemeAsync(new CreateThemeRequest { Theme = new Theme { Key = "roast-level", Name = "Roast level", Keywords = { "charred" } } });
        Assert.Equal(40, created.Retag.ItemsTotal);
        var voice = await Eventually.Until(Voice, v => v.Total.Themes.Any(t => t.ThemeKey == "roast-level" && t.Mentions == 20),
            because: "the re-tag reaches scoring's sums for every day of the history");
        Assert.Equal(40, voice.Total.Items);
        Assert.Equal(20, voice.Points.Sum(p => p.Themes.SingleOrDefault(t => t.ThemeKey == "roast-level")?.Mentions ?? 0));
        var drivers = await scoring.GetKeyDriversAsync(new GetKeyDriversRequest { Window = window, MinMentions = 1, Outcome = Outcome.NpsRating });
        Assert.Equal(40, drivers.N);
        // Its negative mentions go with the low scores: a strong, significant driver, over the two years' rows.
        var roast = drivers.Drivers.Single(d => d.ThemeKey == "roast-level");
        Assert.True(roast is { Correlation: > 0.5, Significant: true, Mentions: 20, NegativePercent: 100 }, drivers.ToString());
        // As presence, the re-tag moved the sums of its mentions' ratings too: mentioning charred beans goes with detractors.
        Task<GetKeyDriversResponse> Presence(Outcome outcome) => scoring.GetKeyDriversAsync(new GetKeyDriversRequest
        {
            Window = window,
            MinMentions = 1,
            Outcome = outcome,
            DriverKind = DriverKind.ThemePresence,
        }).ResponseAsync;
        Assert.True((await Presence(Outcome.NpsRating)).Drivers.Single(d => d.ThemeKey == "roast-level") is { Correlation: < -0.8, Significant: true, Mentions: 20 });
        Assert.True((await Presence(Outcome.Detractor)).Drivers.Single(d => d.ThemeKey == "roast-level") is { Correlation: > 0.8, Significant: true });
        Assert.True((await Presence(Outcome.Promoter)).Drivers.Single(d => d.ThemeKey == "roast-level").Correlation < 0);

        await analyst.DeleteThemeAsync(new DeleteThemeRequest { Key = "roast-level" });
        voice = await Eventually.Until(Voice, v => v.Total.Themes.All(t => t.ThemeKey != "roast-level"), because: "a deleted theme leaves the sums");
        Assert.Equal(40, voice.Total.Items);
        Assert.Contains(voice.Total.Themes, t => t.ThemeKey == "taste" && t.Mentions == 20); // the other themes stay as they were
        Assert.DoesNotContain((await scoring.GetKeyDriversAsync(new GetKeyDriversRequest { Window = window, MinMentions = 1, Outcome = Outcome.NpsRating })).Drivers, d => d.ThemeKey == "roast-level");
        Assert.DoesNotContain((await Presence(Outcome.NpsRating)).Drivers, d => d.ThemeKey == "roast-level");
    }

    [Fact]
    public async Task The_three_connector_samples_deliver_end_to_end_into_scores_the_voice_and_alerts()
    {
        // The samples as a help desk, a review site and an app-store relay would send them today.
        var now = DateTimeOffset.UtcNow.AddMinutes(-5).ToString("yyyy-MM-ddTHH:mm:ssZ");
        var ticket = JsonNode.Parse(RepoFiles.Sample("connectors/zendesk-ticket.json"))!;
        ticket["detail"]!["created_at"] = now;
        var review = JsonNode.Parse(RepoFiles.Sample("connectors/trustpilot-review.json"))!;
        review["eventData"]!["createdAt"] = now;
        var appReview = JsonNode.Parse(RepoFiles.Sample("connectors/app-store-review.json"))!;
        appReview["data"]!["attributes"]!["createdDate"] = now;

        using var http = _host.Http();
        async Task<HttpStatusCode> DeliverAsync(string source, JsonNode body, Action<HttpRequestMessage> authenticate)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sources/{source}/events")
            {
                Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            authenticate(request);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
        var signedAt = DateTimeOffset.UtcNow.ToString("O");
        Assert.Equal(HttpStatusCode.Created, await DeliverAsync("zendesk", ticket, r =>
        {
            r.Headers.Add("X-Zendesk-Webhook-Signature", Convert.ToBase64String(
                HMACSHA256.HashData(Encoding.UTF8.GetBytes(ZendeskSecret), Encoding.UTF8.GetBytes(signedAt + ticket.ToJsonString()))));
            r.Headers.Add("X-Zendesk-Webhook-Signature-Timestamp", signedAt);
        }));
        Assert.Equal(HttpStatusCode.Created, await DeliverAsync("reviews", review, r => r.Headers.Authorization = new("Bearer", Token)));
        Assert.Equal(HttpStatusCode.Created, await DeliverAsync("appstore", appReview, r => r.Headers.Add("X-CxMesh-Source-Token", Token)));

        // Two reviews rated 2 and 1 stars: CSAT 0 % satisfied of 2; the ticket has no rating and is not in n.
        var scoring = _host.Client<ScoringService.ScoringServiceClient>();
        var csat = await Eventually.Until(async () => (await scoring.GetScoreAsync(new GetScoreRequest { Metric = Metric.Csat, Window = new Window { LastDays = 7 } })).Score,
            s => s.N == 2, because: "both reviews' stars are scored");
        Assert.Equal((0.0, 1.5), (csat.Value, csat.Mean));
        var voice = await Eventually.Until(() => scoring.GetVoiceTrendAsync(new GetVoiceTrendRequest { Window = new Window { LastDays = 7 } }).ResponseAsync,
            v => v.Total.Items == 3, because: "all three carry words");
        Assert.Contains(voice.Total.Themes, t => t.ThemeKey == "delivery");
        // The help desk's ticket is a bitter complaint: an alert, as for one submitted through the API.
        var alerts = await Eventually.Until(async () => (await scoring.ListAlertsAsync(new ListAlertsRequest())).Alerts, a => a.Any(x => x.Kind == CxMesh.Events.V1.AlertKind.NegativeComplaint),
            because: "the ticket raises a complaint alert");
        Assert.NotEmpty(alerts);
    }
}
