using CxMesh.Common.V1;
using CxMesh.Feedback.Data;
using CxMesh.Feedback.Domain;
using CxMesh.Feedback.Domain.Text;
using CxMesh.Feedback.V1;
using Google.Protobuf.WellKnownTypes;
using Polarity = CxMesh.Common.V1.Polarity;
using ThemeMention = CxMesh.Common.V1.ThemeMention;

namespace CxMesh.Feedback.Api;

/// <summary>Between the wire's enums and messages and what the Domain and the database hold.</summary>
internal static class ProtoMapping
{
    public static Turn ToTurn(ConversationTurn turn) => new(
        turn.Speaker switch { V1.Speaker.Agent => Domain.Speaker.Agent, V1.Speaker.System => Domain.Speaker.System, _ => Domain.Speaker.Customer },
        turn.Text, turn.At?.ToDateTimeOffset());

    public static ConversationTurn ToProto(Turn turn) => new()
    {
        Speaker = turn.Speaker switch { Domain.Speaker.Agent => V1.Speaker.Agent, Domain.Speaker.System => V1.Speaker.System, _ => V1.Speaker.Customer },
        Text = turn.Text,
        At = turn.At is { } at ? Timestamp.FromDateTimeOffset(at) : null,
    };

    private sealed record StoredTurn(string Speaker, string Text, DateTimeOffset? At);

    /// <summary>Turns as the conversation column keeps them: [{"speaker": "agent", "text": "...", "at": "..."}].</summary>
    public static string StoredConversation(IEnumerable<Turn> turns) =>
        System.Text.Json.JsonSerializer.Serialize(turns.Select(t => new StoredTurn(t.Speaker.ToString().ToLowerInvariant(), t.Text, t.At)), StoredJson);

    /// <summary>The stored turns with each text passed through <paramref name="redact"/>; the same JSON when nothing changed.</summary>
    public static string RedactConversation(string stored, Func<string, string> redact)
    {
        var turns = System.Text.Json.JsonSerializer.Deserialize<List<StoredTurn>>(stored, StoredJson) ?? [];
        var redacted = turns.Select(t => t with { Text = redact(t.Text) }).ToList();
        return redacted.SequenceEqual(turns) ? stored : System.Text.Json.JsonSerializer.Serialize(redacted, StoredJson);
    }

    public static Conversation? ToConversation(string? stored)
    {
        if (stored is null) return null;
        var conversation = new Conversation();
        foreach (var t in System.Text.Json.JsonSerializer.Deserialize<List<StoredTurn>>(stored, StoredJson) ?? [])
        {
            conversation.Turns.Add(ToProto(new Turn(System.Enum.Parse<Domain.Speaker>(t.Speaker, ignoreCase: true), t.Text, t.At)));
        }
        return conversation;
    }

    private static readonly System.Text.Json.JsonSerializerOptions StoredJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    public static Metric ToProto(MetricKind metric) => metric switch
    {
        MetricKind.Nps => Metric.Nps,
        MetricKind.Csat => Metric.Csat,
        MetricKind.Ces => Metric.Ces,
        MetricKind.Enps => Metric.Enps,
        _ => Metric.Custom,
    };

    public static MetricKind FromProto(Metric metric) => metric switch
    {
        Metric.Nps => MetricKind.Nps,
        Metric.Csat => MetricKind.Csat,
        Metric.Ces => MetricKind.Ces,
        Metric.Enps => MetricKind.Enps,
        _ => MetricKind.Custom,
    };

    /// <summary>A re-tag as the API shows it: speed since the start, and the time left at that speed.</summary>
    public static RetagJob ToProto(RetagJobRow job, DateTimeOffset now)
    {
        var end = job.FinishedAt is { } finished ? new DateTimeOffset(finished, TimeSpan.Zero) : now;
        var seconds = Math.Max(0.001, (end - new DateTimeOffset(job.ChangedAt, TimeSpan.Zero)).TotalSeconds);
        var speed = job.ItemsScanned / seconds;
        var proto = new RetagJob
        {
            TaxonomyVersion = job.Version,
            State = job.State switch
            {
                "running" => RetagState.Running,
                "finished" => RetagState.Finished,
                "superseded" => RetagState.Superseded,
                _ => RetagState.Unspecified,
            },
            Change = job.Change,
            ItemsTotal = job.ItemsTotal,
            ItemsScanned = job.ItemsScanned,
            ItemsChanged = job.ItemsChanged,
            StartedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(job.ChangedAt, DateTimeKind.Utc)),
            ItemsPerSecond = Math.Round(speed, 1),
            EtaSeconds = job.State == "running" && speed > 0 ? (long)Math.Ceiling(Math.Max(0, job.ItemsTotal - job.ItemsScanned) / speed) : 0,
        };
        if (job.FinishedAt is { } at) proto.FinishedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(at, DateTimeKind.Utc));
        return proto;
    }

    public static ThemeMention ToProto(StoredTheme theme) => new()
    {
        ThemeKey = theme.Key,
        SentimentScore = theme.Sentiment,
        Polarity = ToProto(new SentimentScore(theme.Sentiment).Polarity),
    };

    /// <summary>An item's polarity as stored: unspecified without words, mixed when its clauses were.</summary>
    public static Polarity PolarityOf(FeedbackRow row) =>
        row.Sentiment is { } score ? ToProto(new SentimentScore(score, row.SentimentMixed).Polarity) : Polarity.Unspecified;

    public static Domain.Text.Polarity FromProto(Polarity polarity) => polarity switch
    {
        Polarity.Negative => Domain.Text.Polarity.Negative,
        Polarity.Positive => Domain.Text.Polarity.Positive,
        Polarity.Mixed => Domain.Text.Polarity.Mixed,
        _ => Domain.Text.Polarity.Neutral,
    };

    public static Polarity ToProto(Domain.Text.Polarity polarity) => polarity switch
    {
        Domain.Text.Polarity.Negative => Polarity.Negative,
        Domain.Text.Polarity.Positive => Polarity.Positive,
        Domain.Text.Polarity.Mixed => Polarity.Mixed,
        _ => Polarity.Neutral,
    };
}

/// <summary>Channels are stored by name (contact_centre), not by proto number.</summary>
internal static class ChannelNames
{
    public static string ToStored(Channel channel) => channel switch
    {
        Channel.Survey => "survey",
        Channel.Complaint => "complaint",
        Channel.ContactCentre => "contact_centre",
        Channel.Web => "web",
        Channel.SelfService => "self_service",
        Channel.Social => "social",
        Channel.Review => "review",
        Channel.Other => "other",
        _ => throw new ArgumentOutOfRangeException(nameof(channel), channel, "Not a storable channel."),
    };

    public static Channel FromStored(string channel) => channel switch
    {
        "survey" => Channel.Survey,
        "complaint" => Channel.Complaint,
        "contact_centre" => Channel.ContactCentre,
        "web" => Channel.Web,
        "self_service" => Channel.SelfService,
        "social" => Channel.Social,
        "review" => Channel.Review,
        "other" => Channel.Other,
        _ => Channel.Unspecified,
    };
}
