using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CxMesh.Host;
using CxMesh.Platform.Messaging;
using CxMesh.TestKit;
using NJsonSchema;

namespace CxMesh.Deploy.Tests;

/// <summary>
/// The chart's Dapr manifests against the code: what each service subscribes to (read from its running
/// GET /dapr/subscribe) must be what the pub/sub component lets it subscribe to, so chart and code cannot drift.
/// </summary>
public sealed class DaprManifestTests
{
    public static TheoryData<string> PubSubFiles => new("pubsub-redis.yaml", "pubsub-kafka.yaml");

    private static JsonObject Component(string file) => Yaml.Load(Yaml.Chart("files", "dapr", file))!.AsObject();

    private static string MetadataValue(JsonObject component, string name) =>
        component["spec"]!["metadata"]!.AsArray().Single(m => (string?)m!["name"] == name)!["value"]!.GetValue<string>();

    private static Dictionary<string, HashSet<string>> SubscriptionScopes(JsonObject component) =>
        MetadataValue(component, "subscriptionScopes").Split(';').Select(s => s.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet());

    private sealed record Subscription(string PubsubName, string Topic, string? Route, string? DeadLetterTopic);

    private static async Task<IReadOnlyList<Subscription>> SubscribeAsync(string service)
    {
        // One service alone delivers through Dapr: the subscription endpoint is what its sidecar would read.
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = service);
        return (await host.Http().GetFromJsonAsync<List<Subscription>>("/dapr/subscribe", new JsonSerializerOptions(JsonSerializerDefaults.Web)))!;
    }

    [Theory]
    [MemberData(nameof(PubSubFiles))]
    public async Task Each_service_may_subscribe_to_exactly_its_topics_and_their_dead_letter_topics(string file)
    {
        var component = Component(file);
        var scopes = SubscriptionScopes(component);
        // The web module publishes and consumes nothing: it has no sidecar and no place in the component.
        var withEvents = Modules.All.Where(m => m.Name != CxMesh.Web.WebModule.Name).ToList();
        Assert.Equal(withEvents.Select(m => $"cxmesh-{m.Name}").Order(), scopes.Keys.Order());
        Assert.Equal(withEvents.Select(m => $"cxmesh-{m.Name}").Order(), component["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).Order());
        foreach (var module in withEvents)
        {
            var subscriptions = await SubscribeAsync(module.Name);
            Assert.All(subscriptions, s => Assert.Equal((string)component["metadata"]!["name"]!, s.PubsubName));
            Assert.All(subscriptions, s => Assert.Equal(DaprSubscriptions.RoutePrefix + s.Topic, "/" + s.Route?.TrimStart('/')));
            var fromCode = subscriptions.Select(s => s.Topic).Concat(subscriptions.Select(s => s.DeadLetterTopic).OfType<string>()).ToHashSet();
            var inChart = scopes[$"cxmesh-{module.Name}"];
            Assert.True(fromCode.SetEquals(inChart),
                $"{file}, cxmesh-{module.Name}: code subscribes to [{string.Join(", ", fromCode.Order())}], the chart allows [{string.Join(", ", inChart.Order())}]");
            // Every consumed topic names its dead-letter topic, and that one is subscribed too (kept in dead_letters).
            Assert.All(subscriptions.Where(s => !s.Topic.EndsWith(".deadletter", StringComparison.Ordinal)),
                s => Assert.Contains(subscriptions, d => d.Topic == s.DeadLetterTopic));
        }
    }

    [Theory]
    [MemberData(nameof(PubSubFiles))]
    public void The_allowed_topics_are_every_published_topic_and_the_dead_letter_topics_in_use(string file)
    {
        var component = Component(file);
        var allowed = MetadataValue(component, "allowedTopics").Split(',').ToHashSet();
        var deadLetters = SubscriptionScopes(component).Values.SelectMany(t => t).Where(t => t.EndsWith(".deadletter", StringComparison.Ordinal));
        var expected = Topics.All.Select(t => t.Name).Concat(deadLetters).ToHashSet();
        Assert.True(expected.SetEquals(allowed), $"expected [{string.Join(", ", expected.Order())}], allowed [{string.Join(", ", allowed.Order())}]");
        Assert.All(Topics.All, t => Assert.Equal(t.Name + ".deadletter", t.DeadLetterTopic));
    }

    public static TheoryData<string, string> StaticManifests => new()
    {
        { "pubsub-redis.yaml", "dapr-component.schema.json" },
        { "pubsub-kafka.yaml", "dapr-component.schema.json" },
        { "resiliency.yaml", "dapr-resiliency.schema.json" },
    };

    [Theory]
    [MemberData(nameof(StaticManifests))]
    public async Task Static_manifests_validate_against_their_schema(string file, string schemaFile)
    {
        var schema = await JsonSchema.FromJsonAsync(await File.ReadAllTextAsync(Yaml.Chart("schemas", schemaFile)));
        var manifest = Yaml.Load(Yaml.Chart("files", "dapr", file))!;
        var errors = schema.Validate(manifest.ToJsonString());
        Assert.True(errors.Count == 0, string.Join("; ", errors.Select(e => $"{e.Path}: {e.Kind}")));

        // And the schema is not a yes-man: the same manifest with a typo fails.
        var broken = manifest.DeepClone().AsObject();
        broken["spec"]!.AsObject()["polices"] = new JsonObject();
        Assert.NotEmpty(schema.Validate(broken.ToJsonString()));
    }

    [Fact]
    public void Resiliency_retries_are_bounded_and_apply_to_the_pubsub_component()
    {
        var resiliency = Yaml.Load(Yaml.Chart("files", "dapr", "resiliency.yaml"))!;
        foreach (var (_, policy) in resiliency["spec"]!["policies"]!["retries"]!.AsObject())
        {
            Assert.InRange(policy!["maxRetries"]!.GetValue<long>(), 1, 20);
        }
        var name = (string)Component("pubsub-redis.yaml")["metadata"]!["name"]!;
        var target = resiliency["spec"]!["targets"]!["components"]![name]!;
        Assert.NotNull(target["inbound"]?["retry"]);
        Assert.NotNull(target["outbound"]?["timeout"]);
        Assert.Equal(SubscriptionScopes(Component("pubsub-redis.yaml")).Keys.Order(), resiliency["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).Order());
    }
}
