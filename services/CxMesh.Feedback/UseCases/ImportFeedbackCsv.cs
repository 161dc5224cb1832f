using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using CxMesh.Common.V1;
using CxMesh.Feedback.Domain;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Validation;
using Grpc.Core;
using static CxMesh.Feedback.UseCases.FeedbackRows;

namespace CxMesh.Feedback.UseCases;

/// <summary>
/// ImportFeedbackCsv: reads a streamed CSV export with CsvHelper, turns each row into a SubmitFeedbackRequest by the
/// column mapping, and feeds the rows through <see cref="SubmitFeedback"/> like any batch. Rows that cannot become
/// a request (a bad number, date or channel, a broken record) are refused with their row and column; requests the
/// ingest refuses are reported against the column their field came from.
/// </summary>
public sealed class ImportFeedbackCsv(SubmitFeedback ingest)
{
    public const long MaxBytes = 1L << 30;
    public const int MaxRows = 5_000_000;
    public const int MaxFieldLength = 65_536;
    public const int MaxColumns = 2_000;
    public const int MaxRecordBytes = 1 << 20;
    public const int MaxRejectionsListed = 1_000;

    public async Task RunAsync(IAsyncStreamReader<ImportFeedbackCsvRequest> requests, IServerStreamWriter<ImportFeedbackCsvResponse> responses, CancellationToken ct)
    {
        if (!await requests.MoveNext(ct) || requests.Current.PartCase != ImportFeedbackCsvRequest.PartOneofCase.Options)
        {
            throw new FieldViolationException("options", "the first message must carry the import options.");
        }
        var options = Checked(requests.Current.Options);

        // The request stream is pumped into a pipe that CsvHelper reads as a stream.
        // The pipe holds at most 64 KiB the reader has not taken, and no record passes the pump larger than its
        // limits, so an import's memory does not grow with the file, a row or the header, however they are made.
        var pipe = new Pipe();
        long bytesRead = 0;
        var delimiter = options.Delimiter is "" ? "," : options.Delimiter;
        var pump = Task.Run(async () =>
        {
            var records = new RecordLimits((byte)delimiter[0]);
            try
            {
                while (await requests.MoveNext(ct))
                {
                    var message = requests.Current;
                    if (message.PartCase != ImportFeedbackCsvRequest.PartOneofCase.Chunk)
                    {
                        throw new FieldViolationException("options", "options may come only in the first message; the rest carry chunks.");
                    }
                    if (Interlocked.Add(ref bytesRead, message.Chunk.Length) > MaxBytes)
                    {
                        throw new FieldViolationException("chunk", $"the file is larger than {MaxBytes >> 30} GiB; split it into several imports.");
                    }
                    var (allowed, problem) = records.Scan(message.Chunk.Span);
                    // The rows before the one over a limit still reach the reader, and are imported.
                    await pipe.Writer.WriteAsync(message.Chunk.Memory[..allowed], ct);
                    if (problem is not null) throw new FieldViolationException("chunk", problem);
                }
                await pipe.Writer.CompleteAsync();
            }
            catch (Exception ex)
            {
                await pipe.Writer.CompleteAsync(ex);
            }
        }, ct);

        // UTF-8 (with or without a BOM) or, with a BOM, UTF-16 or UTF-32; bytes that are not UTF-8 (a GBK or Latin-1
        // export) end the import with an error that says so, rather than storing U+FFFD in every Chinese comment.
        using var text = new StreamReader(pipe.Reader.AsStream(), new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
        var broken = false;
        using var csv = new CsvReader(text, new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = delimiter,
            BadDataFound = _ => broken = true,
            MissingFieldFound = null,
            MaxFieldSize = MaxFieldLength,
            DetectColumnCountChanges = false,
        });
        // The first rows are read before the layout is known: a survey tool's export has two or three header rows.
        HeaderLayoutKind? wanted = options.HeaderLayout switch
        {
            HeaderLayout.Plain => HeaderLayoutKind.Plain,
            HeaderLayout.Qualtrics => HeaderLayoutKind.Qualtrics,
            HeaderLayout.Surveymonkey => HeaderLayoutKind.SurveyMonkey,
            _ => null,
        };
        var firstRows = new List<SourceRow>(3);
        for (var row = 1; row <= (wanted == HeaderLayoutKind.Plain ? 1 : 3); row++)
        {
            broken = false;
            if (!await ReadAsync(csv, row)) break;
            firstRows.Add(new SourceRow(row, csv.Parser.Record ?? [], broken, csv.Parser.RawRecord));
        }
        var (layout, layoutProblem) = ExportLayout.Read(firstRows.Select(r => r.Record).ToList(), wanted);
        if (layout is null) throw new FieldViolationException(firstRows.Count == 0 ? "chunk" : "options.header_layout", layoutProblem!);
        var columns = Resolve(options, layout);
        var headerRows = layout.HeaderRows;

        // Which rating columns each row used, so that an error on ratings[1] names its column; dropped once reported.
        var ratingColumnsOf = new ConcurrentDictionary<int, string[]>();
        // The first row of each external id in this file: a repeat is refused naming it (64-bit hashes keep 5 million ids small).
        var firstRowOf = new Dictionary<ulong, int>();
        async IAsyncEnumerable<IngestEntry> Entries()
        {
            var index = 0;
            var pending = new Queue<SourceRow>(firstRows.Skip(headerRows));
            while (true)
            {
                SourceRow source;
                if (pending.Count > 0)
                {
                    source = pending.Dequeue();
                }
                else
                {
                    broken = false;
                    if (!await ReadAsync(csv, index + headerRows + 1)) yield break;
                    source = new SourceRow(index + headerRows + 1, csv.Parser.Record ?? [], broken, csv.Parser.RawRecord);
                }
                if (index >= MaxRows)
                {
                    throw new FieldViolationException("chunk", $"a file may hold at most {MaxRows:N0} rows; the first {MaxRows:N0} were imported, split the rest off.");
                }
                var (entry, ratingColumns) = ToEntry(source, columns, options.SourceSystem, options.DefaultChannel);
                if (entry.Request?.Source.ExternalId is { Length: > 0 } externalId)
                {
                    if (firstRowOf.TryGetValue(Fnv64(externalId), out var first))
                    {
                        entry = Refuse(columns.Fields["external_id"].Header, $"'{Redact(externalId)}' is the id of row {first} already: each response is one row.");
                        ratingColumns = null;
                    }
                    else
                    {
                        firstRowOf[Fnv64(externalId)] = source.Row;
                    }
                }
                if (ratingColumns is not null) ratingColumnsOf[index] = ratingColumns;
                index++;
                yield return entry;
            }
        }

        var progress = new ImportFeedbackCsvResponse();
        var rejections = new List<CsvRowRejection>();
        await ingest.IngestAsync(Entries(), async (first, outcomes) =>
        {
            for (var n = 0; n < outcomes.Count; n++)
            {
                ratingColumnsOf.TryRemove(first + n, out var ratingColumns);
                switch (outcomes[n].Status)
                {
                    case SubmitStatus.Stored:
                        progress.Stored++;
                        break;
                    case SubmitStatus.Replayed:
                        progress.Replayed++;
                        break;
                    default:
                        progress.Rejected++;
                        if (rejections.Count < MaxRejectionsListed)
                        {
                            var error = outcomes[n].Error!;
                            rejections.Add(new CsvRowRejection { Row = first + n + headerRows + 1, Column = ColumnOf(error.Field, columns, ratingColumns), Message = error.Message });
                        }
                        break;
                }
            }
            progress.RowsRead = first + outcomes.Count;
            progress.BytesRead = Interlocked.Read(ref bytesRead);
            await responses.WriteAsync(progress, ct);
        }, ct);
        await pump;

        progress.BytesRead = Interlocked.Read(ref bytesRead);
        progress.Done = true;
        progress.HeaderLayout = layout.Kind switch
        {
            HeaderLayoutKind.Qualtrics => HeaderLayout.Qualtrics,
            HeaderLayoutKind.SurveyMonkey => HeaderLayout.Surveymonkey,
            _ => HeaderLayout.Plain,
        };
        progress.Rejections.AddRange(rejections);
        await responses.WriteAsync(progress, ct);
    }

    private static async Task<bool> ReadAsync(CsvReader csv, long row)
    {
        try
        {
            return await csv.ReadAsync();
        }
        catch (DecoderFallbackException)
        {
            // The reader decodes ahead of the rows it hands out, so the bytes may be a little after this row.
            throw new FieldViolationException("chunk", $"the file is not UTF-8 text (found reading row {row} or just after: a GBK, Big5 or Latin-1 export?): " +
                "save it as UTF-8, or UTF-16 with a byte order mark; the rows before it were imported.");
        }
        catch (MaxFieldSizeException)
        {
            throw new FieldViolationException("chunk", $"row {row}{(row == 1 ? " (the header)" : "")}: a field is longer than {MaxFieldLength:N0} characters " +
                "(an unclosed quote?); the rows before it were imported.");
        }
    }

    /// <summary>
    /// Finds the first record over <see cref="MaxRecordBytes"/> or <see cref="MaxColumns"/> as the bytes stream by,
    /// before the CSV reader buffers it. Quotes are followed as RFC 4180 has them (a doubled quote inside a quoted
    /// field toggles twice), so line breaks and delimiters inside quoted fields do not count.
    /// </summary>
    private sealed class RecordLimits(byte delimiter)
    {
        private bool quoted;
        private long row = 1;
        private int bytes;
        private int columns = 1;

        /// <summary>How many bytes of <paramref name="chunk"/> belong to records within the limits, and the problem if any does not.</summary>
        public (int Allowed, string? Problem) Scan(ReadOnlySpan<byte> chunk)
        {
            for (var i = 0; i < chunk.Length; i++)
            {
                var b = chunk[i];
                if (b == (byte)'"')
                {
                    quoted = !quoted;
                }
                else if (!quoted && b == (byte)'\n')
                {
                    row++;
                    bytes = 0;
                    columns = 1;
                    continue;
                }
                else if (!quoted && b == delimiter && ++columns > MaxColumns)
                {
                    return (Math.Max(0, i - bytes), $"row {row}{Header()} has more than {MaxColumns:N0} columns; the rows before it were imported.");
                }
                if (++bytes > MaxRecordBytes)
                {
                    return (Math.Max(0, i - bytes + 1), $"row {row}{Header()} is longer than {MaxRecordBytes >> 20} MiB; the rows before it were imported.");
                }
            }
            return (chunk.Length, null);
        }

        private string Header() => row == 1 ? " (the header)" : "";
    }

    /// <summary>The options must work before a row is read: every problem named at once.</summary>
    private static CsvImportOptions Checked(CsvImportOptions options)
    {
        var check = new Violations();
        if (options.SourceSystem.Length is 0 or > FeedbackLimits.MaxIdLength || !Identifiers.Token().IsMatch(options.SourceSystem))
        {
            check.Add("options.source_system", "options.source_system is required: 1-128 characters of letters, digits and . _ : - naming the exporting system.");
        }
        foreach (var (field, column) in options.Columns)
        {
            if (!IsField(field))
            {
                check.Add($"options.columns[{field}]", $"'{field}' is not a field: use one of {FieldList}.");
            }
            if (column.Trim().Length is 0 or > 200) check.Add($"options.columns[{field}]", "the column header must be 1-200 characters.");
        }
        if (options.Delimiter is not ("" or "," or ";" or "|" or "\t"))
        {
            check.Add("options.delimiter", "options.delimiter must be ',', ';', '|' or a tab.");
        }
        if (options.DefaultChannel != Channel.Unspecified && !System.Enum.IsDefined(options.DefaultChannel))
        {
            check.Add("options.default_channel", "options.default_channel is not a known channel.");
        }
        if (!System.Enum.IsDefined(options.HeaderLayout))
        {
            check.Add("options.header_layout", "options.header_layout must be HEADER_LAYOUT_PLAIN, HEADER_LAYOUT_QUALTRICS, HEADER_LAYOUT_SURVEYMONKEY or unspecified (detect).");
        }
        check.Check(options.Required.Count <= 50, "options.required", "options.required names at most 50 fields.");
        for (var i = 0; i < options.Required.Count && i < 50; i++)
        {
            var field = options.Required[i];
            check.Check(PlainFields.Contains(field) || options.Columns.ContainsKey(field), $"options.required[{i}]",
                $"'{field}' is not a field of the import: a mapped field (options.columns) or one of {string.Join(", ", PlainFields)}.");
        }
        check.Check(options.DateFormats.Count <= 10, "options.date_formats", "options.date_formats holds at most 10 formats.");
        for (var i = 0; i < options.DateFormats.Count && i < 10; i++)
        {
            check.Check(IsDateFormat(options.DateFormats[i]), $"options.date_formats[{i}]",
                $"'{options.DateFormats[i]}' is not a .NET date format with a year, a month and a day (like dd/MM/yyyy HH:mm), at most 64 characters.");
        }
        if (options.TimeZone.Length > 0 && !TimeZoneInfo.TryFindSystemTimeZoneById(options.TimeZone, out _))
        {
            check.Add("options.time_zone", $"options.time_zone '{options.TimeZone}' is not an IANA time zone (like Europe/Berlin or Asia/Shanghai).");
        }
        check.ThrowIfAny();
        return options;
    }

    /// <summary>
    /// Where each field is in this file's header: mapped columns must be there (by any name the layout gives a column),
    /// unmapped fields take the tool's own column (Qualtrics' ResponseId, ...) or a column of their own name.
    /// </summary>
    private static Columns Resolve(CsvImportOptions options, ExportLayout layout)
    {
        var check = new Violations();
        var fields = new Dictionary<string, (string, int)>();
        var ratings = new List<(string, string, int)>();
        var segment = new List<(string, string, int)>();
        string HeaderOf(int at) => layout.Columns[at].Header;
        foreach (var (field, column) in options.Columns.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var at = layout.Find(column);
            if (at < 0)
            {
                check.Add($"options.columns[{field}]", $"column '{column}' is not in the header: read as a {layout.Describe(50)}.");
                continue;
            }
            if (field.StartsWith("rating:", StringComparison.Ordinal)) ratings.Add((field["rating:".Length..], HeaderOf(at), at));
            else if (field.StartsWith("segment:", StringComparison.Ordinal)) segment.Add((field["segment:".Length..], HeaderOf(at), at));
            else fields[field] = (HeaderOf(at), at);
        }
        foreach (var field in PlainFields.Where(f => !options.Columns.ContainsKey(f)))
        {
            var at = layout.DefaultColumns.TryGetValue(field, out var standard) && layout.Find(standard) is >= 0 and var found ? found : layout.Find(field);
            if (at >= 0) fields[field] = (HeaderOf(at), at);
        }
        if (ratings.Count == 0 && !fields.ContainsKey("verbatim") && check.IsEmpty)
        {
            check.Add("options.columns", "map at least one rating column (rating:<question id> = <column header>) or a verbatim column: an export without either has nothing to import.");
        }
        if (options.DefaultChannel == Channel.Unspecified && !fields.ContainsKey("channel"))
        {
            check.Add("options.default_channel", "options.default_channel is required when the file has no channel column.");
        }
        for (var i = 0; i < options.Required.Count; i++)
        {
            var field = options.Required[i];
            var present = fields.ContainsKey(field)
                || field.StartsWith("rating:", StringComparison.Ordinal) && ratings.Any(r => r.Item1 == field["rating:".Length..])
                || field.StartsWith("segment:", StringComparison.Ordinal) && segment.Any(r => r.Item1 == field["segment:".Length..]);
            check.Check(present, $"options.required[{i}]", $"'{field}' is required but no column of the header is mapped to it.");
        }
        check.ThrowIfAny();
        // A Qualtrics export names the zone its times are in; the options' zone wins, then UTC.
        var zoneName = options.TimeZone.Length > 0 ? options.TimeZone
            : fields.TryGetValue("given_at", out var given) ? layout.Columns[given.Item2].TimeZone : null;
        var zone = zoneName is not null && TimeZoneInfo.TryFindSystemTimeZoneById(zoneName, out var z) ? z : TimeZoneInfo.Utc;
        return new Columns(fields, ratings.OrderBy(r => r.Item3).ToList(), segment, layout.Columns.Count, zone,
            options.DateFormats.Count > 0 ? options.DateFormats : layout.DefaultDateFormats, options.Required);
    }

    private static bool IsDateFormat(string format)
    {
        if (format.Length is 0 or > 64 || !format.Contains("yy", StringComparison.Ordinal) || !format.Contains('M') || !format.Contains('d')) return false;
        try
        {
            var sample = new DateTime(2024, 11, 28, 10, 12, 33).ToString(format, CultureInfo.InvariantCulture);
            return DateTime.TryParseExact(sample, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var back) && back.Date == new DateTime(2024, 11, 28);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>FNV-1a over the UTF-16 text: deterministic, and 64 bits keep collisions in a 5-million-row file below one in a million.</summary>
    private static ulong Fnv64(string value)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return hash;
    }

}
