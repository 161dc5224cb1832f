using CxMesh.Common.V1;
using CxMesh.Feedback.Data;
using CxMesh.Feedback.Domain;
using CxMesh.Feedback.Domain.Text;
using Polarity = CxMesh.Common.V1.Polarity;
using ThemeMention = CxMesh.Common.V1.ThemeMention;

namespace CxMesh.Feedback.Api;

/// <summary>Between the wire's enums and messages and what the Domain and the database hold.</summary>
internal static class ProtoMapping
{
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

    public static ThemeMention ToProto(StoredTheme theme) => new()
    {
        ThemeKey = theme.Key,
        SentimentScore = theme.Sentiment,
        Polarity = ToProto(new SentimentScore(theme.Sentiment).Polarity),
    };

    public static Polarity ToProto(Domain.Text.Polarity polarity) => polarity switch
    {
        Domain.Text.Polarity.Negative => Polarity.Negative,
        Domain.Text.Polarity.Positive => Polarity.Positive,
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
