using CxMesh.Governance.V1;
using CxMesh.Platform.Messaging;
using CxMesh.TestKit;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Governance.Tests;

/// <summary>People and events the governance tests share; every key is unique per test so tests never meet.</summary>
internal static class GovernanceTestKit
{
    public static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    public sealed record People(string Team, string Sponsor, string Owner, string Other, string Journey);

    /// <summary>A team, three members, and a journey whose sponsor and owner they are.</summary>
    public static async Task<People> PeopleAsync(GovernanceService.GovernanceServiceClient client)
    {
        var team = Unique("team");
        await client.CreateTeamAsync(new CreateTeamRequest { Team = new Team { Id = team, Name = "Delivery" } });
        var sponsor = Unique("sponsor");
        var owner = Unique("owner");
        var other = Unique("other");
        foreach (var m in new[] { sponsor, owner, other })
        {
            await client.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = m, Name = m, TeamId = team } });
        }
        var journey = Unique("journey");
        await client.AssignJourneyOwnersAsync(new AssignJourneyOwnersRequest { JourneyKey = journey, SponsorId = sponsor, OwnerId = owner });
        return new People(team, sponsor, owner, other, journey);
    }

    /// <summary>Delivers an event to governance's handler as the relay or Dapr would; false when it was a duplicate.</summary>
    public static async Task<DeliveryOutcome> DeliverAsync<TEvent>(CxMeshTestHost host, EventTopic<TEvent> topic, string eventId, TEvent evt)
        where TEvent : IMessage<TEvent>, new()
    {
        var subscription = host.Services.GetServices<EventSubscription>().Single(s => s.Service == "governance" && s.Topic.Name == topic.Name);
        var outcome = await host.Services.GetRequiredService<EventDispatcher>()
            .DeliverAsync(subscription, new IncomingEvent(eventId, topic.Name, topic.EventType, EventJson.Format(evt), null), default);
        Assert.NotEqual(DeliveryOutcome.DeadLettered, outcome);
        return outcome;
    }
}
