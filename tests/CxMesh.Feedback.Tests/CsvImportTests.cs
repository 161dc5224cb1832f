using System.Text;
using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Tests;

public sealed class CsvImportTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private Task<List<ImportFeedbackCsvResponse>> ImportAsync(CsvImportOptions options, byte[] file, int chunkSize = 7) =>
        Imports.RunAsync(fixture.Host, options, file, chunkSize);

    private static CsvImportOptions Options(string system) => new()
    {
        SourceSystem = system,
        DefaultChannel = Channel.Review,
        Columns =
        {
            ["rating:nps"] = "Recommend (0-10)",
            ["rating:csat"] = "Satisfaction",
            ["verbatim"] = "Comment",
            ["external_id"] = "Review ID",
            ["customer_id"] = "Customer",
            ["given_at"] = "Date",
            ["product_id"] = "SKU",
            ["segment:plan"] = "Plan",
            ["contact.email"] = "Email",
        },
    };

    private async Task<long> CountAsync(string sql, object? args = null)
    {
        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql, args);
    }

    [Fact]
    public async Task An_export_is_imported_row_by_row_with_each_bad_row_named_and_a_reimport_changes_nothing()
    {
        var day = DateTime.UtcNow.AddDays(-2).ToString("yyyy-MM-dd");
        var file = Encoding.UTF8.GetBytes(
            "\uFEFFReview ID,Recommend (0-10),Satisfaction,Comment,Customer,Date,SKU,Plan,Email,channel\r\n" +
            $"r-1,9,5,\"Fresh beans, quick delivery\",cust-1,{day}T09:30:00+08:00,sku-7,monthly,a@example.com,review\r\n" +
            $"r-2,3,,\"送货太慢，盒子\n破损\",cust-2,{day} 10:00,sku-7,,,\r\n" +
            $"r-3,ten,4,Nice,cust-3,{day},sku-1,,,\r\n" +
            $"r-4,11,4,Too high,cust-4,{day},sku-1,,,\r\n" +
            $"r-5,7,4,Fine,cust-5,yesterday,sku-1,,,\r\n" +
            $"r-6,7,4,Fine,cust-6,{day},sku-1,,,carrier-pigeon\r\n" +
            $"r-7,7,4,Too few fields\r\n" +
            $"r-8,8,4,a \"quoted\" word,cust-8,{day},sku-1,,,\r\n" +
            $"r-9,,,No rating at all,cust-9,{day},sku-1,,,\r\n" +
            $"r-10,6,2,\"Broken grinder\",cust-10,{day},sku-2,annual,,complaint\r\n");
        var responses = await ImportAsync(Options("csv-shop"), file);

        var final = responses[^1];
        Assert.True(final.Done);
        Assert.Equal((10L, 4L, 0L, 6L), (final.RowsRead, final.Stored, final.Replayed, final.Rejected));
        Assert.Equal(file.Length, final.BytesRead);
        var byRow = final.Rejections.ToDictionary(r => r.Row);
        Assert.Equal([4L, 5, 6, 7, 8, 9], byRow.Keys.Order());
        Assert.Equal("Recommend (0-10)", byRow[4].Column);
        Assert.Contains("'ten' is not a whole number", byRow[4].Message);
        Assert.Equal("Recommend (0-10)", byRow[5].Column);
        Assert.Contains("outside the scale", byRow[5].Message);
        Assert.Equal("Date", byRow[6].Column);
        Assert.Equal("channel", byRow[7].Column);
        Assert.Contains("the row has 4 fields, the header has 10", byRow[8].Message);
        Assert.Contains("not well-formed", byRow[9].Message);

        // What was stored is what the row said, with the source recorded.
        var admin = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Admin);
        var items = (await admin.ListFeedbackAsync(new ListFeedbackRequest { ProductId = "sku-7", PageSize = 10 })).Items
            .Concat((await admin.ListFeedbackAsync(new ListFeedbackRequest { ProductId = "sku-2", PageSize = 10 })).Items)
            .Concat((await admin.ListFeedbackAsync(new ListFeedbackRequest { ProductId = "sku-1", PageSize = 10 })).Items)
            .Where(i => i.Source.System == "csv-shop")
            .ToDictionary(i => i.Source.ExternalId);
        Assert.Equal(["r-1", "r-10", "r-2", "r-9"], items.Keys.Order());
        // A row with a comment and no rating is a voice like any other: stored, with no rating.
        Assert.Empty(items["r-9"].Ratings);
        var first = (await admin.GetFeedbackAsync(new GetFeedbackRequest { Id = items["r-1"].Id })).Item;
        Assert.Equal(("csv-shop", Channel.Review, "cust-1", "monthly", "a@example.com"),
            (first.Source.System, first.Channel, first.CustomerId, first.Links.Segment["plan"], first.Contact.Email));
        Assert.Equal([("csat", 5), ("nps", 9)], first.Ratings.Select(r => (r.QuestionId, r.Value)).OrderBy(r => r.QuestionId));
        Assert.Equal(DateTime.Parse($"{day}T01:30:00Z").ToUniversalTime(), first.GivenAt.ToDateTime());
        Assert.Equal("送货太慢，盒子\n破损", items["r-2"].Verbatim);
        Assert.Equal([("nps", 3)], items["r-2"].Ratings.Select(r => (r.QuestionId, r.Value)));
        Assert.Equal(Channel.Complaint, items["r-10"].Channel);

        var again = (await ImportAsync(Options("csv-shop"), file, chunkSize: 4096))[^1];
        Assert.Equal((10L, 0L, 4L, 6L), (again.RowsRead, again.Stored, again.Replayed, again.Rejected));
        Assert.Equal(4, await CountAsync("select count(*) from feedback_items where source_system = 'csv-shop'"));

        // Read another way (fewer columns mapped), the rows are still the stored ones: the external id identifies them.
        var fewer = Options("csv-shop");
        fewer.Columns.Remove("rating:csat");
        fewer.Columns.Remove("segment:plan");
        var remapped = (await ImportAsync(fewer, file, chunkSize: 4096))[^1];
        Assert.Equal((0L, 4L), (remapped.Stored, remapped.Replayed));
        Assert.Equal(4, await CountAsync("select count(*) from feedback_items where source_system = 'csv-shop'"));
    }

    [Fact]
    public async Task Without_an_external_id_rows_are_known_by_position_and_content_with_semicolons_and_a_time_zone()
    {
        var day = DateTime.UtcNow.Date.AddDays(-3);
        var file = Encoding.UTF8.GetBytes(
            "nps;comment;when\n" +
            $"9;Great;{day:yyyy-MM-dd} 08:00\n" +
            $"9;Great;{day:yyyy-MM-dd} 08:00\n" +
            $"2;Cold coffee;{day:yyyy-MM-dd}\n");
        var options = new CsvImportOptions
        {
            SourceSystem = "csv-kiosk",
            DefaultChannel = Channel.SelfService,
            Delimiter = ";",
            TimeZone = "Asia/Shanghai",
            Columns = { ["rating:nps"] = "NPS", ["verbatim"] = "Comment", ["given_at"] = "When" },
        };

        var first = (await ImportAsync(options, file))[^1];
        Assert.Equal((3L, 0L, 0L), (first.Stored, first.Replayed, first.Rejected));
        var again = (await ImportAsync(options, file))[^1];
        Assert.Equal((0L, 3L, 0L), (again.Stored, again.Replayed, again.Rejected));
        Assert.Equal(3, await CountAsync("select count(*) from feedback_items where source_system = 'csv-kiosk'"));
        // Shanghai is UTC+8: 08:00 there is midnight UTC, and a bare date is the local midnight.
        Assert.Equal(2, await CountAsync(
            "select count(*) from feedback_items where source_system = 'csv-kiosk' and given_at = @at and channel = 'self_service'", new { at = day }));
        Assert.Equal(1, await CountAsync("select count(*) from feedback_items where source_system = 'csv-kiosk' and given_at = @at", new { at = day.AddHours(-8) }));
    }

    [Fact]
    public async Task Progress_comes_as_rows_are_stored_and_the_summary_lists_rejections_in_row_order()
    {
        var rows = new StringBuilder("external_id,nps\n");
        for (var i = 0; i < 1_300; i++) rows.Append($"bulk-{i},{(i % 100 == 0 ? "x" : (i % 11).ToString())}\n");
        var responses = await ImportAsync(new CsvImportOptions
        {
            SourceSystem = "csv-bulk",
            DefaultChannel = Channel.Survey,
            Columns = { ["rating:nps"] = "nps" },
        }, Encoding.UTF8.GetBytes(rows.ToString()), chunkSize: 1000);

        Assert.True(responses.Count >= 3, $"expected progress before the summary, got {responses.Count} messages");
        Assert.All(responses[..^1], r => Assert.False(r.Done));
        Assert.Equal(responses.Select(r => r.RowsRead).Order(), responses.Select(r => r.RowsRead));
        var final = responses[^1];
        Assert.Equal((1_300L, 1_287L, 13L), (final.RowsRead, final.Stored, final.Rejected));
        Assert.Equal(Enumerable.Range(0, 13).Select(i => i * 100 + 2L), final.Rejections.Select(r => r.Row));
    }

    public static TheoryData<string, string, CsvImportOptions> BadOptions => new()
    {
        { "nps,comment\n9,x\n", "options.source_system", new CsvImportOptions { DefaultChannel = Channel.Web, Columns = { ["rating:nps"] = "nps" } } },
        { "nps,comment\n9,x\n", "options.columns[mood]", new CsvImportOptions { SourceSystem = "s", DefaultChannel = Channel.Web, Columns = { ["rating:nps"] = "nps", ["mood"] = "comment" } } },
        { "nps,comment\n9,x\n", "options.columns[verbatim]", new CsvImportOptions { SourceSystem = "s", DefaultChannel = Channel.Web, Columns = { ["rating:nps"] = "nps", ["verbatim"] = "Text" } } },
        { "nps,comment\n9,x\n", "options.columns", new CsvImportOptions { SourceSystem = "s", DefaultChannel = Channel.Web } },
        { "nps,comment\n9,x\n", "options.default_channel", new CsvImportOptions { SourceSystem = "s", Columns = { ["rating:nps"] = "nps" } } },
        { "nps,comment\n9,x\n", "options.delimiter", new CsvImportOptions { SourceSystem = "s", DefaultChannel = Channel.Web, Delimiter = "::", Columns = { ["rating:nps"] = "nps" } } },
        { "nps,comment\n9,x\n", "options.time_zone", new CsvImportOptions { SourceSystem = "s", DefaultChannel = Channel.Web, TimeZone = "Mars/Olympus", Columns = { ["rating:nps"] = "nps" } } },
        { "", "chunk", new CsvImportOptions { SourceSystem = "s", DefaultChannel = Channel.Web, Columns = { ["rating:nps"] = "nps" } } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task Options_that_cannot_work_fail_the_call_naming_the_field_before_any_row_is_stored(string file, string field, CsvImportOptions options)
    {
        await RpcAssert.InvalidArgumentAsync(() => ImportAsync(options, Encoding.UTF8.GetBytes(file)), field);
        Assert.Equal(0, await CountAsync("select count(*) from feedback_items where source_system = 's'"));
    }

    [Fact]
    public async Task An_unclosed_quote_ends_the_call_instead_of_buffering_the_rest_of_the_file()
    {
        var file = "external_id,nps,comment\nq-1,9,fine\nq-2,8,\"never closed\n" + string.Concat(Enumerable.Repeat("more text, ", 10_000));
        var badRequest = await RpcAssert.InvalidArgumentAsync(() => ImportAsync(new CsvImportOptions
        {
            SourceSystem = "csv-quote",
            DefaultChannel = Channel.Web,
            Columns = { ["rating:nps"] = "nps", ["verbatim"] = "comment" },
        }, Encoding.UTF8.GetBytes(file), chunkSize: 8192), "chunk");
        Assert.Contains("unclosed quote", badRequest.FieldViolations[0].Description);
    }

    [Fact]
    public async Task A_row_holding_a_NUL_is_rejected_alone_naming_its_column()
    {
        var file = "external_id,nps,comment\nn-1,9,fine\nn-2,8,bad\0word\nn-3,7,ok\n";
        var final = (await ImportAsync(new CsvImportOptions
        {
            SourceSystem = "csv-nul",
            DefaultChannel = Channel.Web,
            Columns = { ["rating:nps"] = "nps", ["verbatim"] = "comment" },
        }, Encoding.UTF8.GetBytes(file)))[^1];
        Assert.Equal((3L, 2L, 1L), (final.RowsRead, final.Stored, final.Rejected));
        var rejection = Assert.Single(final.Rejections);
        Assert.Equal((3L, "comment"), (rejection.Row, rejection.Column));
    }

    [Fact]
    public async Task A_header_field_over_64_KiB_is_INVALID_ARGUMENT_naming_the_header()
    {
        var file = "external_id,nps," + new string('h', 70_000) + "\nq-1,9,x\n";
        var badRequest = await RpcAssert.InvalidArgumentAsync(() => ImportAsync(new CsvImportOptions
        {
            SourceSystem = "csv-wide-field",
            DefaultChannel = Channel.Web,
            Columns = { ["rating:nps"] = "nps" },
        }, Encoding.UTF8.GetBytes(file), chunkSize: 8192), "chunk");
        Assert.Contains("row 1 (the header)", badRequest.FieldViolations[0].Description);
    }

    /// <summary>
    /// A header, or a row, that never ends (one short column after another, or one quoted field after another with
    /// line breaks inside) is refused while it streams in: the call ends although the client has not stopped sending.
    /// </summary>
    [Theory]
    [InlineData("many columns", "c,", "more than 2,000 columns")]
    [InlineData("long record", "\"x\ny\",", "more than 2,000 columns")]
    [InlineData("long row of wide fields", "", "longer than 1 MiB")]
    public async Task A_header_or_row_that_never_ends_is_refused_while_it_streams(string what, string repeated, string expected)
    {
        var client = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var call = client.ImportFeedbackCsv(cancellationToken: giveUp.Token);
        await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest
        {
            Options = new CsvImportOptions { SourceSystem = "csv-endless", DefaultChannel = Channel.Web, Columns = { ["rating:nps"] = "nps" } },
        });
        // The long-row case: a good header and row, then a row of 60 KB fields (each under the field limit).
        var start = repeated.Length > 0 ? "nps," : "nps,comment\n9,fine\n9,";
        var unit = Encoding.UTF8.GetBytes(repeated.Length > 0 ? repeated : new string('w', 60_000) + ",");
        var writing = Task.Run(async () =>
        {
            try
            {
                await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = ByteString.CopyFromUtf8(start) });
                var chunk = ByteString.CopyFrom([.. Enumerable.Range(0, Math.Max(1, 65_536 / unit.Length)).SelectMany(_ => unit)]);
                while (!giveUp.IsCancellationRequested) await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = chunk });
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or OperationCanceledException or IOException or ObjectDisposedException)
            {
                // The call ended: the server stopped reading.
            }
        });

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
            }
        });
        // The server ended the call without reading the rest: ending it here releases a write waiting for it to read.
        call.Dispose();
        await writing;

        Assert.True(ex.StatusCode == StatusCode.InvalidArgument, $"{what}: {ex.Status}");
        Assert.Contains(expected, ex.Status.Detail);
    }

    [Fact]
    public async Task A_second_options_message_fails_the_call()
    {
        var client = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        using var call = client.ImportFeedbackCsv(deadline: DateTime.UtcNow.AddMinutes(2));
        var options = new CsvImportOptions { SourceSystem = "csv-twice", DefaultChannel = Channel.Web, Columns = { ["rating:nps"] = "nps" } };
        await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Options = options });
        await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = ByteString.CopyFromUtf8("nps\n9\n") });
        await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Options = options });
        await call.RequestStream.CompleteAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
            }
        });
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
    }

    [Fact]
    public async Task Analysts_cannot_import()
    {
        var client = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);
        using var call = client.ImportFeedbackCsv(deadline: DateTime.UtcNow.AddMinutes(2));
        try
        {
            await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Options = new CsvImportOptions { SourceSystem = "x" } });
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException)
        {
            // The server may refuse the call before the options are written: its answer is what counts.
        }
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
            }
        });
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
    }

    private async Task<Dictionary<string, FeedbackItem>> StoredAsync(string system)
    {
        var admin = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Admin);
        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        var items = new Dictionary<string, FeedbackItem>();
        foreach (var id in await connection.QueryAsync<Guid>("select id from feedback_items where source_system = @system", new { system }))
        {
            var item = (await admin.GetFeedbackAsync(new GetFeedbackRequest { Id = id.ToString() })).Item;
            items[item.Source.ExternalId] = item;
        }
        return items;
    }

    [Fact]
    public async Task A_Qualtrics_export_imports_as_exported_with_its_three_header_rows_and_history()
    {
        var system = $"qualtrics-{Guid.NewGuid():N}"[..20];
        var options = new CsvImportOptions
        {
            SourceSystem = system,
            DefaultChannel = Channel.Survey,
            Columns =
            {
                ["rating:nps"] = "QID1", // by ImportId
                ["verbatim"] = "Q2", // by column id
                ["rating:csat"] = "How satisfied were you with your last delivery? - Delivery", // by question text
                ["customer_id"] = "ExternalReference",
                ["segment:plan"] = "Q4",
            },
        };
        var final = (await ImportAsync(options, RepoFiles.Sample("qualtrics-export.csv"), chunkSize: 64))[^1];

        Assert.Equal(HeaderLayout.Qualtrics, final.HeaderLayout);
        Assert.Equal((8L, 5L, 0L, 3L), (final.RowsRead, final.Stored, final.Replayed, final.Rejected));
        var byRow = final.Rejections.ToDictionary(r => r.Row);
        Assert.Equal([8L, 9, 10], byRow.Keys.Order());
        Assert.Equal(("Q1", true), (byRow[8].Column, byRow[8].Message.Contains("outside the scale", StringComparison.Ordinal)));
        Assert.Equal("RecordedDate", byRow[9].Column);
        Assert.Equal("ResponseId", byRow[10].Column);
        Assert.Contains("row 5", byRow[10].Message);

        var items = await StoredAsync(system);
        Assert.Equal(["R_1Qx7a", "R_2Bc8b", "R_3De9c", "R_4Ef0d", "R_8Ij4h"], items.Keys.Order());
        // RecordedDate in the zone the export names (America/Denver, UTC-7 in March), history of 2024 kept as given.
        Assert.Equal(new DateTime(2024, 3, 4, 17, 1, 41, DateTimeKind.Utc), items["R_1Qx7a"].GivenAt.ToDateTime());
        Assert.Equal([("csat", 5), ("nps", 9)], items["R_1Qx7a"].Ratings.Select(r => (r.QuestionId, r.Value)).OrderBy(r => r.QuestionId));
        Assert.Equal(("crm-1001", "monthly"), (items["R_1Qx7a"].CustomerId, items["R_1Qx7a"].Links.Segment["plan"]));
        Assert.Equal("The grinder arrived broken and support took\na week to answer.", items["R_2Bc8b"].Verbatim);
        Assert.Empty(items["R_4Ef0d"].Ratings); // a comment without a score is a voice all the same
        Assert.Equal("Packaging is \"eco\" but the bag leaks.", items["R_4Ef0d"].Verbatim);

        // The monthly export, imported again: every stored row is recognised.
        var again = (await ImportAsync(options, RepoFiles.Sample("qualtrics-export.csv"), chunkSize: 4096))[^1];
        Assert.Equal((0L, 5L, 3L), (again.Stored, again.Replayed, again.Rejected));
    }

    [Fact]
    public async Task A_SurveyMonkey_export_imports_as_exported_with_its_two_header_rows_and_US_dates()
    {
        var system = $"monkey-{Guid.NewGuid():N}"[..20];
        var options = new CsvImportOptions
        {
            SourceSystem = system,
            DefaultChannel = Channel.Survey,
            Columns =
            {
                ["rating:nps"] = "How likely is it that you would recommend Hillside Coffee to a friend or colleague?",
                ["verbatim"] = "What is the main reason for your score?",
                ["rating:csat"] = "Please rate your last order: / Delivery", // a matrix row: question / label
                ["customer_id"] = "Custom Data 1",
            },
        };
        var final = (await ImportAsync(options, RepoFiles.Sample("surveymonkey-export.csv"), chunkSize: 50))[^1];

        Assert.Equal(HeaderLayout.Surveymonkey, final.HeaderLayout);
        Assert.Equal((5L, 3L, 2L), (final.RowsRead, final.Stored, final.Rejected));
        var byRow = final.Rejections.ToDictionary(r => r.Row);
        Assert.Equal([6L, 7], byRow.Keys.Order());
        Assert.Equal("End Date", byRow[6].Column);
        Assert.Contains("MM/dd/yyyy", byRow[6].Message);
        Assert.Equal("How likely is it that you would recommend Hillside Coffee to a friend or colleague?", byRow[7].Column);

        var items = await StoredAsync(system);
        Assert.Equal(["114500001", "114500002", "114500003"], items.Keys.Order());
        Assert.Equal(new DateTime(2023, 11, 28, 10, 12, 33, DateTimeKind.Utc), items["114500001"].GivenAt.ToDateTime());
        Assert.Equal(new DateTime(2024, 2, 14, 21, 5, 10, DateTimeKind.Utc), items["114500002"].GivenAt.ToDateTime());
        Assert.Equal([("csat", 1), ("nps", 2)], items["114500002"].Ratings.Select(r => (r.QuestionId, r.Value)).OrderBy(r => r.QuestionId));
    }

    [Fact]
    public async Task A_layout_that_is_not_there_a_missing_column_and_a_bad_date_format_are_refused_naming_what_was_read()
    {
        var plain = Encoding.UTF8.GetBytes("Review ID,Recommend (0-10)\r\nr-1,9\r\n");
        var options = Options("layout-check");
        options.Columns.Clear();
        options.Columns["rating:nps"] = "Recommend (0-10)";
        options.HeaderLayout = HeaderLayout.Qualtrics;
        var refused = await Assert.ThrowsAsync<RpcException>(() => ImportAsync(options, plain));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("options.header_layout", refused.Status.Detail);
        Assert.Contains("Review ID, Recommend (0-10)", refused.Status.Detail);

        options.HeaderLayout = HeaderLayout.Unspecified;
        options.Columns["verbatim"] = "Comment";
        var missing = await Assert.ThrowsAsync<RpcException>(() => ImportAsync(options, plain));
        Assert.Contains("Plain header (1 row) with columns: Review ID, Recommend (0-10)", missing.Status.Detail);

        options.Columns.Remove("verbatim");
        options.DateFormats.Add("not a format");
        options.Required.Add("contact.fax");
        var bad = await Assert.ThrowsAsync<RpcException>(() => ImportAsync(options, plain));
        Assert.Contains("options.date_formats[0]", bad.Status.Detail);
        Assert.Contains("options.required[0]", bad.Status.Detail);
    }

    [Fact]
    public async Task A_required_column_left_empty_rejects_its_row_and_day_first_dates_read_with_a_format()
    {
        var system = $"required-{Guid.NewGuid():N}"[..20];
        var file = Encoding.UTF8.GetBytes("Review ID,Recommend (0-10),Comment,Date\r\nr-1,9,Great,28/11/2024 10:12\r\nr-2,,No score,29/11/2024 08:00\r\n");
        var options = new CsvImportOptions
        {
            SourceSystem = system,
            DefaultChannel = Channel.Review,
            Columns = { ["rating:nps"] = "Recommend (0-10)", ["verbatim"] = "Comment", ["external_id"] = "Review ID", ["given_at"] = "Date" },
            Required = { "rating:nps" },
            DateFormats = { "dd/MM/yyyy HH:mm" },
        };
        var final = (await ImportAsync(options, file))[^1];
        Assert.Equal((1L, 1L), (final.Stored, final.Rejected));
        var rejection = Assert.Single(final.Rejections);
        Assert.Equal((3L, "Recommend (0-10)"), (rejection.Row, rejection.Column));
        Assert.Contains("requires it", rejection.Message);
        Assert.Equal(new DateTime(2024, 11, 28, 10, 12, 0, DateTimeKind.Utc), (await StoredAsync(system))["r-1"].GivenAt.ToDateTime());
    }

    [Fact]
    public async Task A_UTF16_export_with_a_byte_order_mark_imports_and_a_GBK_export_is_refused_saying_why()
    {
        const string csv = "Review ID,Recommend (0-10),Comment\r\nu16-1,9,送货很快，咖啡新鲜\r\n";
        var options = new CsvImportOptions
        {
            SourceSystem = $"enc-{Guid.NewGuid():N}"[..20],
            DefaultChannel = Channel.Review,
            Columns = { ["rating:nps"] = "Recommend (0-10)", ["verbatim"] = "Comment", ["external_id"] = "Review ID" },
        };
        var utf16 = (await ImportAsync(options, [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(csv)]))[^1];
        Assert.Equal((1L, 0L), (utf16.Stored, utf16.Rejected));
        Assert.Equal("送货很快，咖啡新鲜", (await StoredAsync(options.SourceSystem))["u16-1"].Verbatim);

        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var gbk = Encoding.GetEncoding("GBK").GetBytes(csv.Replace("u16-1", "gbk-1"));
        var refused = await Assert.ThrowsAsync<RpcException>(() => ImportAsync(options, gbk));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("the file is not UTF-8 text", refused.Status.Detail);
        Assert.DoesNotContain("gbk-1", (await StoredAsync(options.SourceSystem)).Keys);
    }

    [Fact]
    public async Task Every_mapped_date_column_is_checked_not_only_given_at()
    {
        const string csv = "Review ID,Recommend (0-10),Visit date\r\nd-1,9,2024-11-28\r\nd-2,8,31/11/2024\r\nd-3,7,not a date\r\nd-4,6,\r\n";
        var options = new CsvImportOptions
        {
            SourceSystem = $"dates-{Guid.NewGuid():N}"[..20],
            DefaultChannel = Channel.Review,
            Columns = { ["rating:nps"] = "Recommend (0-10)", ["external_id"] = "Review ID", ["segment:visit_date"] = "Visit date" },
            DateFields = { "segment:visit_date" },
        };
        var final = (await ImportAsync(options, Encoding.UTF8.GetBytes(csv)))[^1];
        Assert.Equal((2L, 2L), (final.Stored, final.Rejected));
        Assert.Equal([(3L, "Visit date"), (4L, "Visit date")], final.Rejections.Select(r => (r.Row, r.Column)));
        Assert.Contains("'31/11/2024' is not a date", final.Rejections[0].Message);
        Assert.Equal("2024-11-28", (await StoredAsync(options.SourceSystem))["d-1"].Links.Segment["visit_date"]);

        // A Qualtrics export marks its own times: StartDate mapped to a segment is checked without being declared.
        var qualtrics = Encoding.UTF8.GetString(RepoFiles.Sample("qualtrics-export.csv")).Replace("2024-03-04 09:58:02", "2024-02-30 09:58:02");
        var started = new CsvImportOptions
        {
            SourceSystem = $"qdates-{Guid.NewGuid():N}"[..20],
            DefaultChannel = Channel.Survey,
            Columns = { ["rating:nps"] = "QID1", ["segment:started"] = "StartDate" },
        };
        var imported = (await ImportAsync(started, Encoding.UTF8.GetBytes(qualtrics)))[^1];
        Assert.Contains(imported.Rejections, r => r.Row == 4 && r.Column == "StartDate" && r.Message.Contains("'2024-02-30 09:58:02' is not a date"));

        options.DateFields[0] = "segment:nowhere";
        await RpcAssert.InvalidArgumentAsync(() => ImportAsync(options, Encoding.UTF8.GetBytes(csv)), "options.date_fields[0]");
    }
}
