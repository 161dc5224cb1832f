using CxMesh.TestKit;

namespace CxMesh.EndToEnd.Tests;

public sealed class CrashAndOutageTests
{
    [Fact]
    public async Task An_event_acknowledged_before_the_host_died_is_delivered_and_counted_once_after_restart()
    {
        Dictionary<string, string> databases;
        string prefix;
        // First life: the submit is acknowledged, but the relay never runs (the process dies first).
        await using (var first = await CxMeshTestHost.StartAsync(s => s.Settings["Messaging:RelayEnabled"] = "false"))
        {
            var app = new Scenario(first);
            var ack = await app.Feedback.SubmitFeedbackAsync(Scenario.Nps(2, journey: "crash"));
            Assert.False(string.IsNullOrEmpty(ack.Item.Id));
            // Nothing relays: the event waits in feedback's outbox and scoring has applied nothing.
            Assert.Equal(1, await CountAsync(first.Settings.Databases["feedback"], "select count(*) from outbox where sent_at is null and topic = 'feedback.received.v1'"));
            Assert.Equal(0, await CountAsync(first.Settings.Databases["scoring"], "select count(*) from inbox"));
            Assert.Equal(0, (await app.ScoreAsync("crash")).N);
            databases = new Dictionary<string, string>(first.Settings.Databases);
            prefix = first.Settings.RedisKeyPrefix;
        }

        // Second life on the same databases: the outbox still holds the event.
        await using var second = await CxMeshTestHost.StartAsync(s =>
        {
            foreach (var (k, v) in databases) s.Databases[k] = v;
            s.RedisKeyPrefix = prefix;
        });
        var restarted = new Scenario(second);
        var score = await restarted.ScoreWithNAsync(1, "crash");
        Assert.Equal(1, score.Detractors);
        await second.DrainAsync();
        Assert.Equal(1, (await restarted.ScoreAsync("crash")).N);
    }

    private static async Task<long> CountAsync(string connectionString, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task GetScore_still_answers_from_Postgres_when_Redis_is_down()
    {
        var redis = TestServers.Redis.Endpoint.Split(':');
        await using var proxy = new TcpFaultProxy(redis[0], int.Parse(redis[1]));
        await using var host = await CxMeshTestHost.StartAsync(s => s.Redis = $"127.0.0.1:{proxy.Port}");
        var app = new Scenario(host);

        await app.Feedback.SubmitFeedbackAsync(Scenario.Nps(10, journey: "cache"));
        await app.ScoreWithNAsync(1, "cache");
        Assert.Equal("cache", (await app.ScoreAsync("cache")).Source);

        proxy.GoDown();
        var whileDown = await app.ScoreAsync("cache");
        Assert.Equal(1, whileDown.N);
        Assert.Equal("store", whileDown.Source);
        // A dashboard's batch too: every hot read a miss, each answered from Postgres.
        var batch = (await app.Scoring.BatchGetScoresAsync(new CxMesh.Scoring.V1.BatchGetScoresRequest { Queries = { Scenario.NpsOf("cache"), Scenario.NpsOf(null) } })).Scores;
        Assert.All(batch, s => Assert.Equal("store", s.Source));
        Assert.Equal(1, batch[0].N);

        // Writes keep working too; the score follows from Postgres.
        await app.Feedback.SubmitFeedbackAsync(Scenario.Nps(0, journey: "cache"));
        var updated = await app.ScoreWithNAsync(2, "cache");
        Assert.Equal(0, updated.Value, 9);

        proxy.ComeBack();
        await Eventually.Until(() => app.ScoreAsync("cache"), s => s.Source == "cache" && s.N == 2, because: "Redis serves again once back");
    }
}
