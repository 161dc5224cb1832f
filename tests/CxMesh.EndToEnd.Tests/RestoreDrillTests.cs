using CxMesh.TestKit;
using Npgsql;

namespace CxMesh.EndToEnd.Tests;

/// <summary>
/// The restore drill, by the commands an operator runs: <c>cxmesh-server backup</c> of every service's database while
/// events are in flight, <c>cxmesh-server restore</c> into an empty set of databases, and the services started on them
/// resume: what waited in an outbox is delivered, what was delivered before is sent again and skipped by its consumer's
/// inbox, so every acknowledged item counts exactly once.
/// </summary>
public sealed class RestoreDrillTests
{
    private static readonly string ServerDll = RepoFiles.Built("CxMesh.Host", "cxmesh-server.dll");

    [Fact]
    public async Task A_backup_restored_into_empty_databases_resumes_without_losing_or_repeating_an_event()
    {
        Dictionary<string, string> databases;
        // First life: three items relayed and applied by every consumer.
        await using (var first = await CxMeshTestHost.StartAsync())
        {
            var app = new Scenario(first);
            foreach (var rating in new[] { 10, 9, 3 }) await app.Feedback.SubmitFeedbackAsync(Scenario.Nps(rating, journey: "drill"));
            await app.ScoreWithNAsync(3, "drill");
            await first.DrainAsync();
            databases = new Dictionary<string, string>(first.Settings.Databases);
        }
        // Second life: two more acknowledged while nothing relays; they wait in feedback's outbox when the backup is taken.
        await using (var second = await CxMeshTestHost.StartAsync(s =>
        {
            foreach (var (k, v) in databases) s.Databases[k] = v;
            s.Settings["Messaging:RelayEnabled"] = "false";
        }))
        {
            var app = new Scenario(second);
            foreach (var rating in new[] { 0, 10 }) await app.Feedback.SubmitFeedbackAsync(Scenario.Nps(rating, journey: "drill"));
        }
        Assert.Equal(2, await CountAsync(databases["feedback"], "select count(*) from outbox where sent_at is null and topic = 'feedback.received.v1'"));

        var folder = Path.Combine(Path.GetTempPath(), $"cxmesh-backup-{Guid.NewGuid():N}");
        try
        {
            var (exit, output) = await ServerAsync(databases, "backup", "--out", folder);
            Assert.True(exit == 0, output);
            Assert.Contains("feedback: feedback.dump", output);
            Assert.True(File.Exists(Path.Combine(folder, "cxmesh-backup.json")));

            // A second backup into the same folder is refused; so is a restore over databases that hold data.
            (exit, output) = await ServerAsync(databases, "backup", "--out", folder);
            Assert.Equal((73, true), (exit, output.Contains("is not empty", StringComparison.Ordinal)));
            (exit, output) = await ServerAsync(databases, "restore", "--from", folder);
            Assert.Equal((73, true), (exit, output.Contains("a restore goes into an empty database", StringComparison.Ordinal)));

            // An empty cluster: new databases without a table.
            var restored = new Dictionary<string, string>();
            foreach (var service in databases.Keys) restored[service] = await TestServers.Postgres.CreateEmptyDatabaseAsync();
            (exit, output) = await ServerAsync(restored, "restore", "--from", folder);
            Assert.True(exit == 0, output);
            // The three relayed before the backup began are sent again (within the clock margin): their consumers skip them.
            Assert.Matches(@"feedback: restored from feedback.dump \(backup begun [^)]+\); 3 events sent since", output);

            // Third life on the restored databases, with nothing in Redis: the two in flight arrive, none counts twice.
            await using var third = await CxMeshTestHost.StartAsync(s =>
            {
                foreach (var (k, v) in restored) s.Databases[k] = v;
            });
            var resumed = new Scenario(third);
            await resumed.ScoreWithNAsync(5, "drill");
            await third.DrainAsync();
            var score = await resumed.ScoreAsync("drill");
            Assert.Equal((5L, 3L, 2L), (score.N, score.Promoters, score.Detractors));
            Assert.Equal(0, await CountAsync(restored["feedback"], "select count(*) from outbox where sent_at is null"));
            Assert.Equal(5, await CountAsync(restored["scoring"], "select count(distinct event_id) from inbox where topic = 'feedback.received.v1'"));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task One_service_restored_to_an_earlier_point_gets_what_it_missed_when_its_producers_resend()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"cxmesh-backup-{Guid.NewGuid():N}");
        try
        {
            Dictionary<string, string> databases;
            string backupBegan;
            await using (var first = await CxMeshTestHost.StartAsync())
            {
                databases = new Dictionary<string, string>(first.Settings.Databases);
                // Scoring is backed up before any feedback; then two items are applied by it.
                var (exit, output) = await ServerAsync(databases, "backup", "--services", "scoring", "--out", folder);
                Assert.True(exit == 0, output);
                backupBegan = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "cxmesh-backup.json"))).RootElement.GetProperty("startedAt").GetString()!;
                var app = new Scenario(first);
                foreach (var rating in new[] { 10, 2 }) await app.Feedback.SubmitFeedbackAsync(Scenario.Nps(rating, journey: "earlier"));
                await app.ScoreWithNAsync(2, "earlier");
                await first.DrainAsync();
            }

            // Scoring's database is lost; its backup goes into a new one. It now lacks the two items...
            databases["scoring"] = await TestServers.Postgres.CreateEmptyDatabaseAsync();
            var (code, said) = await ServerAsync(databases, "restore", "--services", "scoring", "--from", folder);
            Assert.True(code == 0, said);
            // ... which its producer sends again from the time the backup began.
            (code, said) = await ServerAsync(databases, "resend", "--services", "feedback", "--since", backupBegan);
            Assert.True(code == 0, said);
            Assert.Matches(@"feedback: [1-9]\d* events sent since", said);
            (code, said) = await ServerAsync(databases, "resend", "--since", "tomorrow");
            Assert.Equal(64, code);

            await using var second = await CxMeshTestHost.StartAsync(s =>
            {
                foreach (var (k, v) in databases) s.Databases[k] = v;
            });
            var resumed = new Scenario(second);
            await resumed.ScoreWithNAsync(2, "earlier");
            await second.DrainAsync();
            // Journey, partner and governance had them already: their inboxes skip the resent events.
            Assert.Equal(2, (await resumed.ScoreAsync("earlier")).N);
            Assert.Equal(2, await CountAsync(databases["scoring"], "select count(distinct event_id) from inbox where topic = 'feedback.received.v1'"));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_folder_that_is_not_a_backup_and_a_missing_pg_dump_are_named()
    {
        var databases = new Dictionary<string, string> { ["feedback"] = await TestServers.Postgres.CreateEmptyDatabaseAsync() };
        var folder = Directory.CreateTempSubdirectory("cxmesh-not-a-backup").FullName;
        try
        {
            var (exit, output) = await ServerAsync(databases, "restore", "--services", "feedback", "--from", folder);
            Assert.Equal((66, true), (exit, output.Contains("holds no cxmesh-backup.json", StringComparison.Ordinal)));
            (exit, output) = await ServerAsync(databases, "backup", "--services", "feedback", "--out", Path.Combine(folder, "new"), "--Backup:PgDump=/nonexistent/pg_dump");
            Assert.Equal((69, true), (exit, output.Contains("install the PostgreSQL client tools", StringComparison.Ordinal)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Task<(int Exit, string Output)> ServerAsync(IReadOnlyDictionary<string, string> databases, params string[] args)
    {
        var environment = databases.ToDictionary(d => $"ConnectionStrings__{d.Key}", d => d.Value);
        environment["ConnectionStrings__redis"] = TestServers.Redis.Endpoint;
        environment["Auth__SigningKey"] = CxMeshTestHost.SigningKey;
        environment["Logging__LogLevel__Default"] = "Warning";
        return RepoFiles.RunAsync(ServerDll, args, environment, TimeSpan.FromMinutes(3));
    }

    private static async Task<long> CountAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
