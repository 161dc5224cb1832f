using Google.Protobuf;

namespace CxMesh.Platform.Messaging;

/// <summary>A topic and the proto message its events carry. Topic names are <c>&lt;producer&gt;.&lt;event&gt;.v1</c>.</summary>
public sealed class EventTopic<TEvent>(string name) : IEventTopic where TEvent : IMessage<TEvent>, new()
{
    public string Name { get; } = name;
    public string EventType { get; } = new TEvent().Descriptor.FullName;
    public string DeadLetterTopic => $"{Name}.deadletter";
    /// <summary>The relay deletes the outbox row as soon as it is sent (events that name an erased customer).</summary>
    public bool ForgetWhenSent { get; init; }
    public override string ToString() => Name;
}

public interface IEventTopic
{
    string Name { get; }
    string EventType { get; }
    string DeadLetterTopic { get; }
    bool ForgetWhenSent { get; }
}
