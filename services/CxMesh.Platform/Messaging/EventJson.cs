using Google.Protobuf;

namespace CxMesh.Platform.Messaging;

/// <summary>Event payloads are the proto3 JSON form of the event message.</summary>
public static class EventJson
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    // Unknown fields are ignored so that a consumer keeps working when a producer adds fields (v1 stays compatible).
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public static string Format(IMessage message) => Formatter.Format(message);

    public static TEvent Parse<TEvent>(string json) where TEvent : IMessage<TEvent>, new() => Parser.Parse<TEvent>(json);
}
