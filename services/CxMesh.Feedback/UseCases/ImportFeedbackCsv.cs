using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;
using CxMesh.Common.V1;
using CxMesh.Feedback.Domain;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Validation;
using ExcelDataReader;
using Grpc.Core;
using Json.Pointer;
using static CxMesh.Feedback.UseCases.FeedbackRows;

namespace CxMesh.Feedback.UseCases;

/// <summary>
/// ImportFeedbackCsv: reads a streamed CSV export with CsvHelper, turns each row into a SubmitFeedbackRequest by the
/// column mapping, and feeds the rows through <see cref="SubmitFeedback"/> like any batch. Rows that cannot become
/// a request (a bad number, date or channel, a broken record) are refused with their row and column; requests the
/// ingest refuses are reported against the column their field came from.
/// </summary>
public sealed class ImportFeedbackCsv(SubmitFeedback ingest, ImportProfiles profiles)
{
    public const long MaxBytes = 1L << 30;
    public const int MaxRows = 5_000_000;
    public const int MaxFieldLength = 65_536;
    public const int MaxColumns = 2_000;
    public const int MaxRecordBytes = 1 << 20;
    public const int MaxRejectionsListed = 1_000;
    /// <summary>An XLSX workbook is spooled to disk whole (its index is at its end), so it has a smaller limit.</summary>
    public const long MaxWorkbookBytes = 256L << 20;
    /// <summary>How long a refused import goes on reading what the client still sends before it answers.</summary>
    private static readonly TimeSpan RefusalDrain = TimeSpan.FromSeconds(2);
    /// <summary>JSON Lines: how many records a mapped key must appear in (at least once) to be taken as a column.</summary>
    public const int JsonSampleSize = 100;

    // The workbook reader decodes its parts through the code-page encodings .NET leaves out by default.
    static ImportFeedbackCsv() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public async Task RunAsync(IAsyncStreamReader<ImportFeedbackCsvRequest> requests, IServerStreamWriter<ImportFeedbackCsvResponse> responses, CancellationToken ct)
    {
        try
        {
            await ImportAsync(requests, responses, ct);
        }
        catch (Exception e) when (e is not FieldViolationException && DecodeFailure(e))
        {
            // The rows' reader names the row where bytes stop being UTF-8; a reader that meets them elsewhere (reading
            // ahead, at the end of the stream) says the same, without a row.
            throw new FieldViolationException("chunk", "the file is not UTF-8 text (a GBK, Big5 or Latin-1 export?): " +
                "save it as UTF-8, or UTF-16 with a byte order mark; the rows before it were imported.");
        }
    }

    private static bool DecodeFailure(Exception? e) => e switch
    {
        null => false,
        DecoderFallbackException => true,
        AggregateException a => a.InnerExceptions.Any(DecodeFailure),
        _ => DecodeFailure(e.InnerException),
    };

    private async Task ImportAsync(IAsyncStreamReader<ImportFeedbackCsvRequest> requests, IServerStreamWriter<ImportFeedbackCsvResponse> responses, CancellationToken ct)
    {
        if (!await requests.MoveNext(ct) || requests.Current.PartCase != ImportFeedbackCsvRequest.PartOneofCase.Options)
        {
            throw new FieldViolationException("options", "the first message must carry the import options.");
        }
        var options = await profiles.ResolveAsync(requests.Current.Options, ct);

        // The request stream is pumped into a pipe that the format's reader reads as a stream. The pipe holds at most
        // 64 KiB the reader has not taken, and no record passes the pump larger than its limits, so an import's memory
        // does not grow with the file, a row or the header, however they are made (a workbook is spooled to a
        // temporary file, since its index is at its end). The format is the options' or the first bytes'.
        var pipe = new Pipe();
        long bytesRead = 0;
        var delimiter = options.Delimiter is "" ? "," : options.Delimiter;
        var formatKnown = new TaskCompletionSource<ImportFormat>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pump = Task.Run(async () =>
        {
            IRecordLimits? limits = null;
            var held = new List<ReadOnlyMemory<byte>>();
            async Task WriteAsync(ReadOnlyMemory<byte> chunk)
            {
                var (allowed, problem) = limits!.Scan(chunk.Span);
                // The rows before the one over a limit still reach the reader, and are imported.
                await pipe.Writer.WriteAsync(chunk[..allowed], ct);
                if (problem is not null) throw new FieldViolationException("chunk", problem);
            }
            async Task DecideAsync()
            {
                var head = held.SelectMany(c => c.ToArray()).Take(8).ToArray();
                var format = options.Format != ImportFormat.Unspecified ? options.Format : Detect(head);
                formatKnown.TrySetResult(format);
                limits = format switch
                {
                    ImportFormat.Xlsx => new WorkbookLimits(),
                    ImportFormat.JsonLines => new LineLimits(),
                    _ => new CsvRecordLimits((byte)delimiter[0]),
                };
                foreach (var chunk in held) await WriteAsync(chunk);
                held.Clear();
            }
            try
            {
                while (await requests.MoveNext(ct))
                {
                    var message = requests.Current;
                    if (message.PartCase != ImportFeedbackCsvRequest.PartOneofCase.Chunk)
                    {
                        throw new FieldViolationException("options", "options may come only in the first message; the rest carry chunks.");
                    }
                    var max = limits is WorkbookLimits ? MaxWorkbookBytes : MaxBytes;
                    if (Interlocked.Add(ref bytesRead, message.Chunk.Length) > max)
                    {
                        throw new FieldViolationException("chunk", $"the file is larger than {(max >= 1L << 30 ? $"{max >> 30} GiB" : $"{max >> 20} MiB")}; split it into several imports.");
                    }
                    if (limits is not null)
                    {
                        await WriteAsync(message.Chunk.Memory);
                        continue;
                    }
                    held.Add(message.Chunk.Memory);
                    if (held.Sum(c => c.Length) >= 8) await DecideAsync();
                }
                if (limits is null) await DecideAsync();
                await pipe.Writer.CompleteAsync();
            }
            catch (Exception ex)
            {
                formatKnown.TrySetException(ex);
                await pipe.Writer.CompleteAsync(ex);
            }
        }, ct);

        try
        {
            var fileFormat = await formatKnown.Task;
            if (fileFormat == ImportFormat.Unspecified)
            {
                throw new FieldViolationException("chunk", "the file is an Excel 97-2003 workbook (.xls): save it as .xlsx or CSV (UTF-8).");
            }
            // UTF-8 (with or without a BOM) or, with a BOM, UTF-16 or UTF-32; bytes that are not UTF-8 (a GBK or Latin-1
            // export) end the import with an error that says so, rather than storing U+FFFD in every Chinese comment.
            using var text = new StreamReader(pipe.Reader.AsStream(), new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
            var (layout, firstRows, rest) = fileFormat switch
            {
                ImportFormat.JsonLines => await JsonLinesAsync(text, options, ct),
                ImportFormat.Xlsx => await WithHeaderAsync(WorkbookRows(pipe.Reader.AsStream(), ct), options, ct),
                _ => await WithHeaderAsync(CsvRows(text, delimiter), options, ct),
            };
            await using var _ = rest;
            var columns = Resolve(options, layout);

            // The row and rating columns of each entry, so that an error on ratings[1] names its column; dropped once reported.
            var entryInfo = new ConcurrentDictionary<int, (int Row, string[]? RatingColumns)>();
            // The first row of each external id in this file: a repeat is refused naming it (64-bit hashes keep 5 million ids small).
            var firstRowOf = new Dictionary<ulong, int>();
            // Rows a resumed import passes over (options.resume_after_rows): read for their ids, neither checked nor stored.
            var resumed = 0L;
            async IAsyncEnumerable<IngestEntry> Entries()
            {
                var index = 0;
                var pending = new Queue<SourceRow>(firstRows);
                while (true)
                {
                    SourceRow source;
                    if (pending.Count > 0) source = pending.Dequeue();
                    else if (await rest.MoveNextAsync()) source = rest.Current;
                    else yield break;
                    if (index + resumed >= MaxRows)
                    {
                        throw new FieldViolationException("chunk", $"a file may hold at most {MaxRows:N0} rows; the first {MaxRows:N0} were imported, split the rest off.");
                    }
                    if (resumed < options.ResumeAfterRows)
                    {
                        resumed++;
                        if (ExternalIdOf(source, columns) is { Length: > 0 } seen) firstRowOf.TryAdd(Fnv64(seen), source.Row);
                        continue;
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
                    entryInfo[index] = (source.Row, ratingColumns);
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
                    entryInfo.TryRemove(first + n, out var info);
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
                                rejections.Add(new CsvRowRejection { Row = info.Row, Column = ColumnOf(error.Field, columns, info.RatingColumns), Message = error.Message });
                            }
                            break;
                    }
                }
                progress.RowsResumed = resumed;
                progress.RowsRead = resumed + first + outcomes.Count;
                progress.BytesRead = Interlocked.Read(ref bytesRead);
                await responses.WriteAsync(progress, ct);
            }, ct);
            await pump;
            progress.RowsResumed = resumed;
            progress.RowsRead = resumed + progress.Stored + progress.Replayed + progress.Rejected;

            progress.BytesRead = Interlocked.Read(ref bytesRead);
            progress.Done = true;
            progress.Format = fileFormat;
            progress.HeaderLayout = layout.Kind switch
            {
                HeaderLayoutKind.Qualtrics => HeaderLayout.Qualtrics,
                HeaderLayoutKind.SurveyMonkey => HeaderLayout.Surveymonkey,
                _ => HeaderLayout.Plain,
            };
            progress.Rejections.AddRange(rejections);
            await responses.WriteAsync(progress, ct);
        }
        catch
        {
            // Refused before the whole file was read: let the pump take what the client is still sending (into a pipe nobody
            // reads any more) for a moment, so the refusal reaches the client as the call's status rather than as a stream
            // reset under its writes (which it would see as INTERNAL).
            await pipe.Reader.CompleteAsync();
            await Task.WhenAny(pump, Task.Delay(RefusalDrain, CancellationToken.None));
            throw;
        }
    }

    /// <summary>What the first bytes say: a ZIP is XLSX, an OLE file an old .xls (Unspecified: refused), a first '{' JSON Lines, else CSV.</summary>
    private static ImportFormat Detect(byte[] head)
    {
        if (head is [0x50, 0x4B, 0x03, 0x04, ..]) return ImportFormat.Xlsx;
        if (head is [0xD0, 0xCF, 0x11, 0xE0, ..]) return ImportFormat.Unspecified;
        var at = head is [0xEF, 0xBB, 0xBF, ..] ? 3 : head is [0xFF, 0xFE, ..] or [0xFE, 0xFF, ..] ? 2 : 0;
        for (; at < head.Length; at++)
        {
            var b = head[at];
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0) continue;
            return b == (byte)'{' ? ImportFormat.JsonLines : ImportFormat.Csv;
        }
        return ImportFormat.Csv;
    }

    /// <summary>The header rows a layout needs (up to three) read off the rows, the layout they make, and the data rows after them.</summary>
    private static async Task<(ExportLayout Layout, IReadOnlyList<SourceRow> FirstRows, IAsyncEnumerator<SourceRow> Remaining)> WithHeaderAsync(
        IAsyncEnumerable<SourceRow> rows, CsvImportOptions options, CancellationToken ct)
    {
        HeaderLayoutKind? wanted = options.HeaderLayout switch
        {
            HeaderLayout.Plain => HeaderLayoutKind.Plain,
            HeaderLayout.Qualtrics => HeaderLayoutKind.Qualtrics,
            HeaderLayout.Surveymonkey => HeaderLayoutKind.SurveyMonkey,
            _ => null,
        };
        var rest = rows.GetAsyncEnumerator(ct);
        var firstRows = new List<SourceRow>(3);
        while (firstRows.Count < (wanted == HeaderLayoutKind.Plain ? 1 : 3) && await rest.MoveNextAsync()) firstRows.Add(rest.Current);
        var (layout, problem) = ExportLayout.Read(firstRows.Select(r => r.Record).ToList(), wanted);
        if (layout is null)
        {
            await rest.DisposeAsync();
            throw new FieldViolationException(firstRows.Count == 0 ? "chunk" : "options.header_layout", problem!);
        }
        return (layout, firstRows.Skip(layout.HeaderRows).ToList(), rest);
    }

    private static async IAsyncEnumerable<SourceRow> CsvRows(TextReader text, string delimiter)
    {
        var broken = false;
        using var csv = new CsvReader(text, new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = delimiter,
            BadDataFound = _ => broken = true,
            MissingFieldFound = null,
            MaxFieldSize = MaxFieldLength,
            DetectColumnCountChanges = false,
        });
        for (var row = 1; ; row++)
        {
            broken = false;
            if (!await ReadAsync(csv, row)) yield break;
            yield return new SourceRow(row, csv.Parser.Record ?? [], broken, csv.Parser.RawRecord);
        }
    }

    /// <summary>A JSON Lines record as read: its line, the object (unless the line is not one), the line's text, and what is wrong with it.</summary>
    private sealed record JsonRecord(int Line, JsonElement? Root, string Raw, string? Problem);

    /// <summary>
    /// JSON Lines: the columns are the mapped keys or JSON pointers (and the fields' own keys when present), each of
    /// which must be in at least one of the first <see cref="JsonSampleSize"/> records; each record is then a row of
    /// their values.
    /// </summary>
    private static async Task<(ExportLayout Layout, IReadOnlyList<SourceRow> FirstRows, IAsyncEnumerator<SourceRow> Remaining)> JsonLinesAsync(
        TextReader text, CsvImportOptions options, CancellationToken ct)
    {
        var records = JsonRecords(text, ct).GetAsyncEnumerator(ct);
        try
        {
            var sample = new List<JsonRecord>();
            while (sample.Count < JsonSampleSize && await records.MoveNextAsync()) sample.Add(records.Current);
            bool Present(JsonPointer p) => sample.Any(r => r.Root is { } root && p.Evaluate(root) is not null);
            var keys = sample.FirstOrDefault(r => r.Root is not null)?.Root!.Value.EnumerateObject().Select(p => p.Name).Take(30).ToList() ?? [];
            var names = new List<string>();
            var pointers = new List<JsonPointer>();
            var check = new Violations();
            foreach (var (field, column) in options.Columns.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                if (PointerOf(column) is not { } pointer)
                {
                    check.Add($"options.columns[{field}]", $"'{column}' is neither a key nor a JSON pointer (\"/answers/nps\").");
                }
                else if (!Present(pointer))
                {
                    check.Add($"options.columns[{field}]", $"'{column}' is in none of the first {sample.Count} records (the first one's keys: {string.Join(", ", keys)}).");
                }
                else if (!names.Contains(column))
                {
                    names.Add(column);
                    pointers.Add(pointer);
                }
            }
            foreach (var field in PlainFields.Where(f => !options.Columns.ContainsKey(f) && !names.Contains(f)))
            {
                if (PointerOf(field) is { } pointer && Present(pointer))
                {
                    names.Add(field);
                    pointers.Add(pointer);
                }
            }
            check.ThrowIfAny();
            if (names.Count == 0)
            {
                throw new FieldViolationException("options.columns", $"map at least one rating or a verbatim to a key of the records (the first one's keys: {string.Join(", ", keys)}).");
            }
            var (layout, _) = ExportLayout.Read([names.ToArray()], HeaderLayoutKind.Plain);
            var conversationColumn = options.Columns.TryGetValue("conversation", out var mapped) ? mapped : "conversation";
            SourceRow ToRow(JsonRecord record)
            {
                var cells = new string[names.Count];
                if (record.Problem is not null) return new SourceRow(record.Line, cells, false, record.Raw, record.Problem);
                for (var i = 0; i < cells.Length; i++)
                {
                    var value = pointers[i].Evaluate(record.Root!.Value);
                    // A conversation may be an array of turns: its cell is the array's JSON.
                    var cell = names[i] == conversationColumn && value?.ValueKind == JsonValueKind.Array ? value.Value.GetRawText() : CellOf(value);
                    if (cell is null)
                    {
                        return new SourceRow(record.Line, cells, false, record.Raw, $"'{names[i]}' holds {(value!.Value.ValueKind == JsonValueKind.Object ? "an object" : "an array")} where a value is expected.", names[i]);
                    }
                    if (cell.Length > MaxFieldLength) return new SourceRow(record.Line, cells, false, record.Raw, $"'{names[i]}' is longer than {MaxFieldLength:N0} characters.", names[i]);
                    cells[i] = cell;
                }
                return new SourceRow(record.Line, cells, false, record.Raw);
            }
            return (layout!, sample.Select(ToRow).ToList(), Rows(records, ToRow));
        }
        catch
        {
            await records.DisposeAsync();
            throw;
        }

        static async IAsyncEnumerator<SourceRow> Rows(IAsyncEnumerator<JsonRecord> records, Func<JsonRecord, SourceRow> toRow)
        {
            await using (records)
            {
                while (await records.MoveNextAsync()) yield return toRow(records.Current);
            }
        }
    }

    /// <summary>A key of the record ("nps") or a JSON pointer into it ("/answers/nps").</summary>
    private static JsonPointer? PointerOf(string column)
    {
        var text = column.StartsWith('/') ? column : "/" + column.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
        return JsonPointer.TryParse(text, out var pointer) ? pointer : null;
    }

    private static async IAsyncEnumerable<JsonRecord> JsonRecords(TextReader text, [EnumeratorCancellation] CancellationToken ct)
    {
        for (var line = 1; ; line++)
        {
            string? raw;
            try
            {
                raw = await text.ReadLineAsync(ct);
            }
            catch (DecoderFallbackException)
            {
                throw NotUtf8(line);
            }
            if (raw is null) yield break;
            if (raw.Trim().Length == 0) continue;
            JsonElement? root = null;
            string? problem = null;
            try
            {
                using var document = JsonDocument.Parse(raw);
                if (document.RootElement.ValueKind == JsonValueKind.Object) root = document.RootElement.Clone();
                else problem = "the line is not a JSON object.";
            }
            catch (JsonException ex)
            {
                problem = $"the line is not JSON ({ex.Message})";
            }
            yield return new JsonRecord(line, root, raw, problem);
        }
    }

    /// <summary>
    /// The first worksheet of an XLSX workbook, row by row as a spreadsheet numbers them: dates as ISO 8601 (in the
    /// import's time zone, as the workbook has no zone), whole numbers without a decimal point; blank rows skipped.
    /// </summary>
    private static async IAsyncEnumerable<SourceRow> WorkbookRows(Stream input, [EnumeratorCancellation] CancellationToken ct)
    {
        // The workbook's index is at its end: it is spooled to a temporary file that is deleted when closed.
        await using var file = new FileStream(Path.Combine(Path.GetTempPath(), $"cxmesh-import-{Guid.NewGuid():N}.xlsx"), FileMode.CreateNew, FileAccess.ReadWrite,
            FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await input.CopyToAsync(file, ct);
        file.Position = 0;
        using var reader = Workbook(() => ExcelReaderFactory.CreateOpenXmlReader(file), 0);
        for (var row = 1; Workbook(reader.Read, row); row++)
        {
            if (reader.FieldCount > MaxColumns)
            {
                throw new FieldViolationException("chunk", $"row {row}{(row == 1 ? " (the header)" : "")} has more than {MaxColumns:N0} columns; the rows before it were imported.");
            }
            var cells = new string[reader.FieldCount];
            string? problem = null;
            for (var i = 0; i < cells.Length; i++)
            {
                cells[i] = WorkbookCell(reader.GetValue(i));
                if (cells[i].Length > MaxFieldLength)
                {
                    problem = $"a cell is longer than {MaxFieldLength:N0} characters.";
                    cells[i] = "";
                }
            }
            if (problem is null && cells.All(c => c.Length == 0)) continue;
            yield return new SourceRow(row, cells, false, string.Join('\u001f', cells), problem);
        }
    }

    private static T Workbook<T>(Func<T> read, int row)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or FieldViolationException))
        {
            throw new FieldViolationException("chunk", row == 0
                ? $"the file is not an XLSX workbook that can be read ({ex.Message}); the rows before it were imported."
                : $"row {row} of the workbook cannot be read ({ex.Message}); the rows before it were imported.");
        }
    }

    private static string WorkbookCell(object? value) => value switch
    {
        null => "",
        string s => s,
        double d when d == Math.Floor(d) && Math.Abs(d) < 1e15 => ((long)d).ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        DateTime t when t.TimeOfDay == TimeSpan.Zero => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static FieldViolationException NotUtf8(long row) =>
        // The reader decodes ahead of the rows it hands out, so the bytes may be a little after this row.
        new("chunk", $"the file is not UTF-8 text (found reading row {row} or just after: a GBK, Big5 or Latin-1 export?): " +
            "save it as UTF-8, or UTF-16 with a byte order mark; the rows before it were imported.");

    private static async Task<bool> ReadAsync(CsvReader csv, long row)
    {
        try
        {
            return await csv.ReadAsync();
        }
        catch (DecoderFallbackException)
        {
            throw NotUtf8(row);
        }
        catch (MaxFieldSizeException)
        {
            throw new FieldViolationException("chunk", $"row {row}{(row == 1 ? " (the header)" : "")}: a field is longer than {MaxFieldLength:N0} characters " +
                "(an unclosed quote?); the rows before it were imported.");
        }
    }

    /// <summary>Looks at the bytes as they stream by, before a reader buffers them: how many may pass, and the problem if the rest may not.</summary>
    private interface IRecordLimits
    {
        (int Allowed, string? Problem) Scan(ReadOnlySpan<byte> chunk);
    }

    /// <summary>A workbook is read only once it is whole; its size is its limit.</summary>
    private sealed class WorkbookLimits : IRecordLimits
    {
        public (int Allowed, string? Problem) Scan(ReadOnlySpan<byte> chunk) => (chunk.Length, null);
    }

    /// <summary>JSON Lines: no line over <see cref="MaxRecordBytes"/> (quotes need no following: a JSON string holds no raw line break).</summary>
    private sealed class LineLimits : IRecordLimits
    {
        private long line = 1;
        private int bytes;

        public (int Allowed, string? Problem) Scan(ReadOnlySpan<byte> chunk)
        {
            for (var i = 0; i < chunk.Length; i++)
            {
                if (chunk[i] == (byte)'\n')
                {
                    line++;
                    bytes = 0;
                }
                else if (++bytes > MaxRecordBytes)
                {
                    return (Math.Max(0, i - bytes + 1), $"line {line} is longer than {MaxRecordBytes >> 20} MiB; the lines before it were imported.");
                }
            }
            return (chunk.Length, null);
        }
    }

    /// <summary>
    /// Finds the first record over <see cref="MaxRecordBytes"/> or <see cref="MaxColumns"/> as the bytes stream by,
    /// before the CSV reader buffers it. Quotes are followed as RFC 4180 has them (a doubled quote inside a quoted
    /// field toggles twice), so line breaks and delimiters inside quoted fields do not count.
    /// </summary>
    private sealed class CsvRecordLimits(byte delimiter) : IRecordLimits
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

    /// <summary>What can be known wrong with the options before a row is read, every problem named (under <paramref name="prefix"/>: "options" or "profile.options").</summary>
    public static Violations CheckOptions(CsvImportOptions options, string prefix)
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
        check.Check(options.ResumeAfterRows is >= 0 and <= MaxRows, $"{prefix}.resume_after_rows", $"{prefix}.resume_after_rows must be 0 to {MaxRows:N0}.");
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
        for (var i = 0; i < options.DateFields.Count; i++)
        {
            check.Check(options.DateFields[i].StartsWith("segment:", StringComparison.Ordinal) && options.Columns.ContainsKey(options.DateFields[i]), $"options.date_fields[{i}]",
                $"'{options.DateFields[i]}' is not a mapped segment:<attribute> field (given_at is always a date).");
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
        if (!System.Enum.IsDefined(options.Format))
        {
            check.Add("options.format", "options.format must be IMPORT_FORMAT_CSV, IMPORT_FORMAT_JSON_LINES, IMPORT_FORMAT_XLSX or unspecified (detect).");
        }
        if (prefix == "options") return check;
        // Stored as a profile: the same problems, named where the profile holds them.
        var named = new Violations();
        foreach (var failure in check.Failures) named.Add(prefix + failure.PropertyName["options".Length..], failure.ErrorMessage.Replace("options.", prefix + ".", StringComparison.Ordinal));
        return named;
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
        if (ratings.Count == 0 && !fields.ContainsKey("verbatim") && !fields.ContainsKey("conversation") && check.IsEmpty)
        {
            check.Add("options.columns", "map at least one rating column (rating:<question id> = <column header>), a verbatim or a conversation column: an export without any has nothing to import.");
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
            options.DateFormats.Count > 0 ? options.DateFormats : layout.DefaultDateFormats, options.Required)
        {
            // Declared date fields, and what a Qualtrics export marks as a time (its ImportId names a zone: StartDate, EndDate).
            DateSegments = segment.Where(c => options.DateFields.Contains("segment:" + c.Item1) || layout.Columns[c.Item3].TimeZone is not null)
                .Select(c => c.Item1).ToHashSet(),
        };
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
