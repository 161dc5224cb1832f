using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace CxMesh.TestKit;

/// <summary>
/// Dapr pub/sub between several test hosts, as the sidecars and the broker would do it: each publish is wrapped in a
/// CloudEvent and POSTed to every app whose <c>GET /dapr/subscribe</c> lists the topic, retried on RETRY or a 5xx, and
/// after the last retry sent to the subscription's dead-letter topic. Lets one service per host talk like separate
/// Deployments, without a sidecar.
/// </summary>
public sealed class FakeDaprBroker : FakeDaprSidecar
{
    private sealed record Subscription(string PubsubName, string Topic, string Route, string? DeadLetterTopic);

    private readonly List<(string App, HttpClient Client, Subscription Subscription)> _subscriptions = [];
    private readonly Lock _gate = new();
    private readonly List<Task> _deliveries = [];

    public int MaxAttempts { get; init; } = 5;

    /// <summary>Deliveries that ended in a dead-letter topic: (app, topic, event id).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(string App, string Topic, string EventId)> DeadLettered { get; } = new();

    /// <summary>Reads the app's subscriptions as its sidecar would at start-up.</summary>
    public async Task SubscribeAsync(string app, HttpClient client)
    {
        var subscriptions = await client.GetFromJsonAsync<List<Subscription>>("/dapr/subscribe", new JsonSerializerOptions(JsonSerializerDefaults.Web));
        lock (_gate) _subscriptions.AddRange(subscriptions!.Select(s => (app, client, s)));
    }

    public override async Task<Empty> PublishEvent(PublishEventRequest request, ServerCallContext context)
    {
        await base.PublishEvent(request, context);
        List<(string App, HttpClient Client, Subscription Subscription)> targets;
        lock (_gate) targets = _subscriptions.Where(s => s.Subscription.Topic == request.Topic && s.Subscription.PubsubName == request.PubsubName).ToList();
        foreach (var target in targets)
        {
            var delivery = Task.Run(() => DeliverAsync(target.App, target.Client, target.Subscription, request));
            lock (_gate) _deliveries.Add(delivery);
        }
        return new Empty();
    }

    private async Task DeliverAsync(string app, HttpClient client, Subscription subscription, PublishEventRequest request)
    {
        var id = request.Metadata.TryGetValue("cloudevent.id", out var given) ? given : Guid.NewGuid().ToString();
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            if (await PostAsync(client, subscription.Route, subscription.Topic, id, request)) return;
            await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt));
        }
        if (subscription.DeadLetterTopic is { } deadLetter)
        {
            DeadLettered.Enqueue((app, subscription.Topic, id));
            Subscription? route;
            lock (_gate) route = _subscriptions.FirstOrDefault(s => s.App == app && s.Subscription.Topic == deadLetter).Subscription;
            if (route is not null) await PostAsync(client, route.Route, deadLetter, id, request);
        }
    }

    private static async Task<bool> PostAsync(HttpClient client, string route, string topic, string id, PublishEventRequest request)
    {
        var envelope = new JsonObject
        {
            ["specversion"] = "1.0",
            ["id"] = id,
            ["type"] = request.Metadata.TryGetValue("cloudevent.type", out var type) ? type : "com.dapr.event.sent",
            ["source"] = request.Metadata.TryGetValue("cloudevent.source", out var source) ? source : "dapr",
            ["topic"] = topic,
            ["pubsubname"] = request.PubsubName,
            ["datacontenttype"] = "application/json",
            ["data"] = JsonNode.Parse(request.Data.ToStringUtf8()),
        };
        if (request.Metadata.TryGetValue("cloudevent.traceparent", out var traceparent)) envelope["traceparent"] = traceparent;
        using var content = new StringContent(envelope.ToJsonString(), Encoding.UTF8, "application/cloudevents+json");
        try
        {
            using var response = await client.PostAsync("/" + route.TrimStart('/'), content);
            if (!response.IsSuccessStatusCode) return false;
            var body = await response.Content.ReadAsStringAsync();
            return !body.Contains("RETRY", StringComparison.Ordinal);
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
