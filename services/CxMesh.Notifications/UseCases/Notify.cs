using CxMesh.Notifications.Data;
using CxMesh.Notifications.Domain;
using CxMesh.Platform.Messaging;
using Microsoft.Extensions.Options;

namespace CxMesh.Notifications.UseCases;

/// <summary>Who hears of something: the people and teams it concerns, for a topic; or, for a broadcast topic, everyone who asked.</summary>
public sealed record Audience(string Topic, IReadOnlyList<string> People, IReadOnlyList<string> Teams)
{
    public bool Broadcast => NotificationTopics.Broadcast.Contains(Topic);
}

/// <summary>
/// Turns an event into one message per channel that should hear of it, in the consumer's transaction (its inbox row),
/// so a redelivered event sends nothing twice: each message waits for its channel's time (now, after quiet hours, or at
/// the daily digest) in the deliveries outbox.
/// </summary>
public sealed class Notify(IOptions<NotificationsOptions> options)
{
    public string Link(string path) => options.Value.ConsoleBase + path;

    public async Task<int> NotifyAsync(EventContext context, Audience audience, Message message, CancellationToken ct)
    {
        var channels = await ChannelStore.AudienceAsync(context, audience.Topic, audience.Broadcast, audience.People, audience.Teams, ct);
        var queued = 0;
        foreach (var channel in channels)
        {
            var digest = channel.Mode == "digest";
            queued += await DeliveryStore.EnqueueAsync(context, new DeliveryRow
            {
                DeliveryId = Guid.CreateVersion7(),
                ChannelId = channel.ChannelId,
                EventId = context.EventId,
                Topic = audience.Topic,
                Subject = message.Subject,
                Body = message.Body,
                Link = message.Link,
                State = digest ? "digest" : "pending",
                NextAttemptAt = When(channel, context.Now).UtcDateTime,
            }, ct);
        }
        return queued;
    }

    /// <summary>When a message to this channel goes out, from now.</summary>
    public static DateTimeOffset When(ChannelRow channel, DateTimeOffset now) =>
        SendTimes.Next(channel.Mode == "digest", channel.DigestHour, Time(channel.QuietStart), Time(channel.QuietEnd), Zone(channel.TimeZone), now);

    public static TimeZoneInfo Zone(string id) => TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : TimeZoneInfo.Utc;

    private static TimeOnly? Time(string? hhmm) => TimeOnly.TryParseExact(hhmm, "HH:mm", out var t) ? t : null;
}
