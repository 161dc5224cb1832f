using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CxMesh.Common.V1;
using CxMesh.Feedback.UseCases;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Tests;

/// <summary>A host with the three shipped connectors configured, as an operator would.</summary>
public sealed class ConnectorsFixture : IAsyncLifetime
{
    public const string ZendeskSecret = TestHostSettings.ZendeskSecret;
    public const string ReviewsToken = TestHostSettings.SourceToken;
    public const string AppStoreToken = "app-store-token-0123456789abcdef";

    public CxMeshTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await CxMeshTestHost.StartAsync(s =>
    {
        s.Services = "feedback";
        s.ShippedConnectors();
        // A second token source, so that one source's token is seen not to open another.
        s.Settings["Feedback:Sources:app-store:Mapping"] = "app-store-review";
        s.Settings["Feedback:Sources:app-store:Token"] = AppStoreToken;
    });

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public sealed class SourceEventsTests(ConnectorsFixture fixture) : IClassFixture<ConnectorsFixture>
{
    private static JsonNode Sample(string name) => JsonNode.Parse(RepoFiles.Sample($"connectors/{name}.json"))!;

    private static HttpRequestMessage Delivery(string source, string body, string? token = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sources/{source}/events") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    /// <summary>Signed as Zendesk signs: base64(HMAC-SHA256(secret, timestamp + body)).</summary>
    private static HttpRequestMessage Signed(string body, string secret = ConnectorsFixture.ZendeskSecret, DateTimeOffset? at = null)
    {
        var request = Delivery("zendesk", body);
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + body));
        request.Headers.Add("X-Zendesk-Webhook-Signature", Convert.ToBase64String(signature));
        request.Headers.Add("X-Zendesk-Webhook-Signature-Timestamp", timestamp);
        return request;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpRequestMessage request)
    {
        using var http = fixture.Host.Http();
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    private async Task<long> StoredAsync(string source)
    {
        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("select count(*) from feedback_items where source_system = @source", new { source });
    }

    private async Task<FeedbackItem> ItemAsync(JsonElement body) =>
        (await fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Admin).GetFeedbackAsync(new GetFeedbackRequest { Id = body.GetProperty("feedback_id").GetString() })).Item;

    private static string[] ErrorsAt(JsonElement body, string pointer) =>
        body.GetProperty("errors").TryGetProperty(pointer, out var errors) ? errors.EnumerateArray().Select(e => e.GetString()!).ToArray() : [];

    [Fact]
    public async Task A_signed_Zendesk_ticket_becomes_a_complaint_and_a_redelivery_replays_it()
    {
        var body = Sample("zendesk-ticket").ToJsonString();
        var (status, stored) = await SendAsync(Signed(body));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("stored", stored.GetProperty("status").GetString());

        var item = await ItemAsync(stored);
        Assert.Equal(Channel.Complaint, item.Channel);
        Assert.Empty(item.Ratings);
        Assert.StartsWith("Late delivery, crushed box\n\nMy order #A1043 arrived two days late", item.Verbatim);
        Assert.Equal(("zendesk", "35436"), (item.Source.System, item.Source.ExternalId));
        Assert.Equal("8447388090494", item.CustomerId);
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 9, 14, 3, TimeSpan.Zero), item.GivenAt.ToDateTimeOffset());
        Assert.Equal("HIGH", item.Links.Segment["priority"]);
        Assert.Equal("web_form", item.Links.Segment["via"]);
        Assert.Equal(Polarity.Negative, item.Polarity);

        // Zendesk redelivers when it does not hear back in time: the same event id replays the stored item.
        var (again, replayed) = await SendAsync(Signed(body));
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal("replayed", replayed.GetProperty("status").GetString());
        Assert.Equal(stored.GetProperty("feedback_id").GetString(), replayed.GetProperty("feedback_id").GetString());
        Assert.Equal(1, await StoredAsync("zendesk"));

        // The same event id with other content is not the same event: refused, nothing changes.
        var altered = Sample("zendesk-ticket");
        altered["detail"]!["description"] = "Something else entirely, and the box was fine.";
        var (conflict, problem) = await SendAsync(Signed(altered.ToJsonString()));
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Contains("cbe4028c-7239-495d-b020-f22348516046", problem.GetProperty("detail").GetString());
        Assert.Equal(1, await StoredAsync("zendesk"));
    }

    [Fact]
    public async Task A_delivery_that_is_not_signed_with_the_secret_or_is_stale_is_refused_and_stores_nothing()
    {
        var ticket = Sample("zendesk-ticket");
        ticket["id"] = "forged-" + Guid.NewGuid();
        ticket["detail"]!["id"] = "forged-" + Guid.NewGuid();
        var body = ticket.ToJsonString();
        var before = await StoredAsync("zendesk");
        var reviewsBefore = await StoredAsync("reviews");

        var (wrongSecret, problem) = await SendAsync(Signed(body, secret: "not-the-secret-at-all-0123456789"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrongSecret);
        Assert.Contains("does not match", problem.GetProperty("detail").GetString());

        // Signed correctly, then the body was changed on the way.
        var tampered = Signed(body);
        tampered.Content = new StringContent(body.Replace("crushed", "perfect"), Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(tampered)).Status);

        // A captured delivery replayed an hour later.
        var (stale, staleProblem) = await SendAsync(Signed(body, at: DateTimeOffset.UtcNow.AddHours(-1)));
        Assert.Equal(HttpStatusCode.Unauthorized, stale);
        Assert.Contains("more than 5 minutes", staleProblem.GetProperty("detail").GetString());

        var (unsigned, unsignedProblem) = await SendAsync(Delivery("zendesk", body));
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned);
        Assert.Contains("X-Zendesk-Webhook-Signature", unsignedProblem.GetProperty("detail").GetString());

        var notBase64 = Delivery("zendesk", body);
        notBase64.Headers.Add("X-Zendesk-Webhook-Signature", "%%%");
        notBase64.Headers.Add("X-Zendesk-Webhook-Signature-Timestamp", DateTimeOffset.UtcNow.ToString("O"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(notBase64)).Status);

        // A token source: no token, or another source's token.
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(Delivery("reviews", Sample("trustpilot-review").ToJsonString()))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(Delivery("reviews", Sample("trustpilot-review").ToJsonString(), ConnectorsFixture.AppStoreToken))).Status);
        Assert.Equal(before, await StoredAsync("zendesk"));
        Assert.Equal(reviewsBefore, await StoredAsync("reviews"));
    }

    [Fact]
    public async Task A_review_site_review_and_an_app_store_review_arrive_with_their_stars_as_csat()
    {
        var review = Sample("trustpilot-review");
        review["eventData"]!["id"] = "r-" + Guid.NewGuid();
        var (status, stored) = await SendAsync(Delivery("reviews", review.ToJsonString(), ConnectorsFixture.ReviewsToken));
        Assert.Equal(HttpStatusCode.Created, status);
        var item = await ItemAsync(stored);
        Assert.Equal(Channel.Review, item.Channel);
        Assert.Equal(("csat", 2), (item.Ratings.Single().QuestionId, item.Ratings.Single().Value));
        Assert.Equal("en", item.Links.Segment["language"]);

        // The same review, edited: another event (its name is part of the id), the same review, so the same item.
        review["eventName"] = "service-review-updated";
        var (updated, replayed) = await SendAsync(Delivery("reviews", review.ToJsonString(), ConnectorsFixture.ReviewsToken));
        Assert.Equal(HttpStatusCode.OK, updated);
        Assert.Equal(stored.GetProperty("feedback_id").GetString(), replayed.GetProperty("feedback_id").GetString());

        var appReview = Sample("app-store-review");
        var request = Delivery("app-store", appReview.ToJsonString());
        request.Headers.Add("X-CxMesh-Source-Token", ConnectorsFixture.AppStoreToken);
        var (appStatus, appStored) = await SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, appStatus);
        var app = await ItemAsync(appStored);
        Assert.Equal(("csat", 1), (app.Ratings.Single().QuestionId, app.Ratings.Single().Value));
        Assert.Equal("zh", app.Language);
        Assert.Equal(("CHN", "app-store"), (app.Links.Segment["territory"], app.Links.Segment["store"]));
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 5, 40, 11, TimeSpan.Zero), app.GivenAt.ToDateTimeOffset());
    }

    [Fact]
    public async Task A_payload_that_cannot_become_feedback_gets_a_400_naming_the_json_pointer_and_stores_nothing()
    {
        var before = await StoredAsync("reviews");
        async Task<JsonElement> RefusedAsync(Action<JsonNode> change, string pointer)
        {
            var review = Sample("trustpilot-review");
            review["eventData"]!["id"] = "bad-" + Guid.NewGuid();
            change(review);
            var (status, body) = await SendAsync(Delivery("reviews", review.ToJsonString(), ConnectorsFixture.ReviewsToken));
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.NotEmpty(ErrorsAt(body, pointer));
            Assert.Contains(pointer, body.GetProperty("detail").GetString());
            return body;
        }

        var words = await RefusedAsync(r => r["eventData"]!["stars"] = "six", "/eventData/stars");
        Assert.Contains("'six' is not a whole number", ErrorsAt(words, "/eventData/stars")[0]);
        await RefusedAsync(r => r["eventData"]!["stars"] = 9, "/eventData/stars");
        await RefusedAsync(r => r["eventData"]!.AsObject().Remove("stars"), "/eventData/stars");
        await RefusedAsync(r => r["eventData"]!["createdAt"] = "31/11/2024", "/eventData/createdAt");
        await RefusedAsync(r => r["eventData"]!["createdAt"] = DateTimeOffset.UtcNow.AddDays(3).ToString("O"), "/eventData/createdAt");
        await RefusedAsync(r => r["eventData"]!["title"] = new JsonObject { ["en"] = "nested" }, "/eventData/title");
        await RefusedAsync(r => r["eventData"]!.AsObject().Remove("id"), "/eventName + /eventData/id");

        var (notJson, problem) = await SendAsync(Delivery("reviews", "{\"eventName\": ", ConnectorsFixture.ReviewsToken));
        Assert.Equal(HttpStatusCode.BadRequest, notJson);
        Assert.Contains("not JSON", problem.GetProperty("detail").GetString());

        // A Zendesk ticket without words: the mapping requires them.
        var ticket = Sample("zendesk-ticket");
        ticket["id"] = "empty-" + Guid.NewGuid();
        ticket["detail"]!["subject"] = "";
        ticket["detail"]!["description"] = null;
        var (empty, emptyBody) = await SendAsync(Signed(ticket.ToJsonString()));
        Assert.Equal(HttpStatusCode.BadRequest, empty);
        Assert.NotEmpty(ErrorsAt(emptyBody, "/detail/subject + /detail/description"));
        Assert.Equal(before, await StoredAsync("reviews"));
    }

    [Fact]
    public async Task Deliveries_to_an_unknown_source_not_json_or_too_large_are_answered_with_their_status()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(Delivery("nowhere", "{}", ConnectorsFixture.ReviewsToken))).Status);

        var text = Delivery("reviews", "stars=5", ConnectorsFixture.ReviewsToken);
        text.Content = new StringContent("stars=5", Encoding.UTF8, "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await SendAsync(text)).Status);

        var huge = "{\"eventData\": {\"text\": \"" + new string('x', (1 << 20) + 10) + "\"}}";
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await SendAsync(Delivery("reviews", huge, ConnectorsFixture.ReviewsToken))).Status);
    }

    [Fact]
    public async Task A_source_over_its_rate_limit_is_told_when_to_come_back()
    {
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "feedback";
            s.Settings["Feedback:Sources:reviews:Mapping"] = "trustpilot-review";
            s.Settings["Feedback:Sources:reviews:Token"] = ConnectorsFixture.ReviewsToken;
            s.Settings["RateLimits:source:Permits"] = "1";
            s.Settings["RateLimits:source:Period"] = "00:01:00";
            s.Settings["RateLimits:source:Burst"] = "2";
        });
        using var http = host.Http();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 3; i++)
        {
            var review = Sample("trustpilot-review");
            review["eventData"]!["id"] = $"limited-{i}";
            last?.Dispose();
            last = await http.SendAsync(Delivery("reviews", review.ToJsonString(), ConnectorsFixture.ReviewsToken));
            statuses.Add(last.StatusCode);
        }
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.TooManyRequests], statuses);
        Assert.NotNull(last!.Headers.RetryAfter);
        last.Dispose();
    }

    [Theory]
    [InlineData("{\"fields\": {\"channel\": {\"value\": \"review\"}, \"verbatim\": \"/text\"}}", "event_id")]
    [InlineData("{\"event_id\": \"/id\", \"fields\": {\"verbatim\": \"/text\"}}", "fields.channel")]
    [InlineData("{\"event_id\": \"/id\", \"fields\": {\"channel\": {\"value\": \"review\"}, \"rating\": \"/stars\"}}", "fields.rating")]
    [InlineData("{\"event_id\": \"/id\", \"fields\": {\"channel\": {\"value\": \"review\"}, \"verbatim\": \"text\"}}", "fields.verbatim")]
    [InlineData("{\"event_id\": \"/id\", \"fields\": {\"channel\": {\"value\": \"fax\"}, \"verbatim\": \"/text\"}}", "fields.channel.value")]
    [InlineData("{\"event_id\": \"/id\", \"fields\": {\"channel\": {\"value\": \"review\"}}}", "fields")]
    [InlineData("{\"event_id\": \"/id\", \"fields\": {\"channel\": {\"value\": \"review\"}, \"verbatim\": \"/t\"}, \"required\": [\"rating:csat\"]}", "required[0]")]
    [InlineData("{\"event_id\": \"/id\", \"signature\": {\"header\": \"X-Sig\", \"encoding\": \"rot13\"}, \"fields\": {\"channel\": {\"value\": \"review\"}, \"verbatim\": \"/t\"}}", "signature.encoding")]
    [InlineData("{\"event_id\": \"/id\", \"mappings\": {}, \"fields\": {\"channel\": {\"value\": \"review\"}, \"verbatim\": \"/t\"}}", "mappings")]
    public void A_mapping_that_cannot_work_is_refused_naming_where(string json, string path)
    {
        var ex = Assert.Throws<SourceMappingException>(() => SourceMapping.Parse("custom", json));
        Assert.Equal(path, ex.Path);
    }

    [Fact]
    public void A_source_needs_a_mapping_that_loads_and_a_secret_or_token()
    {
        Assert.Equal(["app-store-review", "trustpilot-review", "zendesk-ticket"], SourceMapping.BuiltIn);
        Assert.Contains(new SourceConnector { Mapping = "zendesk", Token = ConnectorsFixture.ReviewsToken }.Problems("z"), p => p.Contains("neither a shipped mapping"));
        Assert.Contains(new SourceConnector { Mapping = "zendesk-ticket" }.Problems("z"), p => p.Contains("needs a Secret"));
        Assert.Contains(new SourceConnector { Mapping = "trustpilot-review", Secret = ConnectorsFixture.ZendeskSecret }.Problems("t"), p => p.Contains("declares no signature"));
        Assert.Contains(new SourceConnector { Mapping = "trustpilot-review", Token = "short" }.Problems("t"), p => p.Contains("at least 16"));
        Assert.Contains(new SourceConnector { Mapping = "trustpilot-review", Token = ConnectorsFixture.ReviewsToken }.Problems("Bad Name"), p => p.Contains("source name"));
        Assert.Empty(new SourceConnector { Mapping = "zendesk-ticket", Secret = ConnectorsFixture.ZendeskSecret }.Problems("zendesk"));
    }
}
