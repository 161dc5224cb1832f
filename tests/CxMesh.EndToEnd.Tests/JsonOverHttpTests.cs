using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;

namespace CxMesh.EndToEnd.Tests;

/// <summary>The same RPCs as JSON over HTTP (gRPC JSON transcoding), for curl and for partners' tools.</summary>
public sealed class JsonOverHttpTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private HttpClient Client(string? role)
    {
        var http = fixture.Host.Http();
        if (role is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Host.Token(role));
        return http;
    }

    [Fact]
    public async Task Feedback_submitted_as_JSON_is_scored_and_readable_as_JSON()
    {
        var app = Client(Roles.App);
        var submit = await app.PostAsJsonAsync("/v1/feedback", new
        {
            idempotencyKey = "json-0001",
            channel = "CHANNEL_WEB",
            journeyId = "json-journey", // the deprecated name: JSON clients from before the rename keep working
            ratings = new[] { new { questionId = "nps", value = 10 } },
        });
        Assert.Equal(HttpStatusCode.OK, submit.StatusCode);
        var item = (await submit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("item");
        var id = item.GetProperty("id").GetString();
        Assert.Equal("CHANNEL_WEB", item.GetProperty("channel").GetString());
        Assert.Equal(("json-journey", "json-journey"), (item.GetProperty("journeyKey").GetString(), item.GetProperty("journeyId").GetString()));

        var get = await app.GetFromJsonAsync<JsonElement>($"/v1/feedback/{id}");
        Assert.Equal(id, get.GetProperty("item").GetProperty("id").GetString());

        var score = await Eventually.Until(async () =>
        {
            var response = await app.PostAsJsonAsync("/v1/scores:query", new
            {
                metric = "METRIC_NPS",
                scope = new { dimensions = new[] { new { kind = "DIMENSION_KIND_JOURNEY", value = "json-journey" } } },
            });
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("score");
        }, s => s.TryGetProperty("n", out var n) && n.ToString() == "1", because: "the JSON submission is scored");
        Assert.Equal(100, score.GetProperty("value").GetDouble());
    }

    [Fact]
    public async Task Bad_JSON_input_is_a_400_naming_the_field_and_no_token_a_401()
    {
        var bad = await Client(Roles.App).PostAsJsonAsync("/v1/feedback", new
        {
            idempotencyKey = "json-0002",
            channel = "CHANNEL_WEB",
            ratings = new[] { new { questionId = "nps", value = 11 } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("ratings[0].value", await bad.Content.ReadAsStringAsync());

        var anonymous = await Client(null).PostAsJsonAsync("/v1/feedback", new { idempotencyKey = "json-0003" });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task The_JSON_API_is_described_by_an_OpenAPI_document_at_openapi_with_every_service_s_routes_and_their_comments()
    {
        var anonymous = Client(role: null);
        using var redirect = await anonymous.GetAsync("/openapi");
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/openapi/v1.json", redirect.Headers.Location!.OriginalString);
        var document = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        var paths = document.GetProperty("paths");
        foreach (var route in new[] { "/v1/feedback/{id}", "/v1/journeys", "/v1/actions/{actionId}", "/v1/partners/{partnerId}/webhook-deliveries", "/v1/notification-channels/{channelId}" })
        {
            Assert.True(paths.TryGetProperty(route, out _), $"{route} is described");
        }
        // Described from the protos' comments, and secured by a bearer token.
        var get = paths.GetProperty("/v1/feedback/{id}").GetProperty("get");
        Assert.False(string.IsNullOrWhiteSpace(get.GetProperty("summary").GetString() ?? get.GetProperty("description").GetString()));
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
    }
}
