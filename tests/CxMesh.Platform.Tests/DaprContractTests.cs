using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CxMesh.Platform.Tests;

/// <summary>Dapr exercised through its contracts: the subscription endpoint, CloudEvent delivery, and the sidecar's PublishEvent API.</summary>
public sealed class DaprContractTests
{
    private sealed record Subscription(string PubsubName, string Topic, string? Route, string? DeadLetterTopic);

    [Fact]
    public async Task Dapr_subscribe_lists_every_consumed_topic_with_its_route_and_dead_letter_topic()
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = "scoring");
        var subscriptions = await host.Http().GetFromJsonAsync<List<Subscription>>("/dapr/subscribe", new JsonSerializerOptions(JsonSerializerDefaults.Web));

        Assert.NotNull(subscriptions);
        var main = Assert.Single(subscriptions, s => s.Topic == "feedback.received.v1");
        Assert.Equal("pubsub", main.PubsubName);
        Assert.Equal("events/feedback.received.v1", main.Route?.TrimStart('/'));
        Assert.Equal("feedback.received.v1.deadletter", main.DeadLetterTopic);
        var dead = Assert.Single(subscriptions, s => s.Topic == "feedback.received.v1.deadletter");
        Assert.Equal("events/feedback.received.v1.deadletter", dead.Route?.TrimStart('/'));
    }

    [Fact]
    public async Task A_CloudEvent_posted_as_the_sidecar_posts_it_is_applied_once_even_when_posted_twice()
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = "scoring");
        var evt = NpsReceived("dapr-journey", 10);
        var cloudEvent = $$"""
            {"specversion":"1.0","id":"{{evt.EventId}}","source":"cxmesh/feedback","type":"{{Topics.FeedbackReceived.EventType}}",
             "datacontenttype":"application/json","topic":"feedback.received.v1","pubsubname":"pubsub",
             "traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
             "data":{{EventJson.Format(evt)}}}
            """;

        for (var i = 0; i < 2; i++)
        {
            var response = await host.SidecarHttp().PostAsync("/events/feedback.received.v1",
                new StringContent(cloudEvent, Encoding.UTF8, "application/cloudevents+json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("SUCCESS", await response.Content.ReadAsStringAsync());
        }

        var db = host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");
        await using var connection = await db.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("select count(*) from inbox where event_id = @id", new { id = evt.EventId }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("select sum(n) from rating_daily where scope_key = 'journey=dapr-journey'"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-the-token")]
    [InlineData("")]
    public async Task Event_routes_refuse_callers_without_the_sidecar_s_token_and_change_nothing(string? token)
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = "scoring");
        var rejected = 0L;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "cxmesh.events.rejected") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref rejected, value));
        listener.Start();

        var evt = NpsReceived("forged-journey", 0);
        var cloudEvent = $$"""
            {"specversion":"1.0","id":"{{evt.EventId}}","source":"cxmesh/feedback","type":"{{Topics.FeedbackReceived.EventType}}",
             "datacontenttype":"application/json","topic":"feedback.received.v1","pubsubname":"pubsub","data":{{EventJson.Format(evt)}}}
            """;
        var http = host.Http();
        if (token is not null) http.DefaultRequestHeaders.Add("dapr-api-token", token);
        foreach (var route in new[] { "/events/feedback.received.v1", "/events/feedback.received.v1.deadletter" })
        {
            var response = await http.PostAsync(route, new StringContent(cloudEvent, Encoding.UTF8, "application/cloudevents+json"));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        Assert.True(Interlocked.Read(ref rejected) >= 2, "refused calls are counted");

        var db = host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");
        await using var connection = await db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from inbox"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from dead_letters"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from rating_daily where scope_key = 'journey=forged-journey'"));
        // The subscription list stays open to the sidecar's start-up call; it names topics only.
        Assert.Equal(HttpStatusCode.OK, (await host.Http().GetAsync("/dapr/subscribe")).StatusCode);
    }

    [Fact]
    public async Task Serving_with_Dapr_delivery_without_an_app_API_token_fails_at_start_naming_the_key()
    {
        var scoring = await TestServers.Postgres.CreateEmptyDatabaseAsync();
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(78, await CxMesh.Platform.Hosting.CxMeshServer.RunAsync(
            [
                "--services", "scoring", $"--ConnectionStrings:scoring={scoring}", $"--ConnectionStrings:redis={TestServers.Redis.Endpoint}",
                $"--Auth:SigningKey={CxMeshTestHost.SigningKey}", "--CxMesh:GrpcPort=0", "--CxMesh:HttpPort=0", "--Logging:LogLevel:Default=Warning",
            ], CxMesh.Host.Modules.All));
        }
        finally
        {
            Console.SetError(previous);
        }
        Assert.Contains("CxMesh:AppApiToken", error.ToString());
    }

    [Fact]
    public async Task A_CloudEvent_that_cannot_be_parsed_is_dropped_and_kept_in_dead_letters()
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = "scoring");
        var cloudEvent = """
            {"specversion":"1.0","id":"broken-1","source":"cxmesh/feedback","type":"cxmesh.events.v1.FeedbackReceived",
             "datacontenttype":"application/json","topic":"feedback.received.v1","pubsubname":"pubsub",
             "data":{"eventId":{"nested":"wrong"}}}
            """;
        var response = await host.SidecarHttp().PostAsync("/events/feedback.received.v1", new StringContent(cloudEvent, Encoding.UTF8, "application/cloudevents+json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("DROP", await response.Content.ReadAsStringAsync());

        // What Dapr gives up on arrives on the dead-letter topic and is kept too.
        var deadLetter = cloudEvent.Replace("broken-1", "broken-2").Replace("\"topic\":\"feedback.received.v1\"", "\"topic\":\"feedback.received.v1.deadletter\"");
        var dead = await host.SidecarHttp().PostAsync("/events/feedback.received.v1.deadletter", new StringContent(deadLetter, Encoding.UTF8, "application/cloudevents+json"));
        Assert.Equal(HttpStatusCode.OK, dead.StatusCode);

        var db = host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");
        await using var connection = await db.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(string EventId, string Error)>("select event_id, error from dead_letters order by id")).ToList();
        Assert.Equal(["broken-1", "broken-2"], rows.Select(r => r.EventId));
        Assert.All(rows, r => Assert.False(string.IsNullOrWhiteSpace(r.Error)));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from inbox"));
    }

    [Fact]
    public async Task Dead_letters_are_redelivered_once_the_cause_is_gone_and_poison_stays()
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = "scoring");
        var evt = NpsReceived("dead-letter-journey", 9);
        // Dapr gave up on a good event (the database was down through every retry) and one that can never be used.
        foreach (var (id, data) in new[] { (evt.EventId, EventJson.Format(evt)), ("poison-1", """{"eventId":{"nested":"wrong"}}""") })
        {
            var cloudEvent = $$"""
                {"specversion":"1.0","id":"{{id}}","source":"cxmesh/feedback","type":"{{Topics.FeedbackReceived.EventType}}",
                 "datacontenttype":"application/json","topic":"feedback.received.v1.deadletter","pubsubname":"pubsub","data":{{data}}}
                """;
            var response = await host.SidecarHttp().PostAsync("/events/feedback.received.v1.deadletter", new StringContent(cloudEvent, Encoding.UTF8, "application/cloudevents+json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var db = host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");
        Assert.Equal(2, (await DeadLetters.ListAsync(db.DataSource, default)).Count);

        var subscriptions = host.Services.GetServices<EventSubscription>().Where(s => s.Service == "scoring");
        var dispatcher = host.Services.GetRequiredService<EventDispatcher>();
        var result = await DeadLetters.RedeliverAsync(db.DataSource, subscriptions, dispatcher, default);
        Assert.Equal((1, 0, 1), (result.Applied, result.AlreadyApplied, result.StillFailing));
        var left = Assert.Single(await DeadLetters.ListAsync(db.DataSource, default));
        Assert.Equal("poison-1", left.EventId); // the poison, kept with the reason it was refused again
        Assert.False(string.IsNullOrWhiteSpace(left.Error));
        await using (var connection = await db.OpenConnectionAsync())
        {
            Assert.Equal(1, await connection.ExecuteScalarAsync<long>("select sum(n) from rating_daily where scope_key = 'journey=dead-letter-journey'"));
        }

        // A second run changes nothing: the good event is applied, the poison refused again.
        var again = await DeadLetters.RedeliverAsync(db.DataSource, subscriptions, dispatcher, default);
        Assert.Equal((0, 1), (again.Applied, again.StillFailing));
        await using (var connection = await db.OpenConnectionAsync())
        {
            Assert.Equal(1, await connection.ExecuteScalarAsync<long>("select sum(n) from rating_daily where scope_key = 'journey=dead-letter-journey'"));
        }
    }

    [Fact]
    public async Task The_relay_publishes_through_the_sidecar_with_the_event_id_as_CloudEvent_id()
    {
        var (sidecar, sidecarApp, sidecarServer) = await FakeDaprSidecar.StartAsync();
        await using var _ = sidecarApp;
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "feedback";
            s.ConfigureServices = services => FakeDaprSidecar.Use(services, sidecarServer.CreateHandler());
        });
        var client = host.Client<FeedbackService.FeedbackServiceClient>();
        var submitted = await client.SubmitFeedbackAsync(new SubmitFeedbackRequest
        {
            IdempotencyKey = "dapr-publish-1",
            Channel = Channel.Complaint,
            JourneyKey = "delivery",
            Ratings = { new Rating { QuestionId = "nps", Value = 4 } },
        });

        var published = await Eventually.Until(() => Task.FromResult(sidecar.Published.ToArray()), p => p.Length > 0, because: "the relay published");
        var request = Assert.Single(published);
        Assert.Equal("pubsub", request.PubsubName);
        Assert.Equal("feedback.received.v1", request.Topic);
        Assert.Equal("application/json", request.DataContentType);
        var payload = EventJson.Parse<FeedbackReceived>(request.Data.ToStringUtf8());
        Assert.Equal(submitted.Item.Id, payload.FeedbackId);
#pragma warning disable CS0612 // consumers built before the rename read journey_id: it is still filled
        Assert.Equal(("delivery", "delivery"), (payload.JourneyKey, payload.JourneyId));
#pragma warning restore CS0612
        Assert.Equal(4, Assert.Single(payload.Ratings).Value);
        Assert.Equal(payload.EventId, request.Metadata["cloudevent.id"]);
        Assert.Equal(Topics.FeedbackReceived.EventType, request.Metadata["cloudevent.type"]);
        Assert.Equal("cxmesh/feedback", request.Metadata["cloudevent.source"]);
    }

    [Fact]
    public async Task When_the_sidecar_fails_the_relay_backs_off_parks_the_event_and_a_replay_publishes_it()
    {
        var (sidecar, sidecarApp, sidecarServer) = await FakeDaprSidecar.StartAsync();
        await using var _ = sidecarApp;
        sidecar.Failing = true;
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "feedback";
            s.Settings["Messaging:MaxAttempts"] = "3";
            s.Settings["Messaging:InitialBackoff"] = "00:00:00.050";
            s.Settings["Messaging:PollInterval"] = "00:00:00.200";
            s.ConfigureServices = services => FakeDaprSidecar.Use(services, sidecarServer.CreateHandler());
        });
        await host.Client<FeedbackService.FeedbackServiceClient>().SubmitFeedbackAsync(new SubmitFeedbackRequest
        {
            IdempotencyKey = "dapr-park-1",
            Channel = Channel.Web,
            Ratings = { new Rating { QuestionId = "nps", Value = 10 } },
        });

        var db = host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        var parked = await Eventually.Until(() => ParkedEvents.ListAsync(db.DataSource, default), p => p.Count == 1, because: "the event is parked");
        Assert.Equal(3, parked[0].Attempts);
        Assert.Contains("Unavailable", parked[0].LastError);
        Assert.Empty(sidecar.Published);

        sidecar.Failing = false;
        Assert.Equal(1, await ParkedEvents.ReplayAsync(db.DataSource, default));
        await Eventually.Until(() => Task.FromResult(sidecar.Published.Count), n => n == 1, because: "the replayed event is published");
        Assert.Empty(await ParkedEvents.ListAsync(db.DataSource, default));
    }

    /// <summary>A feedback.received event with one NPS rating, as the feedback service publishes it.</summary>
    private static FeedbackReceived NpsReceived(string journey, int value) => new()
    {
        EventId = Guid.NewGuid().ToString(),
        OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
        FeedbackId = Guid.NewGuid().ToString(),
        Channel = Channel.Review,
        JourneyKey = journey,
        GivenAt = Timestamp.FromDateTime(DateTime.UtcNow),
        Ratings = { new RatingValue { QuestionId = "nps", Metric = Metric.Nps, Value = value, ScaleMax = 10 } },
    };
}
