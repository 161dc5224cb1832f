using System.Text.Json;
using Json.Pointer;

namespace CxMesh.Feedback.UseCases;

/// <summary>A mapping that cannot work, naming where in it the problem is.</summary>
public sealed class SourceMappingException(string mapping, string path, string problem)
    : Exception($"source mapping '{mapping}': {(path.Length > 0 ? path + ": " : "")}{problem}")
{
    public string Path { get; } = path;
    public string Problem { get; } = problem;
}

/// <summary>How a source signs its deliveries: an HMAC-SHA256 of the body (after the timestamp header's value, when it has one).</summary>
public sealed record SignatureScheme(string Header, string? TimestampHeader, string Encoding, string Prefix);

/// <summary>
/// One field of an item and where an event holds it: JSON pointers (RFC 6901; several are joined with a blank line,
/// empty ones skipped), or a constant; optionally a table from the source's words to the field's ("good" → "5").
/// </summary>
public sealed record MappedField(string Field, string Header, IReadOnlyList<JsonPointer> Paths, string? Constant, IReadOnlyDictionary<string, string?>? Values);

/// <summary>
/// A declared mapping from a source's JSON events to feedback fields (the connector's whole knowledge of the source),
/// read from a JSON file:
/// <code>
/// {
///   "description": "…",
///   "event_id": "/id",                   the event's own id (or [ "/name", "/review/id" ]): a redelivery replays, never stores twice
///   "signature": { "header": "X-Sig", "timestamp_header": "X-Sig-Timestamp", "encoding": "base64", "prefix": "" },
///   "time_zone": "UTC", "date_formats": [ … ], "required": [ "verbatim" ],
///   "fields": {
///     "external_id": "/detail/id",
///     "verbatim": [ "/detail/subject", "/detail/description" ],
///     "channel": { "value": "complaint" },
///     "rating:csat": { "path": "/detail/satisfaction/score", "values": { "good": "5", "bad": "1", "offered": null } }
///   }
/// }
/// </code>
/// Field names are those of the CSV import. Values are read as text (numbers as written, true/false) and then
/// parsed exactly as a CSV cell would be, so a bad value is refused naming its pointer.
/// </summary>
public sealed class SourceMapping
{
    private static readonly string[] TopLevel = ["description", "event_id", "signature", "time_zone", "date_formats", "required", "fields"];

    public required string Name { get; init; }
    public string Description { get; init; } = "";
    /// <summary>The pointers whose values, joined with ':', are the event's id (a review's id and the event's name, say).</summary>
    public required IReadOnlyList<JsonPointer> EventId { get; init; }
    public required string EventIdPath { get; init; }
    public SignatureScheme? Signature { get; init; }
    public required IReadOnlyList<MappedField> Fields { get; init; }
    public required FeedbackRows.Columns Columns { get; init; }

    /// <summary>The mappings CxMesh ships (Api/SourceMappings/*.json), by name.</summary>
    public static IReadOnlyList<string> BuiltIn { get; } = typeof(SourceMapping).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith("SourceMappings.", StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
        .Select(n => n["SourceMappings.".Length..^".json".Length]).Order(StringComparer.Ordinal).ToList();

    /// <summary>A shipped mapping by name, or a mapping file by path (relative to the working directory).</summary>
    public static SourceMapping Load(string reference)
    {
        if (BuiltIn.Contains(reference))
        {
            using var stream = typeof(SourceMapping).Assembly.GetManifestResourceStream($"SourceMappings.{reference}.json")!;
            using var reader = new StreamReader(stream);
            return Parse(reference, reader.ReadToEnd());
        }
        if (!File.Exists(reference))
        {
            throw new SourceMappingException(reference, "", $"is neither a shipped mapping ({string.Join(", ", BuiltIn)}) nor a mapping file that exists.");
        }
        return Parse(Path.GetFileNameWithoutExtension(reference), File.ReadAllText(reference));
    }

    public static SourceMapping Parse(string name, string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new SourceMappingException(name, "", $"is not JSON ({ex.Message}).");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new SourceMappingException(name, "", "must be a JSON object.");
            foreach (var property in root.EnumerateObject())
            {
                if (!TopLevel.Contains(property.Name))
                {
                    throw new SourceMappingException(name, property.Name, $"is not a key of a mapping: {string.Join(", ", TopLevel)}.");
                }
            }
            if (!root.TryGetProperty("event_id", out var eventIdElement))
            {
                throw new SourceMappingException(name, "event_id", "is required: the JSON pointer of the event's own id (\"/id\"), or an array of pointers whose values together are.");
            }
            var eventIdPaths = eventIdElement.ValueKind == JsonValueKind.String ? [eventIdElement.GetString()!] : Strings(name, eventIdElement, "event_id");
            var signature = root.TryGetProperty("signature", out var s) ? ReadSignature(name, s) : null;
            var zoneName = Text(name, root, "time_zone");
            var zone = TimeZoneInfo.Utc;
            if (zoneName is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(zoneName, out zone!))
            {
                throw new SourceMappingException(name, "time_zone", $"'{zoneName}' is not an IANA time zone.");
            }
            var dateFormats = Texts(name, root, "date_formats");
            var required = Texts(name, root, "required");
            if (!root.TryGetProperty("fields", out var fieldsElement) || fieldsElement.ValueKind != JsonValueKind.Object)
            {
                throw new SourceMappingException(name, "fields", "is required: an object of field name → JSON pointer.");
            }
            var fields = fieldsElement.EnumerateObject().Select(f => Field(name, f)).ToList();
            if (!fields.Any(f => f.Field == "channel"))
            {
                throw new SourceMappingException(name, "fields.channel", "is required: a pointer, or a constant such as { \"value\": \"review\" }.");
            }
            if (!fields.Any(f => f.Field is "verbatim" or "conversation" || f.Field.StartsWith("rating:", StringComparison.Ordinal)))
            {
                throw new SourceMappingException(name, "fields", "maps no verbatim, conversation or rating: an event would have nothing to store.");
            }
            for (var i = 0; i < required.Count; i++)
            {
                if (!fields.Any(f => f.Field == required[i])) throw new SourceMappingException(name, $"required[{i}]", $"'{required[i]}' is not a mapped field.");
            }
            var plain = new Dictionary<string, (string, int)>();
            var ratings = new List<(string, string, int)>();
            var segment = new List<(string, string, int)>();
            for (var i = 0; i < fields.Count; i++)
            {
                var f = fields[i];
                if (f.Field.StartsWith("rating:", StringComparison.Ordinal)) ratings.Add((f.Field["rating:".Length..], f.Header, i));
                else if (f.Field.StartsWith("segment:", StringComparison.Ordinal)) segment.Add((f.Field["segment:".Length..], f.Header, i));
                else plain[f.Field] = (f.Header, i);
            }
            return new SourceMapping
            {
                Name = name,
                Description = Text(name, root, "description") ?? "",
                EventId = eventIdPaths.Select((p, i) => Pointer(name, $"event_id[{i}]", p)).ToList(),
                EventIdPath = string.Join(" + ", eventIdPaths),
                Signature = signature,
                Fields = fields,
                Columns = new FeedbackRows.Columns(plain, ratings, segment, fields.Count, zone, dateFormats, required),
            };
        }
    }

    /// <summary>The cells of an event in field order, and the problems by pointer (a value where an object is, a word the table does not know).</summary>
    public (string[] Cells, Dictionary<string, string[]> Problems) Read(JsonElement root)
    {
        var cells = new string[Fields.Count];
        var problems = new Dictionary<string, string[]>();
        for (var i = 0; i < Fields.Count; i++)
        {
            var field = Fields[i];
            if (field.Constant is not null)
            {
                cells[i] = field.Constant;
                continue;
            }
            var parts = new List<string>(field.Paths.Count);
            foreach (var path in field.Paths)
            {
                var value = path.Evaluate(root);
                // A conversation may be an array of turns: its cell is the array's JSON.
                var text = field.Field == "conversation" && value?.ValueKind == JsonValueKind.Array ? value.Value.GetRawText() : FeedbackRows.CellOf(value);
                if (text is null)
                {
                    problems[path.ToString()] = [$"holds {(value!.Value.ValueKind == JsonValueKind.Object ? "an object" : "an array")} where {field.Field} expects a value: the mapping must point at a value inside it."];
                }
                else if (text.Length > 0)
                {
                    parts.Add(text);
                }
            }
            var cell = string.Join("\n\n", parts);
            if (field.Values is not null && cell.Length > 0)
            {
                if (field.Values.TryGetValue(cell.Trim(), out var mapped))
                {
                    cell = mapped ?? "";
                }
                else
                {
                    problems[field.Header] = [$"'{(cell.Length > 40 ? cell[..40] + "…" : cell)}' is not a value {field.Field} knows here: {string.Join(", ", field.Values.Keys)}."];
                }
            }
            cells[i] = cell;
        }
        return (cells, problems);
    }

    private static MappedField Field(string name, JsonProperty property)
    {
        var at = $"fields.{property.Name}";
        if (!FeedbackRows.IsField(property.Name))
        {
            throw new SourceMappingException(name, at, $"is not a field: use one of {FeedbackRows.FieldList}.");
        }
        var value = property.Value;
        IReadOnlyList<string> paths;
        string? constant = null;
        Dictionary<string, string?>? values = null;
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                paths = [value.GetString()!];
                break;
            case JsonValueKind.Array:
                paths = Strings(name, value, at);
                break;
            case JsonValueKind.Object:
                foreach (var key in value.EnumerateObject().Select(p => p.Name))
                {
                    if (key is not ("path" or "paths" or "value" or "values")) throw new SourceMappingException(name, $"{at}.{key}", "is not a key of a field: path, paths, value or values.");
                }
                constant = Text(name, value, "value", at);
                paths = value.TryGetProperty("paths", out _) ? Texts(name, value, "paths", at) : Text(name, value, "path", at) is { } one ? [one] : [];
                if (value.TryGetProperty("values", out var table))
                {
                    if (table.ValueKind != JsonValueKind.Object) throw new SourceMappingException(name, $"{at}.values", "must be an object of the source's value → the field's (or null for none).");
                    values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
                    foreach (var entry in table.EnumerateObject())
                    {
                        values[entry.Name] = entry.Value.ValueKind switch
                        {
                            JsonValueKind.Null => null,
                            JsonValueKind.String => entry.Value.GetString(),
                            JsonValueKind.Number => entry.Value.GetRawText(),
                            _ => throw new SourceMappingException(name, $"{at}.values.{entry.Name}", "must be a string, a number or null."),
                        };
                    }
                }
                break;
            default:
                throw new SourceMappingException(name, at, "must be a JSON pointer, an array of them, or an object with path, paths, value or values.");
        }
        if (constant is not null && paths.Count > 0) throw new SourceMappingException(name, at, "has both a constant value and paths: give one.");
        if (constant is null && paths.Count == 0) throw new SourceMappingException(name, at, "names no path and no value.");
        if (property.Name == "channel" && constant is not null && FeedbackRows.ParseChannel(constant) is null)
        {
            throw new SourceMappingException(name, $"{at}.value", $"'{constant}' is not a channel: survey, complaint, contact-centre, web, self-service, social, review or other.");
        }
        var pointers = paths.Select((p, i) => Pointer(name, paths.Count == 1 ? at : $"{at}[{i}]", p)).ToList();
        var header = constant is not null ? property.Name : string.Join(" + ", paths);
        return new MappedField(property.Name, header, pointers, constant, values);
    }

    private static SignatureScheme ReadSignature(string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object) throw new SourceMappingException(name, "signature", "must be an object: header, timestamp_header, encoding, prefix.");
        var header = Text(name, element, "header", "signature") ?? throw new SourceMappingException(name, "signature.header", "is required: the HTTP header the signature comes in.");
        var encoding = Text(name, element, "encoding", "signature") ?? "hex";
        if (encoding is not ("hex" or "base64")) throw new SourceMappingException(name, "signature.encoding", "must be hex or base64.");
        return new SignatureScheme(header, Text(name, element, "timestamp_header", "signature"), encoding, Text(name, element, "prefix", "signature") ?? "");
    }

    private static JsonPointer Pointer(string name, string at, string text) =>
        text.StartsWith('/') && JsonPointer.TryParse(text, out var pointer)
            ? pointer
            : throw new SourceMappingException(name, at, $"'{text}' is not a JSON pointer (RFC 6901: \"/review/stars\", \"/comments/0/body\").");

    private static string? Text(string name, JsonElement element, string key, string? parent = null) =>
        !element.TryGetProperty(key, out var value) ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new SourceMappingException(name, parent is null ? key : $"{parent}.{key}", "must be a string.");

    private static List<string> Texts(string name, JsonElement element, string key, string? parent = null) =>
        element.TryGetProperty(key, out var array) ? Strings(name, array, parent is null ? key : $"{parent}.{key}") : [];

    private static List<string> Strings(string name, JsonElement array, string at) =>
        array.ValueKind == JsonValueKind.Array && array.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String)
            ? array.EnumerateArray().Select(e => e.GetString()!).ToList()
            : throw new SourceMappingException(name, at, "must be an array of strings.");
}
