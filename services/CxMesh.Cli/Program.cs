using System.CommandLine;
using CxMesh.Cli;
using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Journey.V1;
using CxMesh.Scoring.V1;
using Google.Rpc;
using Grpc.Core;
using Spectre.Console;

var grpc = new Option<string>("--grpc")
{
    Description = "gRPC address of cxmesh-server (default: $CXMESH_GRPC, else http://127.0.0.1:5080)",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CXMESH_GRPC") ?? "http://127.0.0.1:5080",
    Recursive = true,
};
// No DefaultValueFactory: help would print the token itself as the default. The variable is read when connecting.
var token = new Option<string?>("--token")
{
    Description = $"Bearer token (default: $CXMESH_TOKEN, {(string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CXMESH_TOKEN")) ? "not set" : "set")})",
    Recursive = true,
};

var count = new Option<int>("--count") { Description = "How many feedback items", DefaultValueFactory = _ => 600 };
var customers = new Option<int>("--customers") { Description = "How many customers on the coffee-subscription journey", DefaultValueFactory = _ => 3000 };
var clubMembers = new Option<int>("--club-members")
{
    Description = "How many coffee-club members over the last six months (the value and stage demo)",
    DefaultValueFactory = _ => 600,
};
var courierWebhook = new Option<string?>("--courier-webhook") { Description = "Webhook URL of the demo courier (e.g. a local `cxmesh webhook-sink`)" };
var secretFile = new Option<FileInfo?>("--webhook-secret-file") { Description = "Where to write the demo courier's webhook signing secret" };
var approverToken = new Option<string?>("--approver-token")
{
    Description = $"A second admin's token, who approves the demo's sharing agreements (four eyes; default: $CXMESH_APPROVER_TOKEN, {(string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CXMESH_APPROVER_TOKEN")) ? "not set" : "set")})",
};
var seed = new Command("seed-demo", "Load the demo data set (needs an admin token, and a second admin's to approve sharing; repeatable: a second run on the same day changes nothing)")
{
    count, customers, clubMembers, courierWebhook, secretFile, approverToken,
};
seed.SetAction((result, ct) => Run(result, async () =>
{
    var channel = Connect(result).Channel();
    var partners = new CxMesh.Partner.V1.PartnerService.PartnerServiceClient(channel);
    var governance = new CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient(channel);
    await GovernanceDemo.SeedPeopleAsync(governance, PartnerDemo.Partners.Select(p => p.Id), ct);
    Console.WriteLine("Demo governance: teams, members, journey sponsors and owners, partner contacts, vision and CX code.");
    var approver = result.GetValue(approverToken) ?? Environment.GetEnvironmentVariable("CXMESH_APPROVER_TOKEN")
        ?? throw new ArgumentException("--approver-token: sharing agreements are approved by a second admin (four eyes); give their token or set CXMESH_APPROVER_TOKEN.");
    var approvals = new CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient(new Connection(result.GetValue(grpc)!, approver).Channel());
    var secret = await PartnerDemo.SeedAsync(partners, approvals, result.GetValue(courierWebhook), ct);
    if (secret is not null && result.GetValue(secretFile) is { } file) await File.WriteAllTextAsync(file.FullName, secret, ct);
    Console.WriteLine($"Demo partners: {string.Join(", ", PartnerDemo.Partners.Select(p => p.Id))}, each with an approved sharing agreement.");
    var journeys = new JourneyService.JourneyServiceClient(channel);
    try
    {
        await journeys.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = JourneyDemo.Definition() },
            deadline: Connection.Deadline(), cancellationToken: ct);
    }
    catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
    {
    }
    var touchpoints = JourneyDemo.Touchpoints(DateOnly.FromDateTime(DateTime.UtcNow), result.GetValue(customers)).ToList();
    int recorded = 0, replayed = 0;
    await AnsiConsole.Progress().AutoClear(true).StartAsync(async progress =>
    {
        var task = progress.AddTask("Recording demo journeys", maxValue: touchpoints.Count);
        foreach (var batch in touchpoints.Chunk(1000))
        {
            var response = await RecordDemoTouchpointsAsync(journeys, batch, ct);
            recorded += response.Recorded;
            replayed += response.Replayed;
            task.Increment(batch.Length);
        }
    });
    Console.WriteLine($"Demo journeys: {recorded} touchpoints recorded, {replayed} already there.");
    await SeedClubAsync(journeys, new FeedbackService.FeedbackServiceClient(channel), result.GetValue(clubMembers), ct);
    await SeedShopsAsync(new FeedbackService.FeedbackServiceClient(channel), ct);

    var client = new FeedbackService.FeedbackServiceClient(channel);
    foreach (var question in DemoData.AttributeQuestions)
    {
        try
        {
            await client.RegisterQuestionAsync(new RegisterQuestionRequest { Question = question }, deadline: Connection.Deadline(), cancellationToken: ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
        {
        }
    }
    var items = DemoData.Generate(DateOnly.FromDateTime(DateTime.UtcNow), result.GetValue(count)).ToList();
    int stored = 0, alreadyStored = 0;
    string? review = null;
    var submitted = new List<CxMesh.Feedback.V1.FeedbackItem>();
    await AnsiConsole.Progress().AutoClear(true).StartAsync(async progress =>
    {
        var task = progress.AddTask("Seeding demo feedback", maxValue: items.Count);
        foreach (var chunk in items.Chunk(16))
        {
            var responses = await Task.WhenAll(chunk.Select(r => client.SubmitFeedbackAsync(r, deadline: Connection.Deadline(), cancellationToken: ct).ResponseAsync));
            submitted.AddRange(responses.Select(r => r.Item));
            stored += responses.Count(r => !r.Replayed);
            alreadyStored += responses.Count(r => r.Replayed);
            // The case study's story: a late delivery told by a detractor.
            review ??= responses.Select(r => r.Item).FirstOrDefault(i => i.Journey == "delivery" && i.CustomerId.Length > 0
                && i.Ratings.Any(r => r.QuestionId == "nps" && r.Value <= 4) && i.RedactedVerbatim.Contains("late", StringComparison.Ordinal))?.Id;
            task.Increment(chunk.Length);
        }
    });
    Console.WriteLine($"Demo feedback: {stored} items stored, {alreadyStored} already there.");
    await GovernanceDemo.SeedProgrammeAsync(governance, review, ct);
    var open = await governance.ListActionsAsync(new CxMesh.Governance.V1.ListActionsRequest { PageSize = 200 }, deadline: Connection.Deadline(), cancellationToken: ct);
    Console.WriteLine($"Demo governance: a running sprint, ideas, a case study, culture scores; {open.Actions.Count}{(open.NextPageToken.Length > 0 ? "+" : "")} open actions from detractor alerts.");

    await PartnerDemo.PublishWeeklyReportsAsync(partners, submitted, ct);
}));

var reportId = new Option<string>("--id") { Description = "Report id", Required = true };
var reportFormat = new Option<string>("--format") { Description = "html or csv", DefaultValueFactory = _ => "html" };
var reportOut = new Option<FileInfo>("--out") { Description = "File to write", Required = true };
var report = new Command("report", "Download one of your reports as the partner you are (needs a partner token)") { reportId, reportFormat, reportOut };
report.SetAction((result, ct) => Run(result, async () =>
{
    var client = new CxMesh.Partner.V1.PartnerService.PartnerServiceClient(Connect(result).Channel());
    var format = result.GetValue(reportFormat) switch
    {
        "html" => CxMesh.Partner.V1.ReportFormat.Html,
        "csv" => CxMesh.Partner.V1.ReportFormat.Csv,
        var other => throw new ArgumentException($"--format: '{other}' is not html or csv."),
    };
    var file = result.GetValue(reportOut)!;
    await using var output = file.Create();
    using var call = client.DownloadMyReport(new CxMesh.Partner.V1.DownloadMyReportRequest { ReportId = result.GetValue(reportId)!, Format = format },
        deadline: Connection.Deadline(300), cancellationToken: ct);
    await foreach (var chunk in call.ResponseStream.ReadAllAsync(ct)) await output.WriteAsync(chunk.Chunk.Memory, ct);
    Console.WriteLine($"Written {output.Length:N0} bytes to {file.FullName}.");
}));

var sinkPort = new Option<int>("--port") { Description = "Loopback port to listen on", Required = true };
var sinkSecret = new Option<FileInfo>("--secret-file") { Description = "File holding the webhook signing secret (read on every request)", Required = true };
var sinkLog = new Option<FileInfo>("--log") { Description = "Append each notification and its verification here", Required = true };
var sink = new Command("webhook-sink", "A local partner endpoint for the demo: receives webhooks, checks their signature, logs them") { sinkPort, sinkSecret, sinkLog };
sink.SetAction((result, ct) => Run(result, () => WebhookSink.RunAsync(result.GetValue(sinkPort), result.GetValue(sinkSecret)!, result.GetValue(sinkLog)!, ct)));

var nps = new Option<int>("--nps") { Description = "NPS rating, 0-10", Required = true };
var journey = new Option<string?>("--journey") { Description = "Journey id the feedback belongs to" };
var channel = new Option<string>("--channel") { Description = "survey, complaint, contact-centre, web, self-service, social, review, other", DefaultValueFactory = _ => "survey" };
var verbatim = new Option<string?>("--verbatim") { Description = "Free text" };
var key = new Option<string?>("--key") { Description = "Idempotency key (default: a new one)" };
var submit = new Command("submit", "Submit one feedback item with an NPS rating") { nps, journey, channel, verbatim, key };
submit.SetAction((result, ct) => Run(result, async () =>
{
    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    var request = new SubmitFeedbackRequest
    {
        IdempotencyKey = result.GetValue(key) ?? $"cli-{Guid.NewGuid():N}",
        Channel = ParseChannel(result.GetValue(channel)!),
        Journey = result.GetValue(journey) ?? "",
        Verbatim = result.GetValue(verbatim) ?? "",
        Ratings = { new Rating { QuestionId = "nps", Value = result.GetValue(nps) } },
    };
    var response = await client.SubmitFeedbackAsync(request, deadline: Connection.Deadline(), cancellationToken: ct);
    Output.Print(result, response, () => Console.WriteLine($"{(response.Replayed ? "Already stored" : "Stored")}: feedback {response.Item.Id}"));
}));

var feedbackId = new Argument<string>("id") { Description = "The feedback item's id" };
var feedbackGet = new Command("get", "One feedback item: its ratings, redacted words, themes and links (contact details for admins only)") { feedbackId };
feedbackGet.SetAction((result, ct) => Run(result, async () =>
{
    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    var response = await client.GetFeedbackAsync(new GetFeedbackRequest { Id = result.GetValue(feedbackId)! }, deadline: Connection.Deadline(), cancellationToken: ct);
    Output.Print(result, response, () =>
    {
        var item = response.Item;
        var table = new Table().HideHeaders().AddColumns("field", "value");
        table.AddRow("id", item.Id);
        table.AddRow("channel", item.Channel.ToString());
        table.AddRow("given / received", $"{item.GivenAt?.ToDateTime():yyyy-MM-dd HH:mm} / {item.ReceivedAt?.ToDateTime():yyyy-MM-dd HH:mm} UTC");
        if (item.JourneyKey.Length > 0) table.AddRow("journey", Markup.Escape(item.JourneyKey));
        if (item.CustomerId.Length > 0) table.AddRow("customer", Markup.Escape(item.CustomerId));
        table.AddRow("ratings", Markup.Escape(string.Join(", ", item.Ratings.Select(r => $"{r.QuestionId} {r.Value}"))));
        if (item.RedactedVerbatim.Length > 0) table.AddRow("words (redacted)", Markup.Escape(item.RedactedVerbatim));
        if (item.RedactedVerbatim.Length > 0) table.AddRow("language, sentiment", $"{item.Language}, {item.SentimentScore:+0.00;-0.00;0}");
        if (item.Themes.Count > 0) table.AddRow("themes", Markup.Escape(string.Join(", ", item.Themes.Select(t => $"{t.ThemeKey} ({t.SentimentScore:+0.00;-0.00;0})"))));
        if (item.Erased) table.AddRow("erased", "yes");
        AnsiConsole.Write(table);
    });
}));

var listJourney = new Option<string?>("--journey") { Description = "Only this journey (its key)" };
var listChannel = new Option<string?>("--channel") { Description = "Only this channel: survey, complaint, contact-centre, web, self-service, social, review, other" };
var listTheme = new Option<string?>("--theme") { Description = "Only items mentioning this theme" };
var listText = new Option<string?>("--text") { Description = "Only items whose redacted words contain this (2-100 characters)" };
var listSince = new Option<DateTime?>("--since") { Description = "Received at or after (e.g. 2026-11-01)" };
var listLimit = new Option<int>("--limit") { Description = "At most this many items, newest first, following pages as needed (1-10000)", DefaultValueFactory = _ => 50 };
var feedbackList = new Command("list", "Feedback items, newest first, filtered") { listJourney, listChannel, listTheme, listText, listSince, listLimit };
feedbackList.SetAction((result, ct) => Run(result, async () =>
{
    var limit = result.GetValue(listLimit);
    if (limit is < 1 or > 10_000) throw new ArgumentException("--limit: give 1 to 10000.");
    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    var request = new ListFeedbackRequest
    {
        JourneyKey = result.GetValue(listJourney) ?? "",
        Channel = result.GetValue(listChannel) is { } c ? ParseChannel(c) : Channel.Unspecified,
        ThemeKey = result.GetValue(listTheme) ?? "",
        TextContains = result.GetValue(listText) ?? "",
    };
    if (result.GetValue(listSince) is { } since) request.ReceivedAfter = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(since, DateTimeKind.Utc));
    // Pages never ask for more than the limit leaves, so next_page_token (in --output json) continues exactly after the last item shown.
    var all = new ListFeedbackResponse();
    while (true)
    {
        request.PageSize = Math.Min(limit - all.Items.Count, 200);
        var page = await client.ListFeedbackAsync(request, deadline: Connection.Deadline(), cancellationToken: ct);
        all.Items.AddRange(page.Items);
        all.NextPageToken = page.NextPageToken;
        if (page.NextPageToken.Length == 0 || all.Items.Count >= limit) break;
        request.PageToken = page.NextPageToken;
    }
    Output.Print(result, all, () =>
    {
        // Ids whole (people copy them into `cxmesh feedback get`); the words wrap.
        var table = new Table().AddColumn(new TableColumn("id").NoWrap()).AddColumns("received", "channel", "journey", "ratings", "words (redacted)");
        foreach (var item in all.Items)
        {
            var words = item.RedactedVerbatim.Length > 60 ? item.RedactedVerbatim[..59] + "…" : item.RedactedVerbatim;
            table.AddRow(item.Id, $"{item.ReceivedAt?.ToDateTime():yyyy-MM-dd HH:mm}", item.Channel.ToString().Replace("Channel", ""), Markup.Escape(item.JourneyKey),
                Markup.Escape(string.Join(" ", item.Ratings.Select(r => $"{r.QuestionId}={r.Value}"))), Markup.Escape(words));
        }
        AnsiConsole.Write(table);
        Console.WriteLine($"{all.Items.Count} items{(all.NextPageToken.Length > 0 ? $" (more: raise --limit)" : "")}.");
    });
}));
var feedback = new Command("feedback", "Read feedback: get one item, list items") { feedbackGet, feedbackList };

var csvFile = new Argument<FileInfo>("file") { Description = "The export: CSV (UTF-8, a plain header row or a survey tool's header rows), an XLSX workbook (its first sheet) or JSON Lines" };
var source = new Option<string?>("--source") { Description = "The system the export comes from, e.g. shop-reviews (required unless the profile names it)" };
var profileName = new Option<string?>("--profile") { Description = "A stored import profile the options start from (cxmesh profile save); options given here win" };
var fileFormat = new Option<string>("--format") { Description = "auto (by extension, else by content), csv, xlsx or jsonl", DefaultValueFactory = _ => "auto" };
fileFormat.AcceptOnlyFromAmong("auto", "csv", "xlsx", "jsonl");
var maps = new Option<string[]>("--map")
{
    Description = "field=Column header, repeatable: rating:<question>=..., verbatim=..., external_id=..., customer_id=..., given_at=..., " +
        "channel=..., product_id=..., lot_id=..., touchpoint_key=..., segment:<attribute>=..., contact.email=... (unmapped fields are read from a column of their own name)",
    AllowMultipleArgumentsPerToken = true,
};
var importChannel = new Option<string?>("--channel") { Description = "Channel of rows without a channel column: survey, complaint, contact-centre, web, self-service, social, review, other" };
var delimiter = new Option<string?>("--delimiter") { Description = "',' (the default) ';' '|' or 'tab'" };
var timeZone = new Option<string?>("--time-zone") { Description = "IANA time zone of dates without an offset (default UTC)" };
var rejectsOut = new Option<FileInfo?>("--rejections") { Description = "Write the rejected rows (row, column, reason) to this CSV file" };
var layout = new Option<string>("--layout")
{
    Description = "Header layout: auto (detect), plain (one header row), qualtrics (ids, question texts, ImportId rows) or surveymonkey (questions, answer labels)",
    DefaultValueFactory = _ => "auto",
};
layout.AcceptOnlyFromAmong("auto", "plain", "qualtrics", "surveymonkey");
var requires = new Option<string[]>("--require") { Description = "A field whose cell must not be empty (repeatable), e.g. rating:nps", AllowMultipleArgumentsPerToken = true };
var dateFields = new Option<string[]>("--date-field") { Description = "A mapped segment field whose cells are dates (repeatable), e.g. segment:visit_date: each is checked", AllowMultipleArgumentsPerToken = true };
var dateFormats = new Option<string[]>("--date-format") { Description = "A .NET date format of the given_at column (repeatable), e.g. \"dd/MM/yyyy HH:mm\"", AllowMultipleArgumentsPerToken = true };
var restart = new Option<bool>("--restart") { Description = "Read the file from its first row even if an earlier run of this import was cut off (it resumes after its last stored row by default)" };
var import = new Command("import", "Import feedback from an export (CSV in a plain, Qualtrics or SurveyMonkey layout, XLSX or JSON Lines), with a progress bar; re-importing the same export changes nothing")
{
    csvFile, source, profileName, fileFormat, maps, importChannel, delimiter, timeZone, rejectsOut, layout, requires, dateFormats, dateFields, restart,
};
CsvImportOptions ImportOptions(ParseResult result)
{
    var options = new CsvImportOptions
    {
        SourceSystem = result.GetValue(source) ?? "",
        Profile = result.GetValue(profileName) ?? "",
        Delimiter = result.GetValue(delimiter) is "tab" or "\\t" ? "\t" : result.GetValue(delimiter) ?? "",
        TimeZone = result.GetValue(timeZone) ?? "",
        DefaultChannel = result.GetValue(importChannel) is { } c ? ParseChannel(c) : Channel.Unspecified,
        HeaderLayout = result.GetValue(layout) switch
        {
            "plain" => HeaderLayout.Plain,
            "qualtrics" => HeaderLayout.Qualtrics,
            "surveymonkey" => HeaderLayout.Surveymonkey,
            _ => HeaderLayout.Unspecified,
        },
        Required = { result.GetValue(requires) ?? [] },
        DateFormats = { result.GetValue(dateFormats) ?? [] },
        DateFields = { result.GetValue(dateFields) ?? [] },
    };
    foreach (var map in result.GetValue(maps) ?? [])
    {
        var at = map.IndexOf('=');
        if (at <= 0) throw new ArgumentException($"--map {map}: expected field=Column header.");
        options.Columns[map[..at].Trim()] = map[(at + 1)..];
    }
    return options;
}
import.SetAction((result, ct) => Run(result, async () =>
{
    var file = result.GetValue(csvFile)!;
    if (!file.Exists) throw new ArgumentException($"{file.FullName}: no such file.");
    var options = ImportOptions(result);
    options.Format = (result.GetValue(fileFormat), file.Extension.ToLowerInvariant()) switch
    {
        ("csv", _) => ImportFormat.Csv,
        ("xlsx", _) or ("auto", ".xlsx") => ImportFormat.Xlsx,
        ("jsonl", _) or ("auto", ".jsonl" or ".ndjson") => ImportFormat.JsonLines,
        _ => ImportFormat.Unspecified,
    };

    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    // An earlier run of this very import that was cut off (client or server): resume after the rows it got through.
    var resume = ImportResume.For(file, options, result.GetValue(grpc)!);
    if (!result.GetValue(restart) && resume.RowsDone() is > 0 and var done)
    {
        options.ResumeAfterRows = done;
        Console.WriteLine($"Resuming {file.Name} after row {done:N0}, where an earlier run of this import stopped (--restart reads it all again).");
    }
    ImportFeedbackCsvResponse? last = null;
    await AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
        .StartAsync(async progress =>
        {
            var task = progress.AddTask($"Importing {file.Name}", maxValue: Math.Max(1, file.Length));
            using var call = client.ImportFeedbackCsv(cancellationToken: ct);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var reading = Task.Run(async () =>
            {
                await foreach (var response in call.ResponseStream.ReadAllAsync(ct))
                {
                    last = response;
                    resume.Save(response.RowsRead);
                    // Rows per second so far (not counting rows resumed past); the bar's own columns give the bytes per second and the time left.
                    var rate = (response.RowsRead - response.RowsResumed) / Math.Max(0.001, clock.Elapsed.TotalSeconds);
                    task.Description = $"{file.Name}: {response.RowsRead:N0} rows, {rate:N0}/s: {response.Stored:N0} stored, {response.Replayed:N0} already there, {response.Rejected:N0} rejected"
                        + (response.RowsResumed > 0 ? $", {response.RowsResumed:N0} resumed past" : "");
                    task.Value = Math.Max(task.Value, Math.Min(file.Length, response.BytesRead));
                }
            }, ct);
            await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Options = options }, ct);
            await using var stream = file.OpenRead();
            var buffer = new byte[256 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, ct)) > 0 && !reading.IsCompleted)
            {
                await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = Google.Protobuf.ByteString.CopyFrom(buffer, 0, read) }, ct);
            }
            await call.RequestStream.CompleteAsync();
            await reading;
            task.Value = task.MaxValue;
        });

    var summary = last ?? throw new InvalidOperationException("The server ended the import without a summary.");
    if (summary.Done) resume.Forget();
    var read = (summary.Format, summary.HeaderLayout) switch
    {
        (ImportFormat.JsonLines, _) => "a JSON Lines file",
        (ImportFormat.Xlsx, HeaderLayout.Qualtrics) => "a Qualtrics workbook",
        (ImportFormat.Xlsx, HeaderLayout.Surveymonkey) => "a SurveyMonkey workbook",
        (ImportFormat.Xlsx, _) => "a workbook",
        (_, HeaderLayout.Qualtrics) => "a Qualtrics export",
        (_, HeaderLayout.Surveymonkey) => "a SurveyMonkey export",
        _ => "a plain CSV",
    };
    Console.WriteLine($"{summary.RowsRead:N0} rows of {read}: {summary.Stored:N0} stored, {summary.Replayed:N0} already there, {summary.Rejected:N0} rejected"
        + (summary.RowsResumed > 0 ? $", {summary.RowsResumed:N0} stored by the earlier run (resumed past)." : "."));
    if (summary.Rejections.Count > 0)
    {
        var table = new Table().AddColumns("row", "column", "reason");
        foreach (var r in summary.Rejections.Take(20)) table.AddRow($"{r.Row}", Markup.Escape(r.Column), Markup.Escape(r.Message));
        AnsiConsole.Write(table);
        if (summary.Rejected > 20) Console.WriteLine($"... {summary.Rejected - 20:N0} more{(summary.Rejected > summary.Rejections.Count ? $" ({summary.Rejections.Count:N0} listed by the server)" : "")}.");
    }
    if (result.GetValue(rejectsOut) is { } outFile)
    {
        // Cells echo the file's own header names: formula-leading ones are escaped so a spreadsheet does not run them.
        await using var writer = new StreamWriter(outFile.FullName);
        await using var csv = new CsvHelper.CsvWriter(writer, new CsvHelper.Configuration.CsvConfiguration(System.Globalization.CultureInfo.InvariantCulture)
        {
            InjectionOptions = CsvHelper.Configuration.InjectionOptions.Escape,
        });
        foreach (var header in (string[])["row", "column", "reason"]) csv.WriteField(header);
        await csv.NextRecordAsync();
        foreach (var r in summary.Rejections)
        {
            csv.WriteField(r.Row);
            csv.WriteField(r.Column);
            csv.WriteField(r.Message);
            await csv.NextRecordAsync();
        }
        Console.WriteLine($"Rejected rows written to {outFile.FullName}.");
    }
    if (summary.Rejected > 0) Environment.ExitCode = 65;
}));

var profileArgument = new Argument<string>("name") { Description = "The profile's name, e.g. qualtrics-nps" };
var profileDescription = new Option<string?>("--description") { Description = "What the profile is for" };
var profileSave = new Command("save", "Store (or replace) an import profile: the same options as import, without the file")
{
    profileArgument, profileDescription, source, maps, importChannel, delimiter, timeZone, layout, requires, dateFormats, dateFields,
};
profileSave.SetAction((result, ct) => Run(result, async () =>
{
    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    var options = ImportOptions(result);
    options.Profile = "";
    var response = await client.PutImportProfileAsync(new PutImportProfileRequest
    {
        Profile = new ImportProfile { Name = result.GetValue(profileArgument)!, Description = result.GetValue(profileDescription) ?? "", Options = options },
    }, deadline: Connection.Deadline(), cancellationToken: ct);
    Console.WriteLine($"{(response.Created ? "Stored" : "Replaced")} import profile '{response.Profile.Name}': cxmesh import <file> --profile {response.Profile.Name}");
}));
var profileList = new Command("list", "The stored import profiles");
profileList.SetAction((result, ct) => Run(result, async () =>
{
    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    var response = await client.ListImportProfilesAsync(new ListImportProfilesRequest(), deadline: Connection.Deadline(), cancellationToken: ct);
    Output.Print(result, response, () =>
    {
        var table = new Table().AddColumns("name", "source", "layout", "columns", "description", "updated");
        foreach (var p in response.Profiles)
        {
            table.AddRow(Markup.Escape(p.Name), Markup.Escape(p.Options.SourceSystem), p.Options.HeaderLayout.ToString(), $"{p.Options.Columns.Count}", Markup.Escape(p.Description),
                $"{p.UpdatedAt.ToDateTimeOffset():u} {Markup.Escape(p.UpdatedBy)}");
        }
        AnsiConsole.Write(table);
    });
}));
var profileShow = new Command("show", "One import profile, as JSON") { profileArgument };
profileShow.SetAction((result, ct) => Run(result, async () =>
{
    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    var response = await client.GetImportProfileAsync(new GetImportProfileRequest { Name = result.GetValue(profileArgument)! }, deadline: Connection.Deadline(), cancellationToken: ct);
    Console.WriteLine(Google.Protobuf.JsonFormatter.Default.Format(response.Profile));
}));
var profileDelete = new Command("delete", "Delete an import profile (admin)") { profileArgument };
profileDelete.SetAction((result, ct) => Run(result, async () =>
{
    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    var response = await client.DeleteImportProfileAsync(new DeleteImportProfileRequest { Name = result.GetValue(profileArgument)! }, deadline: Connection.Deadline(), cancellationToken: ct);
    Console.WriteLine(response.Deleted ? "Deleted." : "There was no such profile.");
}));
var profile = new Command("profile", "Stored import profiles: save, list, show, delete") { profileSave, profileList, profileShow, profileDelete };

var themeKey = new Argument<string>("key") { Description = "The theme's key, e.g. roast-level" };
var themeName = new Option<string?>("--name") { Description = "The theme's name (default: the key)" };
var themeKeywords = new Option<string[]>("--keyword") { Description = "An English keyword, matched at word starts and as its inflections (repeatable)" };
var themePhrases = new Option<string[]>("--phrase") { Description = "A phrase matched anywhere, e.g. Chinese (repeatable)" };
var themeGenericKeywords = new Option<string[]>("--generic-keyword") { Description = "A generic keyword: names the theme only where no specific term does (repeatable)" };
var themeGenericPhrases = new Option<string[]>("--generic-phrase") { Description = "A generic phrase: names the theme only where no specific term does (repeatable)" };
var themeWatch = new Option<bool>("--no-wait") { Description = "Start the re-tag and return, without following it" };
var themeList = new Command("list", "The theme taxonomy and its version");
themeList.SetAction((result, ct) => Run(result, async () =>
{
    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    var response = await client.ListThemesAsync(new ListThemesRequest(), deadline: Connection.Deadline(), cancellationToken: ct);
    Output.Print(result, response, () =>
    {
        var table = new Table().AddColumns("key", "name", "keywords", "phrases", "generic");
        foreach (var t in response.Themes)
        {
            table.AddRow(Markup.Escape(t.Key), Markup.Escape(t.Name), Markup.Escape(string.Join(", ", t.Keywords)), Markup.Escape(string.Join(", ", t.Phrases)),
                Markup.Escape(string.Join(", ", t.GenericKeywords.Concat(t.GenericPhrases))));
        }
        AnsiConsole.Write(table);
        Console.WriteLine($"Taxonomy version {response.TaxonomyVersion}.");
    });
}));
var themeSave = new Command("save", "Create or replace a theme; stored feedback is re-tagged to the new taxonomy, with a progress bar")
{
    themeKey, themeName, themeKeywords, themePhrases, themeGenericKeywords, themeGenericPhrases, themeWatch,
};
themeSave.SetAction((result, ct) => Run(result, async () =>
{
    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    var theme = new Theme { Key = result.GetValue(themeKey)!, Name = result.GetValue(themeName) ?? result.GetValue(themeKey)! };
    theme.Keywords.AddRange(result.GetValue(themeKeywords) ?? []);
    theme.Phrases.AddRange(result.GetValue(themePhrases) ?? []);
    theme.GenericKeywords.AddRange(result.GetValue(themeGenericKeywords) ?? []);
    theme.GenericPhrases.AddRange(result.GetValue(themeGenericPhrases) ?? []);
    RetagJob job;
    try
    {
        job = (await client.UpdateThemeAsync(new UpdateThemeRequest { Theme = theme }, deadline: Connection.Deadline(), cancellationToken: ct)).Retag;
    }
    catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
    {
        job = (await client.CreateThemeAsync(new CreateThemeRequest { Theme = theme }, deadline: Connection.Deadline(), cancellationToken: ct)).Retag;
    }
    await FollowRetagAsync(client, job, result.GetValue(themeWatch), ct);
}));
var themeDelete = new Command("delete", "Remove a theme; its mentions leave stored feedback and key drivers, with a progress bar") { themeKey, themeWatch };
themeDelete.SetAction((result, ct) => Run(result, async () =>
{
    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    var job = (await client.DeleteThemeAsync(new DeleteThemeRequest { Key = result.GetValue(themeKey)! }, deadline: Connection.Deadline(), cancellationToken: ct)).Retag;
    await FollowRetagAsync(client, job, result.GetValue(themeWatch), ct);
}));
var retagVersion = new Option<long>("--version") { Description = "A taxonomy version (default: the latest)" };
var themeRetag = new Command("retag", "Follow the re-tag of stored feedback to the latest taxonomy version (or --version), with a progress bar") { retagVersion, themeWatch };
themeRetag.SetAction((result, ct) => Run(result, async () =>
{
    var client = new FeedbackService.FeedbackServiceClient(Connect(result).Channel());
    var job = (await client.GetRetagStatusAsync(new GetRetagStatusRequest { TaxonomyVersion = result.GetValue(retagVersion) }, deadline: Connection.Deadline(), cancellationToken: ct)).Retag;
    await FollowRetagAsync(client, job, result.GetValue(themeWatch), ct);
}));
var themes = new Command("theme", "The theme taxonomy: list, save, delete, and the re-tag of stored feedback each change starts") { themeList, themeSave, themeDelete, themeRetag };

var scoreJourney = new Option<string?>("--journey") { Description = "Score of one journey (default: all feedback)" };
var scoreTouchpoint = new Option<string?>("--touchpoint") { Description = "Score of one touchpoint (with --journey: of that journey)" };
var scoreMetric = new Option<string>("--metric") { Description = "nps, csat, ces or enps", DefaultValueFactory = _ => "nps" };
var days = new Option<int>("--days") { Description = "Window: the last N days", DefaultValueFactory = _ => 30 };
var scoreUnit = new Option<string?>("--unit") { Description = "Score of one store, team or agent (with the units under it)" };
var score = new Command("score", "Read a score with its n and 95% margin of error") { scoreJourney, scoreTouchpoint, scoreUnit, scoreMetric, days };
score.SetAction((result, ct) => Run(result, async () =>
{
    var client = new ScoringService.ScoringServiceClient(Connect(result).Channel());
    var metric = result.GetValue(scoreMetric)!.ToLowerInvariant() switch
    {
        "nps" => Metric.Nps,
        "csat" => Metric.Csat,
        "ces" => Metric.Ces,
        "enps" => Metric.Enps,
        var other => throw new ArgumentException($"--metric: unknown metric '{other}' (nps, csat, ces, enps)."),
    };
    var request = new GetScoreRequest { Metric = metric, Window = new Window { LastDays = result.GetValue(days) }, Scope = new Scope() };
    if (result.GetValue(scoreJourney) is { Length: > 0 } j) request.Scope.Dimensions.Add(new Dimension { Kind = DimensionKind.Journey, Value = j });
    if (result.GetValue(scoreTouchpoint) is { Length: > 0 } t) request.Scope.Dimensions.Add(new Dimension { Kind = DimensionKind.Touchpoint, Value = t });
    if (result.GetValue(scoreUnit) is { Length: > 0 } u) request.Scope.Dimensions.Add(new Dimension { Kind = DimensionKind.Unit, Value = u });
    var response = await client.GetScoreAsync(request, deadline: Connection.Deadline(), cancellationToken: ct);
    Output.Print(result, response, () => Console.WriteLine(ScoreLine.Of(metric, response.Score)));
}));

var driversJourney = new Option<string?>("--journey") { Description = "Key drivers within one journey (default: all feedback)" };
var driversKind = new Option<string>("--kind")
{
    Description = "What the drivers are: sentiment (how customers speak of each theme), presence (whether they mention it), attribute (ratings of questions registered as drivers)",
    DefaultValueFactory = _ => "sentiment",
};
driversKind.AcceptOnlyFromAmong("sentiment", "presence", "attribute");
var driversOutcome = new Option<string>("--outcome") { Description = "What they explain", DefaultValueFactory = _ => "nps" };
driversOutcome.AcceptOnlyFromAmong("nps", "detractor", "promoter", "csat", "sentiment");
var driversEmployees = new Option<bool>("--employees") { Description = "What moves employees' eNPS (their words and attribute ratings) instead of customers' NPS" };
var drivers = new Command("drivers", "What moves NPS (or another outcome) most: importance, significance and performance of each theme or attribute")
{
    driversJourney, driversKind, driversOutcome, driversEmployees, days,
};
drivers.SetAction((result, ct) => Run(result, async () =>
{
    var client = new ScoringService.ScoringServiceClient(Connect(result).Channel());
    var request = new GetKeyDriversRequest
    {
        Outcome = result.GetValue(driversOutcome) switch
        {
            "detractor" => Outcome.Detractor,
            "promoter" => Outcome.Promoter,
            "csat" => Outcome.CsatRating,
            "sentiment" => Outcome.Sentiment,
            _ => Outcome.NpsRating,
        },
        DriverKind = result.GetValue(driversKind) switch
        {
            "presence" => DriverKind.ThemePresence,
            "attribute" => DriverKind.AttributeRating,
            _ => DriverKind.ThemeSentiment,
        },
        Window = new Window { LastDays = result.GetValue(days) },
        Scope = new Scope(),
    };
    if (result.GetValue(driversJourney) is { Length: > 0 } j) request.Scope.Dimensions.Add(new Dimension { Kind = DimensionKind.Journey, Value = j });
    if (result.GetValue(driversEmployees))
    {
        if (request.Scope.Dimensions.Count > 0) throw new ArgumentException("--employees stands alone: employees' answers are not split by journey.");
        request.Scope.Dimensions.Add(new Dimension { Kind = DimensionKind.Audience, Value = "employee" });
    }
    var model = await client.GetKeyDriversAsync(request, deadline: Connection.Deadline(), cancellationToken: ct);
    if (Output.Json(result))
    {
        Output.Print(result, model, () => { });
        return;
    }
    if (model.Drivers.Count == 0)
    {
        Console.WriteLine($"No model: {model.Note} (n={model.N}).");
        return;
    }
    var attributes = model.DriverKind == DriverKind.AttributeRating;
    var table = attributes
        ? new Table().AddColumns("question", "importance", "shapley", "correlation", "p", "ratings", "mean")
        : new Table().AddColumns("theme", "importance", "shapley", "correlation", "p", "mentions", "negative");
    foreach (var d in model.Drivers)
    {
        table.AddRow(attributes ? d.QuestionId : d.ThemeKey, $"{d.RelativeWeightPercent:0}%", model.ShapleyComputed ? $"{d.Shapley:0.000}" : "-", $"{d.Correlation:+0.00;-0.00}",
            d.Significant ? $"{d.PValue:0.000}" : $"{d.PValue:0.000} (n.s.)", $"{d.Mentions}", attributes ? $"{d.MeanRating:0.00}" : $"{d.NegativePercent:0}%");
    }
    AnsiConsole.Write(table);
    Console.WriteLine($"R² {model.RSquared:0.000} over {model.N} responses, {model.StartDate}..{model.EndDate}");
}));

var funnelJourney = new Option<string>("--journey") { Description = "Journey key", DefaultValueFactory = _ => JourneyDemo.Key };
var segment = new Option<string?>("--segment") { Description = "Only instances of this segment" };
var funnel = new Command("funnel", "Show a journey's funnel over the last 30 days") { funnelJourney, segment };
funnel.SetAction((result, ct) => Run(result, async () =>
{
    var client = new JourneyService.JourneyServiceClient(Connect(result).Channel());
    var f = await client.GetFunnelAsync(new GetFunnelRequest { JourneyKey = result.GetValue(funnelJourney)!, Segment = result.GetValue(segment) ?? "" },
        deadline: Connection.Deadline(), cancellationToken: ct);
    if (Output.Json(result))
    {
        Output.Print(result, f, () => { });
        return;
    }
    var table = new Table().AddColumns("stage", "entered", "completed", "dropped", "from start", "median in stage", "p90 in stage");
    foreach (var s in f.Stages)
    {
        table.AddRow(s.StageKey, $"{s.Entered}", $"{s.Completed}", $"{s.Dropped}", $"{s.ConversionFromStart:P0}",
            Human(s.MedianTimeInStage), Human(s.P90TimeInStage));
    }
    AnsiConsole.Write(table);
    Console.WriteLine($"{f.Started} started, {f.Completed} completed, {f.Abandoned} abandoned ({f.AbandonmentRate:P1}); " +
        $"end to end median {Human(f.MedianEndToEnd)}, p90 {Human(f.P90EndToEnd)}  [{f.StartDate}..{f.EndDate}]");
}));

var actionOwner = new Option<string?>("--owner") { Description = "A member's actions" };
var actionTeam = new Option<string?>("--team") { Description = "A team's actions (cx: those nobody owns)" };
var actionJourney = new Option<string?>("--journey") { Description = "One journey's actions" };
var actions = new Command("actions", "Open closed-loop actions, oldest due first, with their owner and SLA") { actionOwner, actionTeam, actionJourney };
actions.SetAction((result, ct) => Run(result, async () =>
{
    var client = new CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient(Connect(result).Channel());
    var list = await client.ListActionsAsync(new CxMesh.Governance.V1.ListActionsRequest
    {
        OwnerId = result.GetValue(actionOwner) ?? "",
        TeamId = result.GetValue(actionTeam) ?? "",
        JourneyKey = result.GetValue(actionJourney) ?? "",
        PageSize = 50,
    }, deadline: Connection.Deadline(), cancellationToken: ct);
    if (Output.Json(result))
    {
        Output.Print(result, list, () => { });
        return;
    }
    var table = new Table().AddColumns("due (UTC)", "state", "owner", "journey", "title");
    foreach (var a in list.Actions)
    {
        table.AddRow($"{a.DueAt.ToDateTime():yyyy-MM-dd HH:mm}{(a.Overdue ? " OVERDUE" : "")}", a.State.ToString(), a.OwnerId.Length > 0 ? a.OwnerId : $"team {a.TeamId}",
            a.JourneyKey, Markup.Escape(a.Title));
    }
    AnsiConsole.Write(table);
    var metrics = await client.GetActionMetricsAsync(new CxMesh.Governance.V1.GetActionMetricsRequest { JourneyKey = result.GetValue(actionJourney) ?? "", TeamId = result.GetValue(actionTeam) ?? "" },
        deadline: Connection.Deadline(), cancellationToken: ct);
    Console.WriteLine($"Last 30 days: {metrics.Created} created, {metrics.Resolved} resolved, {metrics.Overdue} overdue; first response median {metrics.MedianHoursToFirstResponse:0.0} h; " +
        $"{metrics.WithinSlaPercent:0}% within SLA (of {metrics.SlaDecided}).");
}));

var sprintId = new Option<string?>("--id") { Description = "Sprint id (default: the latest)" };
var sprint = new Command("sprint", "A 12-week improvement sprint's progress, priority by priority, read from scoring") { sprintId };
sprint.SetAction((result, ct) => Run(result, async () =>
{
    var client = new CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient(Connect(result).Channel());
    var id = result.GetValue(sprintId);
    if (string.IsNullOrEmpty(id))
    {
        id = (await client.ListSprintsAsync(new CxMesh.Governance.V1.ListSprintsRequest(), deadline: Connection.Deadline(), cancellationToken: ct)).Sprints.FirstOrDefault()?.Id
            ?? throw new NothingFoundException("No sprint yet: create one in the console or with CreateSprint.");
    }
    var progress = await client.GetSprintProgressAsync(new CxMesh.Governance.V1.GetSprintProgressRequest { SprintId = id }, deadline: Connection.Deadline(), cancellationToken: ct);
    if (Output.Json(result))
    {
        Output.Print(result, progress, () => { });
        return;
    }
    Console.WriteLine($"{progress.Sprint.Name}: {progress.Sprint.StartDate}..{progress.Sprint.EndDate}, day {progress.DaysElapsed} of 84, " +
        $"{progress.TargetsMet} of {progress.Priorities.Count} targets met ({progress.TargetsMetSignificantly} significantly).");
    Console.WriteLine(progress.Summary);
}));

var audit = new Command("audit-verify", "Check the governance audit log's hash chain (admin)");
audit.SetAction((result, ct) => Run(result, async () =>
{
    var client = new CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient(Connect(result).Channel());
    var verdict = await client.VerifyAuditLogAsync(new CxMesh.Governance.V1.VerifyAuditLogRequest(), deadline: Connection.Deadline(60), cancellationToken: ct);
    Output.Print(result, verdict, () => Console.WriteLine(verdict.Intact
        ? $"Intact: {verdict.Entries} entries, head {verdict.HeadHash}"
        : $"BROKEN at entry {verdict.FirstBrokenSequence}: {verdict.Problem}"));
    if (!verdict.Intact) Environment.ExitCode = 65;
}));

var smokeEndpoints = new Option<string[]>("--endpoint")
{
    Description = "service=address for a service behind its own address (repeatable; others use --grpc)",
    AllowMultipleArgumentsPerToken = true,
};
var smokeTimeout = new Option<int>("--timeout") { Description = "Seconds to wait for each asynchronous step", DefaultValueFactory = _ => 120 };
var smoke = new Command("smoke", "End-to-end check of a deployment: touchpoint, feedback, score, and the detractor's governance action (admin token)")
{
    smokeEndpoints, smokeTimeout,
};
smoke.SetAction((result, ct) => Run(result, async () =>
{
    var connection = Connect(result);
    var addresses = new Dictionary<string, string>();
    foreach (var pair in result.GetValue(smokeEndpoints) ?? [])
    {
        var parts = pair.Split('=', 2);
        if (parts.Length != 2 || !Uri.IsWellFormedUriString(parts[1], UriKind.Absolute)) throw new ArgumentException($"--endpoint: '{pair}' is not service=http://host:port.");
        addresses[parts[0]] = parts[1];
    }
    var test = new SmokeTest(service => (connection with { Address = addresses.GetValueOrDefault(service, connection.Address) }).Channel(), Console.Out,
        TimeSpan.FromSeconds(result.GetValue(smokeTimeout)));
    await test.RunAsync(ct);
}));

var root = new RootCommand("cxmesh: the CxMesh command line")
{
    seed, submit, feedback, import, profile, themes, score, drivers, funnel, ValueCommands.Value(Connect, Run), ValueCommands.Stages(Connect, Run),
    UnitCommands.Units(Connect, Run), UnitCommands.Praise(Connect, Run), BenchCommands.Bench(Connect, Run), actions, sprint,
    audit, report, sink, smoke,
};
root.Options.Add(grpc);
root.Options.Add(token);
root.Options.Add(Output.Option);
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // A usage mistake: say what, point at --help, exit 64 (EX_USAGE) rather than System.CommandLine's 1.
    foreach (var error in parsed.Errors) Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine($"See '{string.Join(' ', (parsed.CommandResult.Command == root ? ["cxmesh"] : new[] { "cxmesh", parsed.CommandResult.Command.Name }))} --help'.");
    return 64;
}
return await parsed.InvokeAsync();

// Streams a batch on one client-streaming call and returns its answer.
static async Task<TResponse> StreamAsync<TRequest, TResponse>(AsyncClientStreamingCall<TRequest, TResponse> call, IEnumerable<TRequest> items, CancellationToken ct)
{
    foreach (var item in items) await call.RequestStream.WriteAsync(item, ct);
    await call.RequestStream.CompleteAsync();
    return await call.ResponseAsync;
}

// Records demo touchpoints on one stream; a rejected one is a bug in the demo, so it stops the seeding with its reason.
static async Task<RecordTouchpointsResponse> RecordDemoTouchpointsAsync(JourneyService.JourneyServiceClient journeys, IEnumerable<TouchpointEvent> batch, CancellationToken ct)
{
    using var call = journeys.RecordTouchpoints(deadline: Connection.Deadline(120), cancellationToken: ct);
    var response = await StreamAsync(call, batch.Select(e => new RecordTouchpointsRequest { Touchpoint = e }), ct);
    if (response.Rejected == 0) return response;
    var first = response.Results.First(r => r.Status == RecordStatus.Rejected);
    throw new InvalidOperationException($"demo touchpoint rejected: {first.Error.Field}: {first.Error.Message}");
}

// The coffee club: six months of monthly boxes and NPS answers with planted effects (ValueDemo), for `cxmesh value` and `cxmesh stages`.
static async Task SeedClubAsync(JourneyService.JourneyServiceClient journeys, FeedbackService.FeedbackServiceClient feedback, int members, CancellationToken ct)
{
    if (members <= 0) return;
    try
    {
        await journeys.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = ValueDemo.Definition() }, deadline: Connection.Deadline(), cancellationToken: ct);
    }
    catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
    {
    }
    var (touchpoints, answers) = ValueDemo.Generate(DateOnly.FromDateTime(DateTime.UtcNow), members);
    int recorded = 0, stored = 0;
    await AnsiConsole.Progress().AutoClear(true).StartAsync(async progress =>
    {
        var task = progress.AddTask("Seeding the coffee club", maxValue: touchpoints.Count + answers.Count);
        foreach (var batch in touchpoints.Chunk(2000))
        {
            recorded += (await RecordDemoTouchpointsAsync(journeys, batch, ct)).Recorded;
            task.Increment(batch.Length);
        }
        foreach (var batch in answers.Chunk(2000))
        {
            stored += await SubmitDemoBatchAsync(feedback, batch, "club answer", ct);
            task.Increment(batch.Length);
        }
    });
    Console.WriteLine($"Demo coffee club: {members} members, {recorded} of {touchpoints.Count} touchpoints recorded and {stored} of {answers.Count} answers stored " +
        "(the rest were there already). Try `cxmesh value` and `cxmesh stages`.");
}

// One batch of demo feedback in one stream; a refused item is a bug in the demo, so it stops the seeding naming the field.
static async Task<int> SubmitDemoBatchAsync(FeedbackService.FeedbackServiceClient feedback, IReadOnlyCollection<SubmitFeedbackRequest> batch, string what, CancellationToken ct)
{
    using var call = feedback.SubmitFeedbackBatch(deadline: Connection.Deadline(120), cancellationToken: ct);
    var response = await StreamAsync(call, batch.Select(item => new SubmitFeedbackBatchRequest { Item = item }), ct);
    if (response.Rejected == 0) return response.Stored;
    var first = response.Results.First(r => r.Status == SubmitStatus.Rejected);
    throw new InvalidOperationException($"{what} rejected: {first.Error.Field}: {first.Error.Message}");
}

// Six coffee shops with teams and baristas, customers' NPS and employees' eNPS with planted effects (UnitsDemo), for `cxmesh units`.
static async Task SeedShopsAsync(FeedbackService.FeedbackServiceClient feedback, CancellationToken ct)
{
    foreach (var question in UnitsDemo.EmployeeQuestions)
    {
        try
        {
            await feedback.RegisterQuestionAsync(new RegisterQuestionRequest { Question = question }, deadline: Connection.Deadline(), cancellationToken: ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
        {
        }
    }
    foreach (var unit in UnitsDemo.Units()) await feedback.SaveUnitAsync(new SaveUnitRequest { Unit = unit }, deadline: Connection.Deadline(), cancellationToken: ct);
    var items = UnitsDemo.Generate(DateOnly.FromDateTime(DateTime.UtcNow));
    var stored = 0;
    foreach (var batch in items.Chunk(2000)) stored += await SubmitDemoBatchAsync(feedback, batch, "shop answer", ct);
    Console.WriteLine($"Demo shops: 6 shops with teams and baristas, {stored} of {items.Count} visits and employee answers stored (the rest were there already). " +
        "Try `cxmesh units compare` and `cxmesh praise`.");
}

Connection Connect(ParseResult result) => new(result.GetValue(grpc)!, result.GetValue(token) ?? Environment.GetEnvironmentVariable("CXMESH_TOKEN"));

static string Human(Google.Protobuf.WellKnownTypes.Duration? d) => d?.ToTimeSpan() switch
{
    null => "-",
    { TotalDays: >= 1 } t => $"{t.TotalDays:0.0} d",
    { TotalHours: >= 1 } t => $"{t.TotalHours:0.0} h",
    var t => $"{t.Value.TotalMinutes:0} min",
};

// A re-tag's progress as it happens: items scanned of the total, items whose themes changed, items/s and time left.
static async Task FollowRetagAsync(FeedbackService.FeedbackServiceClient client, RetagJob job, bool noWait, CancellationToken ct)
{
    static string Line(RetagJob j) =>
        $"v{j.TaxonomyVersion} ({Markup.Escape(j.Change)}): {j.ItemsScanned:N0}/{j.ItemsTotal:N0} items, {j.ItemsChanged:N0} re-tagged, {j.ItemsPerSecond:N0}/s";
    Console.WriteLine($"Taxonomy version {job.TaxonomyVersion}: {job.Change}.");
    if (noWait || job.State != RetagState.Running)
    {
        Console.WriteLine($"Re-tag {job.State.ToString().ToLowerInvariant()}: {job.ItemsScanned:N0} of {job.ItemsTotal:N0} items scanned, {job.ItemsChanged:N0} re-tagged"
            + (job.State == RetagState.Running ? $", about {TimeSpan.FromSeconds(job.EtaSeconds):g} left (cxmesh theme retag follows it)." : "."));
        return;
    }
    await AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
        .StartAsync(async progress =>
        {
            var task = progress.AddTask(Line(job), maxValue: Math.Max(1, job.ItemsTotal));
            while (job.State == RetagState.Running)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                job = (await client.GetRetagStatusAsync(new GetRetagStatusRequest { TaxonomyVersion = job.TaxonomyVersion }, deadline: Connection.Deadline(), cancellationToken: ct)).Retag;
                task.MaxValue = Math.Max(task.MaxValue, job.ItemsScanned);
                task.Value = job.ItemsScanned;
                task.Description = Line(job);
            }
            task.Value = task.MaxValue;
        });
    Console.WriteLine(job.State == RetagState.Superseded
        ? $"A newer change (a later version) took over; follow it with: cxmesh theme retag"
        : $"Re-tag finished: {job.ItemsScanned:N0} items scanned, {job.ItemsChanged:N0} re-tagged; key drivers and trends follow as scoring applies them.");
}

static Channel ParseChannel(string value) =>
    Enum.TryParse<Channel>(value.Replace("-", "").Replace("_", ""), ignoreCase: true, out var c) && c != Channel.Unspecified
        ? c
        : throw new ArgumentException($"--channel: unknown channel '{value}'.");

// Exit codes follow sysexits.h: 0 done, 64 usage (a flag or argument is wrong), 65 data (the server refused the input),
// 66 not found, 69 unavailable (cannot reach the server, or a dependency of it is down), 70 internal error, 75 try again
// (deadline, rate limit), 77 not allowed (no, a wrong or an expired token; a role the method does not allow).
async Task<int> Run(ParseResult result, Func<Task> action)
{
    var connection = Connect(result);
    try
    {
        await action();
        return Environment.ExitCode; // a command may set it (import: 65 when rows were rejected)
    }
    catch (RpcException ex)
    {
        var status = ex.GetRpcStatus();
        var reason = status?.GetDetail<ErrorInfo>();
        var traceId = reason?.Metadata.TryGetValue("trace_id", out var t) == true ? t : null;
        var (message, code) = ex.StatusCode switch
        {
            StatusCode.Unavailable when ex.Status.Detail.StartsWith("Error connecting", StringComparison.Ordinal) || ex.Status.DebugException is System.Net.Http.HttpRequestException =>
                ($"Cannot reach cxmesh-server at {connection.Address}: {ex.Status.DebugException?.InnerException?.Message ?? ex.Status.DebugException?.Message ?? ex.Status.Detail}. " +
                    "Is it running, and is that its gRPC address? (--grpc or CXMESH_GRPC)", 69),
            StatusCode.Unauthenticated =>
                ($"cxmesh-server at {connection.Address} refused the call: {ex.Status.Detail} " +
                    (connection.DescribeToken() is { } who ? $"(you sent {who}; --token or CXMESH_TOKEN)" : "(no token was sent: give --token or set CXMESH_TOKEN)"), 77),
            StatusCode.PermissionDenied =>
                ($"Not allowed: {ex.Status.Detail}{(connection.DescribeToken() is { } who ? $" (you sent {who})" : "")}", 77),
            StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.AlreadyExists or StatusCode.OutOfRange => ($"{ex.StatusCode}: {ex.Status.Detail}", 65),
            StatusCode.NotFound => ($"Not found: {ex.Status.Detail}", 66),
            StatusCode.DeadlineExceeded => ($"cxmesh-server at {connection.Address} did not answer in time; try again.", 75),
            StatusCode.ResourceExhausted => ($"{ex.Status.Detail}", 75),
            StatusCode.Unavailable => ($"Unavailable: {ex.Status.Detail}", 69),
            StatusCode.Cancelled => ("Cancelled.", 75),
            _ => ($"{ex.StatusCode}: {ex.Status.Detail}", 70),
        };
        Console.Error.WriteLine(message);
        foreach (var violation in status?.GetDetail<BadRequest>()?.FieldViolations ?? [])
        {
            Console.Error.WriteLine($"  {violation.Field}: {violation.Description}");
        }
        if (reason is not null && reason.Reason.Length > 0 && code != 69) Console.Error.WriteLine($"  reason: {reason.Reason}{(traceId is null ? "" : $", trace id {traceId} (quote it to your operator)")}");
        return code;
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine(ex.Message);
        return 64;
    }
    catch (NothingFoundException ex)
    {
        Console.Error.WriteLine(ex.Message);
        return 66;
    }
    catch (System.Security.Authentication.AuthenticationException ex)
    {
        Console.Error.WriteLine($"TLS with {connection.Address} failed: {ex.Message} (set SSL_CERT_FILE to your CA bundle if the server's certificate is private).");
        return 69;
    }
    catch (TimeoutException ex)
    {
        // A wait of the command's own (cxmesh bench freshness, smoke) ran out: the server answered, but not in time.
        Console.Error.WriteLine(ex.Message);
        return 75;
    }
}
