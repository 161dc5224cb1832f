using CxMesh.Host;
using CxMesh.Platform.Hosting;
using CxMesh.TestKit;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CxMesh.Platform.Tests;

/// <summary>A missing or malformed setting stops the process at start-up with a message naming the key.</summary>
public sealed class ConfigurationTests
{
    private static Dictionary<string, string?> ValidSettings() => new()
    {
        ["ConnectionStrings:feedback"] = "Host=127.0.0.1;Port=1;Database=f;Username=u",
        ["ConnectionStrings:scoring"] = "Host=127.0.0.1;Port=1;Database=s;Username=u",
        ["ConnectionStrings:journey"] = "Host=127.0.0.1;Port=1;Database=j;Username=u",
        ["ConnectionStrings:partner"] = "Host=127.0.0.1;Port=1;Database=p;Username=u",
        ["ConnectionStrings:governance"] = "Host=127.0.0.1;Port=1;Database=g;Username=u",
        ["ConnectionStrings:notifications"] = "Host=127.0.0.1;Port=1;Database=n;Username=u",
        ["ConnectionStrings:redis"] = "127.0.0.1:1",
        ["Auth:SigningKey"] = CxMeshTestHost.SigningKey,
        ["Feedback:ActiveContactKey"] = "k1",
        ["Feedback:ContactKeys:k1"] = CxMeshTestHost.ContactKey,
        ["Partner:ActiveSecretKey"] = "w1",
        ["Partner:SecretKeys:w1"] = CxMeshTestHost.ContactKey,
        ["CxMesh:MigrateOnStart"] = "false",
        ["Messaging:RelayEnabled"] = "false",
        ["Journey:ProjectorEnabled"] = "false",
        ["Logging:LogLevel:Default"] = "None",
    };

    private static async Task<Exception> StartFailureAsync(Action<Dictionary<string, string?>> change)
    {
        var settings = ValidSettings();
        change(settings);
        var ex = await Record.ExceptionAsync(async () =>
        {
            await using var app = CxMeshServer.Build([], Modules.All, b =>
            {
                b.WebHost.UseTestServer();
                b.Configuration.AddInMemoryCollection(settings);
            });
            await app.StartAsync();
            await app.StopAsync();
        });
        Assert.NotNull(ex);
        return ex;
    }

    [Theory]
    [InlineData("ConnectionStrings:feedback", null)]
    [InlineData("ConnectionStrings:feedback", "this is not a connection string")]
    [InlineData("ConnectionStrings:scoring", "Port=5432;Database=x")]
    [InlineData("ConnectionStrings:redis", null)]
    [InlineData("ConnectionStrings:redis", "127.0.0.1:notaport")]
    [InlineData("Auth:SigningKey", null)]
    [InlineData("Auth:SigningKey", "too-short")]
    [InlineData("Feedback:ActiveContactKey", null)]
    [InlineData("Feedback:ContactKeys:k1", "dG9vLXNob3J0")]
    [InlineData("Partner:ActiveSecretKey", null)]
    [InlineData("Partner:SecretKeys:w1", "not base64!")]
    [InlineData("CxMesh:Services", "feedback,billing")]
    [InlineData("CxMesh:GrpcPort", "70000")]
    [InlineData("CxMesh:BindAddress", "localhost:80")]
    [InlineData("Journey:ProjectorBatchSize", "0")]
    [InlineData("Scoring:DropAlertAlpha", "2")]
    [InlineData("Scoring:RetentionDays", "7")]
    [InlineData("Feedback:DuplicateWindow", "-1.00:00:00")]
    [InlineData("Feedback:IdempotencyKeyRetention", "01:00:00")]
    [InlineData("Partner:Schedule:Interval", "00:00:00")]
    [InlineData("Partner:Webhooks:PollInterval", "00:00:00")]
    [InlineData("Governance:DefaultSla", "00:00:00")]
    [InlineData("Notifications:ConsoleUrl", "not a url")]
    [InlineData("Notifications:Smtp:Security", "maybe")]
    [InlineData("Notifications:Smtp:From", "not-an-address")]
    [InlineData("Notifications:WebhookAllowList:0", "has space")]
    [InlineData("Messaging:MaxAttempts", "0")]
    [InlineData("Redis:KeyPrefix", "has spaces and : colons")]
    public async Task A_bad_setting_fails_start_up_with_a_message_naming_its_key(string key, string? value)
    {
        var ex = await StartFailureAsync(s => s[key] = value);
        Assert.True(ex is ConfigurationException or OptionsValidationException, ex.ToString());
        Assert.Contains(key, ex.Message);
    }

    [Fact]
    public async Task A_good_configuration_starts_even_when_Redis_is_unreachable()
    {
        var settings = ValidSettings();
        settings["ConnectionStrings:redis"] = $"127.0.0.1:{Ports.Free()}";
        await using var app = CxMeshServer.Build([], Modules.All, b =>
        {
            b.WebHost.UseTestServer();
            b.Configuration.AddInMemoryCollection(settings);
        });
        await app.StartAsync();
        await app.StopAsync();
    }

    [Fact]
    public async Task The_migrate_command_applies_every_hosted_service_schema_and_exits()
    {
        var feedback = await TestServers.Postgres.CreateEmptyDatabaseAsync();
        var scoring = await TestServers.Postgres.CreateEmptyDatabaseAsync();
        string[] args =
        [
            "migrate", "--services", "feedback,scoring",
            $"--ConnectionStrings:feedback={feedback}", $"--ConnectionStrings:scoring={scoring}",
            $"--ConnectionStrings:redis={TestServers.Redis.Endpoint}", $"--Auth:SigningKey={CxMeshTestHost.SigningKey}",
            "--Feedback:ActiveContactKey=k1", $"--Feedback:ContactKeys:k1={CxMeshTestHost.ContactKey}",
            "--Logging:LogLevel:Default=Warning",
        ];
        Assert.Equal(0, await CxMeshServer.RunAsync(args, Modules.All));
        // Twice is fine: nothing left to apply.
        Assert.Equal(0, await CxMeshServer.RunAsync(args, Modules.All));

        await using var connection = new NpgsqlConnection(scoring);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from information_schema.tables where table_name in ('outbox', 'inbox', 'dead_letters', 'rating_daily', 'scope_versions')", connection);
        Assert.Equal(5L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task An_unknown_command_exits_with_a_usage_error()
    {
        Assert.Equal(64, await CxMeshServer.RunAsync(["frobnicate"], Modules.All));
        Assert.Equal(64, await CxMeshServer.RunAsync(["run", "--frobnicate"], Modules.All));
    }

    [Fact]
    public async Task Help_is_printed_not_served_and_dev_tokens_need_only_the_signing_key()
    {
        var (exit, output) = await ConsoleOf(() => CxMeshServer.RunAsync(["--help"], Modules.All));
        Assert.Equal(0, exit);
        Assert.Contains("dev-tokens", output);
        Assert.Contains("dead-letters", output);
        (exit, output) = await ConsoleOf(() => CxMeshServer.RunAsync(["parked", "--help"], Modules.All));
        Assert.Equal(0, exit);
        Assert.Contains("replay", output);

        // No database, no Redis, no other configuration: only the key.
        (exit, output) = await ConsoleOf(() => CxMeshServer.RunAsync(["dev-tokens", "--signing-key", CxMeshTestHost.SigningKey], Modules.All));
        Assert.Equal(0, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Platform.Auth.DevelopmentTokens.People.Count, lines.Length);
        Assert.StartsWith("admin ", lines[0]);
        (exit, output) = await ConsoleOf(() => CxMeshServer.RunAsync(["dev-tokens", "--Auth:SigningKey=too-short"], Modules.All));
        Assert.Equal(78, exit);
        Assert.Contains("Auth:SigningKey", output);
    }

    private static readonly SemaphoreSlim ConsoleLock = new(1);

    /// <summary>Runs <paramref name="run"/> with the console's output and error captured (one at a time: the console is process-wide).</summary>
    private static async Task<(int Exit, string Output)> ConsoleOf(Func<Task<int>> run)
    {
        await ConsoleLock.WaitAsync();
        var (previousOut, previousError) = (Console.Out, Console.Error);
        var captured = new StringWriter();
        Console.SetOut(captured);
        Console.SetError(captured);
        try
        {
            return (await run(), captured.ToString());
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousError);
            ConsoleLock.Release();
        }
    }
}
