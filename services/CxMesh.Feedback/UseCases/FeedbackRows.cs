using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CxMesh.Common.V1;
using CxMesh.Feedback.Api;
using CxMesh.Feedback.Domain;
using CxMesh.Feedback.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Feedback.UseCases;

/// <summary>
/// A row of cells, however it was read (a CSV or spreadsheet row, a JSON record, a connector's event), becomes a
/// SubmitFeedbackRequest the same way: the fields mapped to its cells, each cell parsed and refused naming its column
/// (the header, or the JSON pointer a value came from) when it cannot be read.
/// </summary>
public static class FeedbackRows
{
    public static readonly string[] PlainFields =
    [
        "customer_id", "channel", "audience", "journey_key", "journey_id", "touchpoint_key", "product_id", "lot_id", "store_id", "unit_key", "given_at", "verbatim",
        "external_id", "survey_id", "contact.name", "contact.email", "contact.phone", "contact.address", "conversation",
    ];

    /// <summary>Whether <paramref name="field"/> names something a row can fill: a plain field, rating:&lt;question id&gt; or segment:&lt;attribute&gt;.</summary>
    public static bool IsField(string field) =>
        PlainFields.Contains(field)
        || field.StartsWith("rating:", StringComparison.Ordinal) && CxMesh.Platform.Validation.Identifiers.Key().IsMatch(field["rating:".Length..])
        || field.StartsWith("segment:", StringComparison.Ordinal) && CxMesh.Platform.Validation.Identifiers.Key().IsMatch(field["segment:".Length..]);

    /// <summary>What a field name may be, for messages.</summary>
    public static string FieldList => $"{string.Join(", ", PlainFields)}, rating:<question id> or segment:<attribute>";

    /// <summary>
    /// A record as read: its row number (a CSV's header starts on row 1; a JSON Lines record is its line), its fields,
    /// whether it was well-formed CSV, its raw text, and what makes it no row at all (a line that is not JSON, a value
    /// that is an object), with the column at fault.
    /// </summary>
    public sealed record SourceRow(int Row, string[] Record, bool Broken, string RawRecord, string? Problem = null, string ProblemColumn = "");

    /// <summary>A JSON value as a cell: text as it is, a number as written, true/false, "" for null or missing; null for an object or array.</summary>
    public static string? CellOf(JsonElement? value) => value?.ValueKind switch
    {
        null or JsonValueKind.Null or JsonValueKind.Undefined => "",
        JsonValueKind.String => value.Value.GetString() ?? "",
        JsonValueKind.Number => value.Value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    public sealed record Columns(IReadOnlyDictionary<string, (string Header, int Index)> Fields, IReadOnlyList<(string QuestionId, string Header, int Index)> Ratings,
        IReadOnlyList<(string Attribute, string Header, int Index)> Segment, int Width, TimeZoneInfo Zone, IReadOnlyList<string> DateFormats,
        IReadOnlyList<string> Required)
    {
        /// <summary>Segment attributes whose cells are dates: each is checked and stored as ISO 8601.</summary>
        public IReadOnlySet<string> DateSegments { get; init; } = new HashSet<string>();

        /// <summary>The column a field is read from (the caller made sure it has one).</summary>
        public (string Header, int Index) Locate(string field) =>
            field.StartsWith("rating:", StringComparison.Ordinal) ? Ratings.Where(r => r.QuestionId == field[7..]).Select(r => (r.Header, r.Index)).First()
            : field.StartsWith("segment:", StringComparison.Ordinal) ? Segment.Where(r => r.Attribute == field[8..]).Select(r => (r.Header, r.Index)).First()
            : Fields[field];
    }

    public static IngestEntry Refuse(string column, string message) => new(null, new ItemError { Code = (int)Google.Rpc.Code.InvalidArgument, Field = column, Message = message });

    /// <summary>A value shown in a rejection: enough to find the row, not the whole of what may be personal data.</summary>
    public static string Redact(string value) => value.Length <= 4 ? new string('*', value.Length) : value[..2] + new string('*', Math.Min(value.Length - 4, 12)) + value[^2..];

    /// <summary>The external id of a well-formed row (its cell, trimmed), or null.</summary>
    public static string? ExternalIdOf(SourceRow source, Columns columns) =>
        source is { Problem: null, Broken: false } && source.Record.Length == columns.Width && columns.Fields.TryGetValue("external_id", out var c)
            ? source.Record[c.Index].Trim()
            : null;

    public static (IngestEntry Entry, string[]? RatingColumns) ToEntry(SourceRow source, Columns columns, string sourceSystem, Channel defaultChannel)
    {
        var record = source.Record;
        if (source.Problem is { } problem) return (Refuse(source.ProblemColumn, problem), null);
        if (source.Broken) return (Refuse("", "the row is not well-formed CSV (a quote inside an unquoted field?)."), null);
        if (record.Length != columns.Width)
        {
            return (Refuse("", $"the row has {record.Length} fields, the header has {columns.Width}."), null);
        }
        foreach (var field in columns.Required)
        {
            var (header, at) = columns.Locate(field);
            if (record[at].Trim().Length == 0) return (Refuse(header, $"'{header}' is empty, and the import requires it ({field} in options.required)."), null);
        }
        string Cell(string field) => columns.Fields.TryGetValue(field, out var c) ? record[c.Index].Trim() : "";

        var request = new SubmitFeedbackRequest
        {
            CustomerId = Cell("customer_id"),
            Journey = Cell("journey_key") is { Length: > 0 } key ? key : Cell("journey_id"),
            Verbatim = columns.Fields.TryGetValue("verbatim", out var v) ? record[v.Index] : "",
            Links = new Links { TouchpointKey = Cell("touchpoint_key"), ProductId = Cell("product_id"), LotId = Cell("lot_id"), StoreId = Cell("store_id"), UnitKey = Cell("unit_key") },
            Source = new Source { System = sourceSystem, ExternalId = Cell("external_id"), SurveyId = Cell("survey_id") },
        };

        var channel = Cell("channel");
        if (channel.Length == 0) request.Channel = defaultChannel;
        else if (ParseChannel(channel) is { } parsed) request.Channel = parsed;
        else return (Refuse(columns.Fields["channel"].Header, $"'{channel}' is not a channel: survey, complaint, contact-centre, web, self-service, social, review or other."), null);

        var audience = Cell("audience");
        if (audience.Equals("employee", StringComparison.OrdinalIgnoreCase)) request.Audience = Audience.Employee;
        else if (audience.Length > 0 && !audience.Equals("customer", StringComparison.OrdinalIgnoreCase))
        {
            return (Refuse(columns.Fields["audience"].Header, $"'{audience}' is not an audience: customer or employee."), null);
        }

        var givenAt = Cell("given_at");
        if (givenAt.Length > 0)
        {
            if (ParseTime(givenAt, columns.Zone, columns.DateFormats) is { } at) request.GivenAt = Timestamp.FromDateTimeOffset(at);
            else return (Refuse(columns.Fields["given_at"].Header, $"'{givenAt}' is not a date and time ({DatesExpected(columns.DateFormats)})."), null);
        }

        var used = new List<string>(columns.Ratings.Count);
        foreach (var (questionId, header, at) in columns.Ratings)
        {
            var cell = record[at].Trim();
            if (cell.Length == 0) continue;
            if (!int.TryParse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                return (Refuse(header, $"'{cell}' is not a whole number."), null);
            }
            request.Ratings.Add(new Rating { QuestionId = questionId, Value = value });
            used.Add(header);
        }
        foreach (var (attribute, header, at) in columns.Segment)
        {
            if (record[at].Trim() is not { Length: > 0 } value) continue;
            if (columns.DateSegments.Contains(attribute))
            {
                if (ParseTime(value, columns.Zone, columns.DateFormats) is not { } date)
                {
                    return (Refuse(header, $"'{value}' is not a date ({DatesExpected(columns.DateFormats)}); segment:{attribute} holds dates."), null);
                }
                value = date.TimeOfDay == TimeSpan.Zero ? date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : date.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
            }
            request.Links.Segment[attribute] = value;
        }
        if (Cell("conversation") is { Length: > 0 } transcript)
        {
            var (conversation, unreadable) = ParseConversation(transcript, columns.Zone, columns.DateFormats);
            if (unreadable is not null) return (Refuse(columns.Fields["conversation"].Header, unreadable), null);
            request.Conversation = conversation;
        }
        var contact = new ContactDetails { Name = Cell("contact.name"), Email = Cell("contact.email"), Phone = Cell("contact.phone"), Address = Cell("contact.address") };
        if (contact.Name.Length + contact.Email.Length + contact.Phone.Length + contact.Address.Length > 0) request.Contact = contact;

        // The same row read the same way always gets the same key, so a re-import replays instead of storing twice. A
        // row read another way (another mapping) gets a new key; with an external id it still finds the stored item.
        var identity = request.Source.ExternalId.Length > 0
            ? $"{sourceSystem}\u001f{request.Source.ExternalId}"
            : $"{sourceSystem}\u001f{source.Row}\u001f{source.RawRecord}";
        request.IdempotencyKey = "csv-" + Convert.ToHexStringLower(SHA256.HashData([.. Encoding.UTF8.GetBytes(identity), .. SHA256.HashData(request.ToByteArray())]));
        return (new IngestEntry(request), used.ToArray());
    }

    private static readonly string[] SpeakerKeys = ["speaker", "role", "author", "from", "sender"];
    private static readonly string[] TextKeys = ["text", "body", "message", "content"];
    private static readonly string[] TimeKeys = ["at", "time", "timestamp", "created_at", "createdAt"];

    /// <summary>
    /// A conversation cell: a transcript ("Customer: ...", "Agent: ..." lines) or a JSON array of turns, each an object
    /// with a speaker (speaker, role, author, from), its text (text, body, message, content) and optionally a time (at,
    /// time, timestamp, created_at). Null and the problem when it is neither.
    /// </summary>
    public static (Conversation? Conversation, string? Problem) ParseConversation(string cell, TimeZoneInfo zone, IReadOnlyList<string> dateFormats)
    {
        var conversation = new Conversation();
        // A JSON array of turns starts "[{" or is "[]"; a transcript may start "[10:02] Agent: ...".
        var start = cell.TrimStart();
        if (!(start.StartsWith('[') && start[1..].TrimStart() is ['{', ..] or [']', ..]))
        {
            var (turns, problem) = Conversations.ParseTranscript(cell);
            if (turns is null) return (null, problem);
            conversation.Turns.AddRange(turns.Select(ProtoMapping.ToProto));
            return (conversation, null);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(cell);
        }
        catch (JsonException ex)
        {
            return (null, $"the conversation is not a JSON array of turns ({ex.Message}).");
        }
        using (document)
        {
            var n = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                n++;
                if (element.ValueKind != JsonValueKind.Object) return (null, $"turn {n} is not an object with a speaker and a text.");
                string? Find(string[] keys) => keys.Select(k => element.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null).FirstOrDefault(v => v is not null);
                var label = Find(SpeakerKeys) ?? "";
                if (Conversations.SpeakerOf(label) is not { } speaker)
                {
                    return (null, $"turn {n}: '{(label.Length > 30 ? label[..30] + "…" : label)}' is not a speaker ({Conversations.KnownLabels}).");
                }
                DateTimeOffset? at = null;
                if (Find(TimeKeys) is { Length: > 0 } time)
                {
                    if (ParseTime(time, zone, dateFormats) is not { } parsed) return (null, $"turn {n}: '{time}' is not a date and time.");
                    at = parsed;
                }
                if (n > Conversations.MaxTurns) return (null, $"a conversation holds at most {Conversations.MaxTurns:N0} turns.");
                conversation.Turns.Add(ProtoMapping.ToProto(new Turn(speaker, Find(TextKeys) ?? "", at)));
            }
        }
        return (conversation, null);
    }

    private static string DatesExpected(IReadOnlyList<string> formats) => formats.Count > 0
        ? "as " + string.Join(" or ", formats) + ", or ISO 8601"
        : "ISO 8601: 2026-11-02T09:30:00+08:00, 2026-11-02 09:30 or 2026-11-02";

    public static Channel? ParseChannel(string value) =>
        System.Enum.TryParse<Channel>(value.Replace("-", "").Replace("_", "").Replace(" ", ""), ignoreCase: true, out var c)
        && c != Channel.Unspecified && System.Enum.IsDefined(c) && !int.TryParse(value, out _)
            ? c
            : null;

    private static readonly string[] LocalFormats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm", "yyyy-MM-dd"];

    public static DateTimeOffset? ParseTime(string value, TimeZoneInfo zone, IReadOnlyList<string> formats)
    {
        // The formats given first; ISO 8601 (unambiguous) always, which is how a workbook's date cells are read.
        if (formats.Count > 0 && DateTime.TryParseExact(value, formats.ToArray(), CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var exact))
        {
            return new DateTimeOffset(DateTime.SpecifyKind(exact, DateTimeKind.Unspecified), zone.GetUtcOffset(exact));
        }
        var hasOffset = value.EndsWith('Z') || value.Length > 10 && (value.LastIndexOf('+') > 10 || value.LastIndexOf('-') > 10);
        if (hasOffset)
        {
            return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var withOffset) ? withOffset : null;
        }
        if (!DateTime.TryParseExact(value, LocalFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)) return null;
        var offset = zone.GetUtcOffset(local);
        return new DateTimeOffset(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), offset);
    }

    /// <summary>The column an ingest error is about: ratings[k] is the k-th rating column the row filled.</summary>
    public static string ColumnOf(string field, Columns columns, string[]? ratingColumns)
    {
        if (field.StartsWith("ratings[", StringComparison.Ordinal) && ratingColumns is not null
            && int.TryParse(field.AsSpan(8, field.IndexOf(']') - 8), out var k) && k < ratingColumns.Length)
        {
            return ratingColumns[k];
        }
        if (field == "ratings") return string.Join(", ", columns.Ratings.Select(r => r.Header));
        var name = field switch
        {
            "links.touchpoint_key" or "links.product_id" or "links.lot_id" or "links.store_id" or "links.unit_key" => field["links.".Length..],
            "source.external_id" => "external_id",
            "source.survey_id" => "survey_id",
            _ when field.StartsWith("conversation", StringComparison.Ordinal) => "conversation",
            _ => field,
        };
        return columns.Fields.TryGetValue(name, out var c) ? c.Header : field;
    }
}
