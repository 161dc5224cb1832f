using System.Globalization;
using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Api;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.WebUtilities;

namespace CxMesh.Web.Pages.Feedback;

/// <summary>
/// The explorer's filters: every filter <c>ListFeedback</c> has, read from and written to the page's query string (so a
/// view is a link to share), and turned into the request. Names are the proto fields'.
/// </summary>
public sealed class FeedbackFilters
{
    public string? JourneyKey { get; set; }
    public string? TouchpointKey { get; set; }
    public string? ProductId { get; set; }
    public string? LotId { get; set; }
    public string? ThemeKey { get; set; }
    public string? TextContains { get; set; }
    public string? QuestionId { get; set; }
    public int? MinRating { get; set; }
    public int? MaxRating { get; set; }
    public Channel Channel { get; set; }
    public Audience Audience { get; set; }
    public Polarity Polarity { get; set; }
    public bool? Duplicate { get; set; }
    public DateTime? From { get; set; }
    public DateTime? To { get; set; }

    public static IReadOnlyList<Channel> Channels { get; } = [.. System.Enum.GetValues<Channel>().Where(c => c != Channel.Unspecified)];

    public static IReadOnlyList<Polarity> Polarities { get; } = [Polarity.Negative, Polarity.Mixed, Polarity.Neutral, Polarity.Positive];

    public ListFeedbackRequest ToRequest(int pageSize, string? pageToken = null)
    {
        var request = new ListFeedbackRequest
        {
            PageSize = pageSize,
            PageToken = pageToken ?? "",
            JourneyKey = JourneyKey ?? "",
            TouchpointKey = TouchpointKey ?? "",
            ProductId = ProductId ?? "",
            LotId = LotId ?? "",
            ThemeKey = ThemeKey ?? "",
            TextContains = TextContains ?? "",
            QuestionId = QuestionId ?? "",
            Channel = Channel,
            Audience = Audience,
            Polarity = Polarity,
        };
        if (MinRating is { } min) request.MinRating = min;
        if (MaxRating is { } max) request.MaxRating = max;
        if (Duplicate is { } duplicate) request.Duplicate = duplicate;
        if (From is { } from) request.ReceivedAfter = Timestamp.FromDateTime(DateTime.SpecifyKind(from.Date, DateTimeKind.Utc));
        if (To is { } to) request.ReceivedBefore = Timestamp.FromDateTime(DateTime.SpecifyKind(to.Date.AddDays(1), DateTimeKind.Utc));
        return request;
    }

    /// <summary>The query string of these filters (empty ones left out).</summary>
    public string ToQuery()
    {
        var query = new Dictionary<string, string?>
        {
            ["journey_key"] = JourneyKey,
            ["touchpoint_key"] = TouchpointKey,
            ["product_id"] = ProductId,
            ["lot_id"] = LotId,
            ["theme_key"] = ThemeKey,
            ["text_contains"] = TextContains,
            ["question_id"] = QuestionId,
            ["min_rating"] = MinRating?.ToString(CultureInfo.InvariantCulture),
            ["max_rating"] = MaxRating?.ToString(CultureInfo.InvariantCulture),
            ["channel"] = ChannelNames.Name(Channel),
            ["audience"] = Audience switch { Audience.Customer => "customer", Audience.Employee => "employee", _ => null },
            ["polarity"] = Polarity == Polarity.Unspecified ? null : Polarity.ToString().ToLowerInvariant(),
            ["duplicate"] = Duplicate is { } d ? (d ? "true" : "false") : null,
            ["from"] = From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["to"] = To?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
        return QueryHelpers.AddQueryString("", query.Where(q => !string.IsNullOrWhiteSpace(q.Value)));
    }

    /// <summary>The filters a query string names; a value that is no filter's is ignored (the service checks the rest).</summary>
    public static FeedbackFilters FromQuery(string query)
    {
        var q = QueryHelpers.ParseQuery(query);
        string? Get(string key) => q.TryGetValue(key, out var v) && v.ToString() is { Length: > 0 } s ? s : null;
        int? Int(string key) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;
        DateTime? Date(string key) => DateTime.TryParseExact(Get(key), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
        return new FeedbackFilters
        {
            JourneyKey = Get("journey_key"),
            TouchpointKey = Get("touchpoint_key"),
            ProductId = Get("product_id"),
            LotId = Get("lot_id"),
            ThemeKey = Get("theme_key"),
            TextContains = Get("text_contains"),
            QuestionId = Get("question_id"),
            MinRating = Int("min_rating"),
            MaxRating = Int("max_rating"),
            Channel = Channels.FirstOrDefault(c => ChannelNames.Name(c) == Get("channel")),
            Audience = Get("audience") switch { "customer" => Audience.Customer, "employee" => Audience.Employee, _ => Audience.Unspecified },
            Polarity = Polarities.FirstOrDefault(p => p.ToString().Equals(Get("polarity"), StringComparison.OrdinalIgnoreCase)),
            Duplicate = Get("duplicate") switch { "true" => true, "false" => false, _ => null },
            From = Date("from"),
            To = Date("to"),
        };
    }
}
