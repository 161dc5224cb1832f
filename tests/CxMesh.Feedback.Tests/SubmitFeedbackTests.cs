using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Tests;

public sealed class SubmitFeedbackTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly FeedbackService.FeedbackServiceClient _client = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);

    private static SubmitFeedbackRequest Valid() => new()
    {
        IdempotencyKey = $"k-{Guid.NewGuid():N}",
        Channel = Channel.Survey,
        JourneyKey = "coffee-subscription",
        Ratings = { new Rating { QuestionId = "nps", Value = 9 } },
        Verbatim = "Great beans, late delivery.",
    };

    public static TheoryData<string, string> BadRequests => new()
    {
        { "no ratings and no verbatim", "ratings" },
        { "no ratings and a blank verbatim", "ratings" },
        { "rating above scale", "ratings[0].value" },
        { "rating below scale", "ratings[0].value" },
        { "unknown question", "ratings[0].question_id" },
        { "same question twice", "ratings" },
        { "too many ratings", "ratings" },
        { "unspecified channel", "channel" },
        { "unknown channel", "channel" },
        { "oversized verbatim", "verbatim" },
        { "empty idempotency key", "idempotency_key" },
        { "short idempotency key", "idempotency_key" },
        { "idempotency key with spaces", "idempotency_key" },
        { "oversized idempotency key", "idempotency_key" },
        { "journey key with slashes", "journey_key" },
        { "journey key in upper case", "journey_key" },
        { "deprecated journey id with slashes", "journey_id" },
        { "journey key and deprecated id disagree", "journey_key" },
        { "given in the future", "given_at" },
        { "given too long ago", "given_at" },
        { "control characters in verbatim", "verbatim" },
        { "invalid UTF-8 in verbatim", "verbatim" },
        { "lone surrogate in verbatim", "verbatim" },
    };

    private static SubmitFeedbackRequest Break(string how)
    {
        var r = Valid();
        switch (how)
        {
            case "no ratings and no verbatim": r.Ratings.Clear(); r.Verbatim = ""; break;
            case "no ratings and a blank verbatim": r.Ratings.Clear(); r.Verbatim = " \n "; break;
            case "rating above scale": r.Ratings[0].Value = 11; break;
            case "rating below scale": r.Ratings[0].Value = -1; break;
            case "unknown question": r.Ratings[0].QuestionId = "happiness"; break;
            case "same question twice": r.Ratings.Add(new Rating { QuestionId = "nps", Value = 3 }); break;
            case "too many ratings":
                r.Ratings.Clear();
                r.Ratings.AddRange(Enumerable.Range(0, 21).Select(i => new Rating { QuestionId = $"q{i}", Value = 1 }));
                break;
            case "unspecified channel": r.Channel = Channel.Unspecified; break;
            case "unknown channel": r.Channel = (Channel)99; break;
            case "oversized verbatim": r.Verbatim = new string('x', 10_001); break;
            case "empty idempotency key": r.IdempotencyKey = ""; break;
            case "short idempotency key": r.IdempotencyKey = "abc"; break;
            case "idempotency key with spaces": r.IdempotencyKey = "not a valid key"; break;
            case "oversized idempotency key": r.IdempotencyKey = new string('k', 129); break;
            case "journey key with slashes": r.JourneyKey = "../../etc"; break;
            case "journey key in upper case": r.JourneyKey = "Coffee"; break;
#pragma warning disable CS0612 // the deprecated field is still read: old clients must keep working
            case "deprecated journey id with slashes": r.JourneyKey = ""; r.JourneyId = "../../etc"; break;
            case "journey key and deprecated id disagree": r.JourneyKey = "coffee"; r.JourneyId = "tea"; break;
#pragma warning restore CS0612
            case "given in the future": r.GivenAt = Timestamp.FromDateTime(DateTime.UtcNow.AddHours(1)); break;
            case "given too long ago": r.GivenAt = Timestamp.FromDateTime(DateTime.UtcNow.AddYears(-10).AddDays(-2)); break;
            case "control characters in verbatim": r.Verbatim = "great\u0000coffee\u001b[31m"; break;
            // Invalid UTF-8 bytes on the wire arrive as U+FFFD: build the request from raw bytes to prove it.
            case "invalid UTF-8 in verbatim": r.Verbatim = System.Text.Encoding.UTF8.GetString([0x67, 0xC3, 0x28, 0x6F]); break;
            case "lone surrogate in verbatim": r.Verbatim = "coffee \uD800 beans"; break;
            default: throw new ArgumentOutOfRangeException(nameof(how));
        }
        return r;
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_is_INVALID_ARGUMENT_naming_the_field_and_nothing_is_stored_or_published(string how, string field)
    {
        var before = await CountsAsync();
        await RpcAssert.InvalidArgumentAsync(() => _client.SubmitFeedbackAsync(Break(how)).ResponseAsync, field);
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Every_violation_of_a_request_is_reported_at_once()
    {
        var r = Valid();
        r.Channel = Channel.Unspecified;
        r.Ratings[0].Value = 42;
        r.IdempotencyKey = "x";
        var badRequest = await RpcAssert.InvalidArgumentAsync(() => _client.SubmitFeedbackAsync(r).ResponseAsync, "channel");
        Assert.Contains(badRequest.FieldViolations, v => v.Field == "ratings[0].value");
        Assert.Contains(badRequest.FieldViolations, v => v.Field == "idempotency_key");
    }

    [Fact]
    public async Task A_valid_item_is_stored_with_its_ratings_and_one_event()
    {
        var before = await CountsAsync();
        var request = Valid();
        var response = await _client.SubmitFeedbackAsync(request);

        Assert.False(response.Replayed);
        Assert.Equal(Channel.Survey, response.Item.Channel);
        Assert.Equal("coffee-subscription", response.Item.JourneyKey);
        Assert.Equal(9, Assert.Single(response.Item.Ratings).Value);
        Assert.Equal("", response.Item.Verbatim); // raw text is for admins only
        Assert.Equal(request.Verbatim, response.Item.RedactedVerbatim);

        var fetched = await _client.GetFeedbackAsync(new GetFeedbackRequest { Id = response.Item.Id });
        Assert.Equal(response.Item, fetched.Item);
        Assert.Equal((before.Items + 1, before.Events + 1), await CountsAsync());
    }

    [Fact]
    public async Task A_complaint_without_a_rating_is_stored_analysed_and_published_with_no_ratings()
    {
        var before = await CountsAsync();
        var request = Valid();
        request.Ratings.Clear();
        request.Channel = Channel.Complaint;
        request.Verbatim = "The parcel was late again and nobody answered the phone. Terrible service.";
        var response = await _client.SubmitFeedbackAsync(request);

        Assert.Empty(response.Item.Ratings);
        Assert.Equal(Polarity.Negative, response.Item.Polarity);
        Assert.Equal((before.Items + 1, before.Events + 1), await CountsAsync());
    }

    [Fact]
    public async Task History_from_years_ago_is_accepted_within_the_history_limit()
    {
        var request = Valid();
        var threeYearsAgo = DateTime.UtcNow.AddYears(-3);
        request.GivenAt = Timestamp.FromDateTime(threeYearsAgo);
        var response = await _client.SubmitFeedbackAsync(request);
        Assert.Equal(threeYearsAgo, response.Item.GivenAt.ToDateTime(), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task An_old_client_sending_the_deprecated_journey_id_is_read_and_answered_in_both_fields()
    {
        var request = Valid();
        request.JourneyKey = "";
#pragma warning disable CS0612 // what a client built before the rename sends
        request.JourneyId = "Legacy:Journey-7";
        var response = await _client.SubmitFeedbackAsync(request);
        Assert.Equal(("Legacy:Journey-7", "Legacy:Journey-7"), (response.Item.JourneyKey, response.Item.JourneyId));
#pragma warning restore CS0612
        var analyst = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);
        var listed = await analyst.ListFeedbackAsync(new ListFeedbackRequest { JourneyKey = "Legacy:Journey-7" });
        Assert.Equal(response.Item.Id, Assert.Single(listed.Items).Id);
    }

    [Fact]
    public async Task A_retry_returns_the_first_result_and_publishes_nothing_new()
    {
        var request = Valid();
        var first = await _client.SubmitFeedbackAsync(request);
        var before = await CountsAsync();
        var retry = await _client.SubmitFeedbackAsync(request);

        Assert.True(retry.Replayed);
        Assert.Equal(first.Item, retry.Item);
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task A_key_is_remembered_for_the_retention_then_forgotten()
    {
        var old = Valid();
        var recent = Valid();
        var first = await _client.SubmitFeedbackAsync(old);
        var kept = await _client.SubmitFeedbackAsync(recent);
        var database = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using (var connection = await database.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("update idempotency_keys set created_at = now() - interval '31 days' where key = @key", new { key = old.IdempotencyKey });
        }

        var expire = fixture.Host.Services.GetRequiredService<UseCases.ExpireIdempotencyKeys>();
        while (await expire.ExpireAsync(100, default) == 100)
        {
        }

        // Past the retention the key is forgotten: the same request is new feedback. Within it, a retry still replays.
        var again = await _client.SubmitFeedbackAsync(old);
        Assert.False(again.Replayed);
        Assert.NotEqual(first.Item.Id, again.Item.Id);
        var retry = await _client.SubmitFeedbackAsync(recent);
        Assert.True(retry.Replayed);
        Assert.Equal(kept.Item.Id, retry.Item.Id);
    }

    [Fact]
    public async Task Concurrent_retries_with_one_key_store_one_item()
    {
        var request = Valid();
        var before = await CountsAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => _client.SubmitFeedbackAsync(request).ResponseAsync));

        Assert.Single(responses.Select(r => r.Item.Id).Distinct());
        Assert.Single(responses, r => !r.Replayed);
        Assert.Equal((before.Items + 1, before.Events + 1), await CountsAsync());
    }

    [Fact]
    public async Task Reusing_a_key_for_a_different_request_is_FAILED_PRECONDITION()
    {
        var request = Valid();
        await _client.SubmitFeedbackAsync(request);
        var other = request.Clone();
        other.Ratings[0].Value = 2;

        var ex = await RpcAssert.StatusAsync(() => _client.SubmitFeedbackAsync(other).ResponseAsync, StatusCode.FailedPrecondition);
        var info = ex.GetRpcStatus()?.GetDetail<ErrorInfo>();
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", info?.Reason);
        Assert.Equal("idempotency_key", info?.Metadata["field"]);
    }

    [Fact]
    public async Task GetFeedback_of_an_unknown_id_is_NOT_FOUND_and_of_a_malformed_id_INVALID_ARGUMENT()
    {
        await RpcAssert.StatusAsync(() => _client.GetFeedbackAsync(new GetFeedbackRequest { Id = Guid.NewGuid().ToString() }).ResponseAsync, StatusCode.NotFound);
        await RpcAssert.InvalidArgumentAsync(() => _client.GetFeedbackAsync(new GetFeedbackRequest { Id = "42" }).ResponseAsync, "id");
    }

    [Fact]
    public async Task Callers_without_a_token_are_UNAUTHENTICATED_and_with_the_wrong_role_PERMISSION_DENIED()
    {
        var anonymous = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(role: null);
        await RpcAssert.StatusAsync(() => anonymous.SubmitFeedbackAsync(Valid()).ResponseAsync, StatusCode.Unauthenticated);

        var analyst = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);
        await RpcAssert.StatusAsync(() => analyst.SubmitFeedbackAsync(Valid()).ResponseAsync, StatusCode.PermissionDenied);

        var partner = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Partner);
        await RpcAssert.StatusAsync(() => partner.GetFeedbackAsync(new GetFeedbackRequest { Id = Guid.NewGuid().ToString() }).ResponseAsync, StatusCode.PermissionDenied);
    }

    [Fact]
    public async Task Personal_data_never_leaves_in_the_response_or_the_event_and_only_admins_read_the_raw_text()
    {
        var request = Valid();
        request.Verbatim = "The delivery was three days late and the beans were stale. Call me on +44 20 7946 0958 or mail jane@example.com";
        var response = await _client.SubmitFeedbackAsync(request);

        Assert.Equal("", response.Item.Verbatim);
        Assert.Equal("The delivery was three days late and the beans were stale. Call me on [phone] or mail [email]", response.Item.RedactedVerbatim);
        Assert.Equal("en", response.Item.Language);
        Assert.Equal(Polarity.Negative, response.Item.Polarity);
        Assert.Contains(response.Item.Themes, t => t.ThemeKey == "delivery" && t.Polarity == Polarity.Negative);
        Assert.Contains(response.Item.Themes, t => t.ThemeKey == "freshness");

        var admin = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Admin);
        Assert.Equal(request.Verbatim, (await admin.GetFeedbackAsync(new GetFeedbackRequest { Id = response.Item.Id })).Item.Verbatim);
        var analyst = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);
        Assert.Equal("", (await analyst.GetFeedbackAsync(new GetFeedbackRequest { Id = response.Item.Id })).Item.Verbatim);

        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        var payload = await connection.ExecuteScalarAsync<string>("select payload from outbox where payload like @id", new { id = $"%{response.Item.Id}%" });
        Assert.NotNull(payload);
        Assert.DoesNotContain("jane@example.com", payload);
        Assert.DoesNotContain("7946", payload);
        Assert.Contains("[email]", payload);
        Assert.Contains("delivery", payload);
    }

    [Fact]
    public async Task Chinese_verbatims_are_understood_too()
    {
        var request = Valid();
        request.Verbatim = "咖啡很新鲜，味道很好，但是快递太慢了。电话13812345678";
        var item = (await _client.SubmitFeedbackAsync(request)).Item;
        Assert.Equal("zh", item.Language);
        Assert.EndsWith("电话[phone]", item.RedactedVerbatim);
        Assert.Contains(item.Themes, t => t.ThemeKey == "freshness" && t.Polarity == Polarity.Positive);
        Assert.Contains(item.Themes, t => t.ThemeKey == "delivery" && t.Polarity == Polarity.Negative);
    }

    private async Task<(long Items, long Events)> CountsAsync()
    {
        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        return await connection.QuerySingleAsync<(long, long)>("select (select count(*) from feedback_items), (select count(*) from outbox)");
    }
}
