using CxMesh.Platform.Messaging;
using CxMesh.TestKit;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Tests;

/// <summary>Delivers events to the scoring host's handlers as the transport does, in batches.</summary>
public static class ScoringEvents
{
    public static async Task DeliverAsync<TEvent>(CxMeshTestHost host, EventTopic<TEvent> topic, IReadOnlyList<TEvent> events, Func<TEvent, string> id)
        where TEvent : IMessage<TEvent>, new()
    {
        var subscription = host.Services.GetServices<EventSubscription>().Single(s => s.Service == "scoring" && s.Topic.Name == topic.Name);
        var dispatcher = host.Services.GetRequiredService<EventDispatcher>();
        foreach (var chunk in events.Chunk(200))
        {
            var outcomes = await dispatcher.DeliverManyAsync(subscription,
                chunk.Select(e => new IncomingEvent(id(e), topic.Name, topic.EventType, EventJson.Format(e), null)).ToList(), default);
            Assert.DoesNotContain(DeliveryOutcome.DeadLettered, outcomes);
        }
    }
}
