using System.Text;

namespace CxMesh.Notifications.Domain;

/// <summary>What a channel can hear of, and which topics go to every channel that asked for them.</summary>
public static class NotificationTopics
{
    public const string ActionCreated = "action.created";
    public const string ActionOverdue = "action.overdue";
    public const string ActionEscalated = "action.escalated";
    public const string PartnerResponse = "partner.response";
    public const string ReportPublished = "report.published";
    public const string Praise = "praise";
    public const string Digest = "digest";
    public const string Test = "test";

    /// <summary>The topics about an action, heard by its owner's and team's channels (an empty topic list means these and praise).</summary>
    public static readonly IReadOnlyList<string> ActionTopics = [ActionCreated, ActionOverdue, ActionEscalated];

    /// <summary>Topics without an owner: they go to every channel that lists them.</summary>
    public static readonly IReadOnlyList<string> Broadcast = [PartnerResponse, ReportPublished];
}

/// <summary>A message before it meets a channel: a subject, plain-text lines and a link into the console.</summary>
public sealed record Message(string Subject, string Body, string? Link);

/// <summary>Several messages as one daily digest.</summary>
public static class Digests
{
    public static Message Compose(IReadOnlyList<Message> items, string? consoleLink)
    {
        var body = new StringBuilder();
        foreach (var m in items)
        {
            body.Append("• ").Append(m.Subject);
            if (m.Link is { } l) body.Append(" — ").Append(l);
            body.Append('\n');
        }
        return new Message($"CxMesh daily digest: {items.Count} {(items.Count == 1 ? "update" : "updates")}", body.ToString().TrimEnd(), consoleLink);
    }
}

/// <summary>When a message to a channel goes out: now, after its quiet hours, or at its next digest hour.</summary>
public static class SendTimes
{
    public static DateTimeOffset Next(bool digest, int digestHour, TimeOnly? quietStart, TimeOnly? quietEnd, TimeZoneInfo zone, DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(now, zone);
        if (digest)
        {
            var at = new DateTimeOffset(local.Year, local.Month, local.Day, digestHour, 0, 0, local.Offset);
            if (at <= local) at = at.AddDays(1);
            return Normalise(at, zone);
        }
        if (quietStart is not { } start || quietEnd is not { } end || start == end) return now;
        var time = TimeOnly.FromTimeSpan(local.TimeOfDay);
        var quiet = start < end ? time >= start && time < end : time >= start || time < end;
        if (!quiet) return now;
        var endsOn = local.Date + end.ToTimeSpan();
        if (endsOn <= local.DateTime) endsOn = endsOn.AddDays(1);
        return Normalise(new DateTimeOffset(endsOn, local.Offset), zone);
    }

    /// <summary>The same wall-clock time with the zone's offset on that day (daylight saving may differ from today's).</summary>
    private static DateTimeOffset Normalise(DateTimeOffset at, TimeZoneInfo zone)
    {
        var wall = at.DateTime;
        if (zone.IsInvalidTime(wall)) wall = wall.AddHours(1);
        return new DateTimeOffset(wall, zone.GetUtcOffset(wall)).ToUniversalTime();
    }
}
