using System.Text;
using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using MiniExcelLibs;

namespace CxMesh.Feedback.Tests;

/// <summary>Stored import profiles, and exports that are not CSV: XLSX workbooks and JSON Lines.</summary>
public sealed class ImportFormatsTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private Task<List<ImportFeedbackCsvResponse>> ImportAsync(CsvImportOptions options, byte[] file, int chunkSize = 7) =>
        Imports.RunAsync(fixture.Host, options, file, chunkSize);

    private FeedbackService.FeedbackServiceClient Client(string role = Roles.App) => fixture.Host.Client<FeedbackService.FeedbackServiceClient>(role);

    private async Task<List<(string ExternalId, int? Nps, string Verbatim, DateTimeOffset GivenAt, string Plan)>> StoredAsync(string system)
    {
        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        var ids = await connection.QueryAsync<Guid>("select id from feedback_items where source_system = @system", new { system });
        var admin = Client(Roles.Admin);
        var items = new List<(string, int?, string, DateTimeOffset, string)>();
        foreach (var id in ids)
        {
            var item = (await admin.GetFeedbackAsync(new GetFeedbackRequest { Id = id.ToString() })).Item;
            items.Add((item.Source.ExternalId, item.Ratings.Where(r => r.QuestionId == "nps").Select(r => (int?)r.Value).FirstOrDefault(), item.Verbatim,
                item.GivenAt.ToDateTimeOffset(), item.Links.Segment.GetValueOrDefault("plan", "")));
        }
        return items.OrderBy(i => i.Item1, StringComparer.Ordinal).ToList();
    }

    private static CsvImportOptions QualtricsNps(string system) => new()
    {
        SourceSystem = system,
        DefaultChannel = Channel.Survey,
        HeaderLayout = HeaderLayout.Qualtrics,
        Columns = { ["rating:nps"] = "QID1", ["verbatim"] = "Q2", ["customer_id"] = "ExternalReference", ["segment:plan"] = "Q4" },
        Required = { "rating:nps" },
    };

    private static byte[] PlainExport(int rows, Func<int, string>? idOf = null)
    {
        var csv = new StringBuilder("response_id,nps,comment\r\n");
        for (var i = 1; i <= rows; i++) csv.Append(idOf?.Invoke(i) ?? $"r-{i}").Append(',').Append(i % 11).Append(",\"Cup ").Append(i).Append(", fine\"\r\n");
        return Encoding.UTF8.GetBytes(csv.ToString());
    }

    private static CsvImportOptions Plain(string system, long resumeAfter = 0) => new()
    {
        SourceSystem = system,
        DefaultChannel = Channel.Survey,
        Columns = { ["external_id"] = "response_id", ["rating:nps"] = "nps", ["verbatim"] = "comment" },
        ResumeAfterRows = resumeAfter,
    };

    [Fact]
    public async Task An_import_cut_off_mid_way_resumes_after_its_last_done_row_and_every_row_is_stored_once()
    {
        var system = $"resume-{Guid.NewGuid():N}"[..20];
        var file = PlainExport(1_300);
        // The first run got through the rows of its first two chunks before it was cut off (as its rows_read said).
        var cut = Encoding.UTF8.GetBytes(string.Join("\r\n", Encoding.UTF8.GetString(file).Split("\r\n").Take(1 + 1_000)) + "\r\n");
        var first = (await ImportAsync(Plain(system), cut, chunkSize: 64 * 1024))[^1];
        Assert.Equal((1_000L, 1_000L), (first.RowsRead, first.Stored));

        // The same command again resumes after row 1,000: those rows are passed over, the rest stored.
        var resumed = await ImportAsync(Plain(system, resumeAfter: 1_000), file, chunkSize: 64 * 1024);
        var done = resumed[^1];
        Assert.Equal((1_300L, 1_000L, 300L, 0L, 0L), (done.RowsRead, done.RowsResumed, done.Stored, done.Replayed, done.Rejected));
        Assert.All(resumed, r => Assert.True(r.RowsRead >= 1_000, "progress counts the rows resumed past"));
        // Resuming from too early a row changes nothing: the rows stored since come back as replayed.
        var early = (await ImportAsync(Plain(system, resumeAfter: 700), file, chunkSize: 64 * 1024))[^1];
        Assert.Equal((1_300L, 700L, 0L, 600L), (early.RowsRead, early.RowsResumed, early.Stored, early.Replayed));

        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        Assert.Equal((1_300L, 1_300L), await connection.QuerySingleAsync<(long, long)>(
            "select count(*), count(distinct external_id) from feedback_items where source_system = @system", new { system }));
    }

    [Fact]
    public async Task A_resumed_import_still_refuses_a_later_row_repeating_the_id_of_a_row_it_passed_over()
    {
        var system = $"resume-dup-{Guid.NewGuid():N}"[..24];
        var file = PlainExport(600, i => i == 580 ? "r-12" : $"r-{i}");
        var done = (await ImportAsync(Plain(system, resumeAfter: 500), file, chunkSize: 64 * 1024))[^1];
        Assert.Equal((500L, 99L, 1L), (done.RowsResumed, done.Stored, done.Rejected));
        var rejection = Assert.Single(done.Rejections);
        Assert.Equal((581, "response_id"), (rejection.Row, rejection.Column));
        Assert.Contains("row 13", rejection.Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(5_000_001)]
    public async Task A_resume_row_outside_the_file_limit_is_refused_naming_it(long resumeAfter)
    {
        await RpcAssert.InvalidArgumentAsync(() => ImportAsync(Plain("resume-bad", resumeAfter), PlainExport(3)), "options.resume_after_rows");
    }

    [Fact]
    public async Task A_profile_never_keeps_a_resume_row()
    {
        var name = $"resume-{Guid.NewGuid():N}"[..24];
        var put = await Client().PutImportProfileAsync(new PutImportProfileRequest { Profile = new ImportProfile { Name = name, Options = Plain("resume-profile", 40) } });
        Assert.Equal(0, put.Profile.Options.ResumeAfterRows);
    }

    [Fact]
    public async Task A_stored_profile_imports_a_monthly_export_with_one_name_and_options_given_win()
    {
        var name = $"qualtrics-{Guid.NewGuid():N}"[..30];
        var put = await Client().PutImportProfileAsync(new PutImportProfileRequest
        {
            Profile = new ImportProfile { Name = name, Description = "Monthly Qualtrics NPS export", Options = QualtricsNps("qualtrics-monthly") },
        });
        Assert.True(put.Created);
        Assert.Equal(name, put.Profile.Name);
        Assert.False(string.IsNullOrEmpty(put.Profile.UpdatedBy));

        var withProfile = (await ImportAsync(new CsvImportOptions { Profile = name }, RepoFiles.Sample("qualtrics-export.csv")))[^1];
        var spelledOut = (await ImportAsync(QualtricsNps("qualtrics-spelled"), RepoFiles.Sample("qualtrics-export.csv")))[^1];
        Assert.Equal((spelledOut.Stored, spelledOut.Rejected), (withProfile.Stored, withProfile.Rejected));
        Assert.Equal(spelledOut.Rejections.Select(r => (r.Row, r.Column, r.Message)), withProfile.Rejections.Select(r => (r.Row, r.Column, r.Message)));
        Assert.True(withProfile.Stored > 0);
        Assert.Equal(
            (await StoredAsync("qualtrics-spelled")).Select(i => (i.ExternalId, i.Nps, i.Verbatim, i.GivenAt, i.Plan)),
            (await StoredAsync("qualtrics-monthly")).Select(i => (i.ExternalId, i.Nps, i.Verbatim, i.GivenAt, i.Plan)));

        // What the call names wins over the profile: another source system, and the comment required instead of the score.
        var overridden = (await ImportAsync(new CsvImportOptions { Profile = name, SourceSystem = "qualtrics-override", Required = { "verbatim" } },
            RepoFiles.Sample("qualtrics-export.csv")))[^1];
        Assert.True(overridden.Stored > 0);
        Assert.NotEqual(withProfile.Rejections.Select(r => r.Row), overridden.Rejections.Select(r => r.Row));
        Assert.Contains(overridden.Rejections, r => r.Message.Contains("verbatim in options.required", StringComparison.Ordinal));

        Assert.Contains((await Client(Roles.Analyst).ListImportProfilesAsync(new ListImportProfilesRequest())).Profiles, p => p.Name == name);
        Assert.Equal("Monthly Qualtrics NPS export", (await Client(Roles.Analyst).GetImportProfileAsync(new GetImportProfileRequest { Name = name })).Profile.Description);
        var replaced = await Client().PutImportProfileAsync(new PutImportProfileRequest { Profile = new ImportProfile { Name = name, Options = QualtricsNps("qualtrics-monthly") } });
        Assert.False(replaced.Created);
        Assert.True((await Client(Roles.Admin).DeleteImportProfileAsync(new DeleteImportProfileRequest { Name = name })).Deleted);
        Assert.False((await Client(Roles.Admin).DeleteImportProfileAsync(new DeleteImportProfileRequest { Name = name })).Deleted);
        var gone = await RpcAssert.StatusAsync(() => ImportAsync(new CsvImportOptions { Profile = name }, RepoFiles.Sample("qualtrics-export.csv")), StatusCode.NotFound);
        Assert.Contains(name, gone.Status.Detail);
    }

    [Fact]
    public async Task A_profile_that_cannot_work_is_refused_when_stored_naming_the_field()
    {
        var unknownQuestion = QualtricsNps("x");
        unknownQuestion.Columns["rating:loyalty-index"] = "Q3";
        var bad = await RpcAssert.InvalidArgumentAsync(() => Client().PutImportProfileAsync(new PutImportProfileRequest
        {
            Profile = new ImportProfile { Name = "with-unknown-question", Options = unknownQuestion },
        }).ResponseAsync, "profile.options.columns[rating:loyalty-index]");
        Assert.Contains(bad.FieldViolations, v => v.Description.Contains("'loyalty-index' is not registered", StringComparison.Ordinal));

        var broken = new CsvImportOptions { SourceSystem = "", Columns = { ["stars"] = "Stars" }, TimeZone = "Mars/Olympus" };
        var all = await RpcAssert.InvalidArgumentAsync(() => Client().PutImportProfileAsync(new PutImportProfileRequest
        {
            Profile = new ImportProfile { Name = "broken", Options = broken },
        }).ResponseAsync, "profile.options.source_system");
        Assert.Contains(all.FieldViolations, v => v.Field == "profile.options.columns[stars]");
        Assert.Contains(all.FieldViolations, v => v.Field == "profile.options.time_zone");
        await RpcAssert.InvalidArgumentAsync(() => Client().PutImportProfileAsync(new PutImportProfileRequest
        {
            Profile = new ImportProfile { Name = "Not A Name", Options = QualtricsNps("x") },
        }).ResponseAsync, "profile.name");
        await RpcAssert.InvalidArgumentAsync(() => Client().PutImportProfileAsync(new PutImportProfileRequest()).ResponseAsync, "profile");
        await RpcAssert.StatusAsync(() => Client().GetImportProfileAsync(new GetImportProfileRequest { Name = "never-stored" }).ResponseAsync, StatusCode.NotFound);

        // The same check holds for an import without a profile, before a row is read.
        var direct = await RpcAssert.InvalidArgumentAsync(() => ImportAsync(unknownQuestion, RepoFiles.Sample("qualtrics-export.csv")), "options.columns[rating:loyalty-index]");
        Assert.Single(direct.FieldViolations);
    }

    [Fact]
    public async Task A_workbook_imports_like_a_csv_of_its_first_sheet_with_dates_and_numbers_as_cells()
    {
        var rows = new List<Dictionary<string, object?>>
        {
            new() { ["Response"] = "x-1", ["Recommend"] = 9, ["Comment"] = "Great beans, fast delivery", ["Date"] = new DateTime(2024, 3, 5, 14, 30, 0), ["Plan"] = "monthly" },
            new() { ["Response"] = "x-2", ["Recommend"] = 3, ["Comment"] = "快递太慢了，包装也破了", ["Date"] = new DateTime(2023, 12, 24), ["Plan"] = "weekly" },
            new() { ["Response"] = "x-3", ["Recommend"] = null, ["Comment"] = "Only a comment, no score", ["Date"] = "2024-06-01 09:00", ["Plan"] = "" },
            new() { ["Response"] = "x-4", ["Recommend"] = 12, ["Comment"] = "", ["Date"] = new DateTime(2024, 1, 1), ["Plan"] = "monthly" },
            new() { ["Response"] = "x-5", ["Recommend"] = 7, ["Comment"] = "", ["Date"] = "31/11/2024", ["Plan"] = "monthly" },
        };
        using var workbook = new MemoryStream();
        await workbook.SaveAsAsync(rows, excelType: ExcelType.XLSX);
        var options = new CsvImportOptions
        {
            SourceSystem = "workbook-shop",
            DefaultChannel = Channel.Survey,
            TimeZone = "Asia/Shanghai",
            Columns = { ["rating:nps"] = "Recommend", ["verbatim"] = "Comment", ["external_id"] = "Response", ["given_at"] = "Date", ["segment:plan"] = "Plan" },
        };
        var responses = await ImportAsync(options, workbook.ToArray(), chunkSize: 1000);
        var final = responses[^1];
        Assert.Equal(ImportFormat.Xlsx, final.Format);
        Assert.Equal((3L, 2L), (final.Stored, final.Rejected));
        Assert.Equal([(5L, "Recommend"), (6L, "Date")], final.Rejections.Select(r => (r.Row, r.Column)));
        Assert.Contains("outside the scale", final.Rejections[0].Message);

        var stored = await StoredAsync("workbook-shop");
        Assert.Equal(["x-1", "x-2", "x-3"], stored.Select(s => s.ExternalId));
        Assert.Equal((9, "monthly"), (stored[0].Nps, stored[0].Plan));
        Assert.Equal(new DateTimeOffset(2024, 3, 5, 14, 30, 0, TimeSpan.FromHours(8)), stored[0].GivenAt);
        Assert.Equal(new DateTimeOffset(2023, 12, 24, 0, 0, 0, TimeSpan.FromHours(8)), stored[1].GivenAt);
        Assert.Equal("快递太慢了，包装也破了", stored[1].Verbatim);
        Assert.Null(stored[2].Nps);

        // Again: nothing new.
        var again = (await ImportAsync(options, workbook.ToArray(), chunkSize: 1000))[^1];
        Assert.Equal((0L, 3L), (again.Stored, again.Replayed));
    }

    [Fact]
    public async Task A_file_that_is_not_a_readable_workbook_is_refused_saying_what_to_do()
    {
        var options = new CsvImportOptions { SourceSystem = "bad-workbooks", DefaultChannel = Channel.Survey, Columns = { ["rating:nps"] = "Recommend" } };
        // An Excel 97-2003 file starts with the OLE signature.
        var xls = await RpcAssert.InvalidArgumentAsync(() => ImportAsync(options, [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0]), "chunk");
        Assert.Contains(".xls", xls.FieldViolations[0].Description);
        // A ZIP that is not a workbook.
        var zip = await RpcAssert.InvalidArgumentAsync(() => ImportAsync(options, [0x50, 0x4B, 0x03, 0x04, .. Encoding.ASCII.GetBytes("not really a zip file at all")]), "chunk");
        Assert.Contains("not an XLSX workbook", zip.FieldViolations[0].Description);
        // Named as XLSX but CSV.
        options.Format = ImportFormat.Xlsx;
        await RpcAssert.InvalidArgumentAsync(() => ImportAsync(options, Encoding.UTF8.GetBytes("Recommend\n9\n")), "chunk");
    }

    [Fact]
    public async Task Json_lines_import_by_key_or_json_pointer_and_a_bad_line_is_named_by_its_number()
    {
        var lines = new[]
        {
            """{"id": "j-1", "answers": {"nps": 10, "comment": "Perfect roast"}, "submitted": "2024-02-01T08:00:00Z", "plan": "monthly"}""",
            """{"id": "j-2", "answers": {"nps": "ten"}, "submitted": "2024-02-02T08:00:00Z"}""",
            "",
            """not json at all""",
            """{"id": "j-3", "answers": {"nps": 4, "comment": {"text": "nested"}}, "submitted": "2024-02-03T08:00:00Z"}""",
            """{"id": "j-4", "answers": {"comment": "A comment, no score"}, "submitted": "2024-02-04T08:00:00Z", "plan": "weekly"}""",
            """[1, 2, 3]""",
        };
        var file = Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");
        var options = new CsvImportOptions
        {
            SourceSystem = "jsonl-shop",
            DefaultChannel = Channel.Web,
            Columns = { ["rating:nps"] = "/answers/nps", ["verbatim"] = "/answers/comment", ["external_id"] = "id", ["given_at"] = "submitted", ["segment:plan"] = "plan" },
        };
        var final = (await ImportAsync(options, file))[^1];
        Assert.Equal(ImportFormat.JsonLines, final.Format);
        Assert.Equal((2L, 4L), (final.Stored, final.Rejected));
        Assert.Equal([(2L, "/answers/nps"), (4L, ""), (5L, "/answers/comment"), (7L, "")], final.Rejections.Select(r => (r.Row, r.Column)));
        Assert.Contains("'ten' is not a whole number", final.Rejections[0].Message);
        Assert.Contains("not JSON", final.Rejections[1].Message);
        Assert.Contains("an object", final.Rejections[2].Message);
        Assert.Contains("not a JSON object", final.Rejections[3].Message);
        var stored = await StoredAsync("jsonl-shop");
        Assert.Equal([("j-1", (int?)10, "Perfect roast", "monthly"), ("j-4", null, "A comment, no score", "weekly")], stored.Select(s => (s.ExternalId, s.Nps, s.Verbatim, s.Plan)));

        // A mapped key no record has is refused before a row is stored, with the keys there are.
        options.Columns["customer_id"] = "/customer/id";
        options.SourceSystem = "jsonl-missing";
        var missing = await RpcAssert.InvalidArgumentAsync(() => ImportAsync(options, file), "options.columns[customer_id]");
        Assert.Contains("id, answers, submitted, plan", missing.FieldViolations[0].Description);
        Assert.Empty(await StoredAsync("jsonl-missing"));
    }
}
