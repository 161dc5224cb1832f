using System.Text.Json;

namespace CxMesh.Feedback.Domain;

/// <summary>How the header of a survey tool's export is laid out.</summary>
public enum HeaderLayoutKind
{
    /// <summary>One header row of column names.</summary>
    Plain,

    /// <summary>Qualtrics: column ids ("Q1", "ResponseId"), question texts, then one JSON cell per column ({"ImportId":"QID1"}).</summary>
    Qualtrics,

    /// <summary>SurveyMonkey: questions (blank over the later columns of a matrix), then answer labels ("Response", "Open-Ended Response").</summary>
    SurveyMonkey,
}

/// <summary>One column of an export: the names it answers to, the one errors show, and the time zone the tool wrote its times in.</summary>
public sealed record ExportColumn(int Index, string Header, IReadOnlyList<string> Names, string? TimeZone);

/// <summary>
/// The header rows of an export, read as the survey tool wrote them. A mapping names a column by any of its names:
/// Qualtrics columns by id ("Q1"), question text or ImportId ("QID1"); SurveyMonkey columns by question, answer label
/// or "question / label" (matrix rows). Names match ignoring case and surrounding space.
/// </summary>
public sealed class ExportLayout
{
    private ExportLayout(HeaderLayoutKind kind, IReadOnlyList<ExportColumn> columns)
    {
        Kind = kind;
        Columns = columns;
    }

    public HeaderLayoutKind Kind { get; }

    public IReadOnlyList<ExportColumn> Columns { get; }

    /// <summary>How many rows the header takes: data starts on the row after.</summary>
    public int HeaderRows => Kind switch
    {
        HeaderLayoutKind.Qualtrics => 3,
        HeaderLayoutKind.SurveyMonkey => 2,
        _ => 1,
    };

    /// <summary>The columns a tool's export names its standard fields with, for fields the mapping leaves out.</summary>
    public IReadOnlyDictionary<string, string> DefaultColumns => Kind switch
    {
        HeaderLayoutKind.Qualtrics => new Dictionary<string, string>
        {
            ["external_id"] = "ResponseId",
            ["given_at"] = "RecordedDate",
            ["contact.email"] = "RecipientEmail",
        },
        HeaderLayoutKind.SurveyMonkey => new Dictionary<string, string>
        {
            ["external_id"] = "Respondent ID",
            ["given_at"] = "End Date",
            ["contact.email"] = "Email Address",
        },
        _ => new Dictionary<string, string>(),
    };

    /// <summary>The date formats the tool writes when the import names none (SurveyMonkey: US month-first).</summary>
    public IReadOnlyList<string> DefaultDateFormats => Kind == HeaderLayoutKind.SurveyMonkey
        ? ["MM/dd/yyyy hh:mm:ss tt", "MM/dd/yyyy h:mm:ss tt", "MM/dd/yyyy HH:mm:ss", "MM/dd/yyyy HH:mm", "MM/dd/yyyy"]
        : [];

    /// <summary>The column a mapping names, or -1.</summary>
    public int Find(string name)
    {
        var wanted = name.Trim();
        foreach (var column in Columns)
        {
            if (column.Names.Any(n => string.Equals(n, wanted, StringComparison.OrdinalIgnoreCase))) return column.Index;
        }
        return -1;
    }

    /// <summary>What the header was read as, for an error that lists what was recognised.</summary>
    public string Describe(int max = 30) =>
        $"{Kind} header ({HeaderRows} row{(HeaderRows == 1 ? "" : "s")}) with columns: {string.Join(", ", Columns.Take(max).Select(c => c.Header))}"
        + (Columns.Count > max ? $" and {Columns.Count - max} more" : "");

    /// <summary>
    /// Reads the first rows of a file as the given layout, or detects it (null): a third row of {"ImportId": …} cells is
    /// Qualtrics; a first row starting "Respondent ID" with "Response"-style labels in the second is SurveyMonkey;
    /// anything else is one plain header row. A layout named but not found is an error naming what the rows hold.
    /// </summary>
    public static (ExportLayout? Layout, string? Problem) Read(IReadOnlyList<string[]> firstRows, HeaderLayoutKind? layout)
    {
        if (firstRows.Count == 0) return (null, "the file is empty: an export starts with a header row.");
        var detected = layout ?? Detect(firstRows);
        switch (detected)
        {
            case HeaderLayoutKind.Qualtrics:
                if (firstRows.Count < 3 || !LooksLikeImportIds(firstRows[2]))
                {
                    return (null, "header_layout QUALTRICS expects three header rows (column ids, question texts, {\"ImportId\":...} cells), " +
                        $"but row 3 {(firstRows.Count < 3 ? "is missing" : "holds no ImportId cells")}; row 1 has: {Sample(firstRows[0])}.");
                }
                return (Qualtrics(firstRows), null);
            case HeaderLayoutKind.SurveyMonkey:
                if (firstRows.Count < 2)
                {
                    return (null, $"header_layout SURVEYMONKEY expects two header rows (questions, then answer labels), but the file has one; row 1 has: {Sample(firstRows[0])}.");
                }
                return (SurveyMonkey(firstRows), null);
            default:
                return (new ExportLayout(HeaderLayoutKind.Plain,
                    firstRows[0].Select((h, i) => new ExportColumn(i, h.Trim(), [h.Trim()], null)).ToList()), null);
        }
    }

    private static HeaderLayoutKind Detect(IReadOnlyList<string[]> rows)
    {
        if (rows.Count >= 3 && LooksLikeImportIds(rows[2])) return HeaderLayoutKind.Qualtrics;
        if (rows.Count >= 2 && rows[0].Length > 0 && rows[0][0].Trim().Equals("Respondent ID", StringComparison.OrdinalIgnoreCase)
            && rows[1].Any(c => c.Trim() is "Response" or "Open-Ended Response"))
        {
            return HeaderLayoutKind.SurveyMonkey;
        }
        return HeaderLayoutKind.Plain;
    }

    private static bool LooksLikeImportIds(string[] row) =>
        row.Count(c => ImportIdOf(c).Id is not null) >= Math.Max(1, row.Length / 2);

    private static (string? Id, string? TimeZone) ImportIdOf(string cell)
    {
        var text = cell.Trim();
        if (!text.StartsWith('{') || !text.Contains("ImportId", StringComparison.Ordinal)) return (null, null);
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.ValueKind != JsonValueKind.Object) return (null, null);
            var id = json.RootElement.TryGetProperty("ImportId", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
            var zone = json.RootElement.TryGetProperty("timeZone", out var z) && z.ValueKind == JsonValueKind.String ? z.GetString() : null;
            return (id, zone);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static ExportLayout Qualtrics(IReadOnlyList<string[]> rows)
    {
        var columns = new List<ExportColumn>(rows[0].Length);
        for (var i = 0; i < rows[0].Length; i++)
        {
            var id = rows[0][i].Trim();
            var text = i < rows[1].Length ? rows[1][i].Trim() : "";
            var (importId, zone) = i < rows[2].Length ? ImportIdOf(rows[2][i]) : (null, null);
            var names = new List<string> { id };
            if (text.Length > 0) names.Add(text);
            if (importId is not null) names.Add(importId);
            columns.Add(new ExportColumn(i, id, names, zone));
        }
        return new ExportLayout(HeaderLayoutKind.Qualtrics, columns);
    }

    private static ExportLayout SurveyMonkey(IReadOnlyList<string[]> rows)
    {
        var columns = new List<ExportColumn>(rows[0].Length);
        var question = "";
        for (var i = 0; i < rows[0].Length; i++)
        {
            // A matrix question heads its first column only: the later ones belong to it.
            if (rows[0][i].Trim() is { Length: > 0 } heading) question = heading;
            var label = i < rows[1].Length ? rows[1][i].Trim() : "";
            var generic = label is "" or "Response" or "Open-Ended Response";
            var header = generic ? question : $"{question} / {label}";
            var names = new List<string> { header };
            if (!generic) names.Add(label);
            else if (rows[0][i].Trim().Length > 0) names.Add(question);
            columns.Add(new ExportColumn(i, header, names.Distinct(StringComparer.OrdinalIgnoreCase).ToList(), null));
        }
        return new ExportLayout(HeaderLayoutKind.SurveyMonkey, columns);
    }

    private static string Sample(string[] row) => string.Join(", ", row.Take(10).Select(c => c.Trim())) + (row.Length > 10 ? ", ..." : "");
}
