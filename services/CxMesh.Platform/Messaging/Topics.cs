using CxMesh.Events.V1;

namespace CxMesh.Platform.Messaging;

/// <summary>Every topic CxMesh publishes, with the message it carries (protos/cxmesh/events/v1).</summary>
public static class Topics
{
    public static readonly EventTopic<FeedbackReceived> FeedbackReceived = new("feedback.received.v1");

    public static IReadOnlyList<IEventTopic> All { get; } = [FeedbackReceived];
}
