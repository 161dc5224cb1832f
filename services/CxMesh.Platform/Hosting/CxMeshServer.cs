using System.CommandLine;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CxMesh.Platform.Hosting;

/// <summary>
/// <c>cxmesh-server</c>: one executable that hosts any set of services (the Loki/Mimir "target" model).
/// <code>
/// cxmesh-server [run] [--services all|feedback,scoring]   serve (default: all, in-process events)
/// cxmesh-server migrate [--services ...]                  apply migrations and exit
/// cxmesh-server dev-tokens [--signing-key k]             print development tokens of the demo's people (needs only the signing key)
/// cxmesh-server parked list|replay [--services ...]       show or re-queue parked outbox events
/// cxmesh-server dead-letters list|redeliver [--services ...]  show consumers' dead letters, or hand them to their handlers again
/// cxmesh-server backup --out DIR [--services ...]      pg_dump each service's database into DIR, with a manifest
/// cxmesh-server restore --from DIR [--services ...]    pg_restore them into empty databases; in-flight events are sent again
/// cxmesh-server resend --since TIME [--services ...]   send again what the services sent since then (consumers skip repeats)
/// cxmesh-server --help, cxmesh-server &lt;command&gt; --help  what each takes; a usage mistake exits 64, a configuration error 78
/// </code>
/// </summary>
public static class CxMeshServer
{
    public static async Task<int> RunAsync(string[] args, IReadOnlyList<ServiceModule> modules)
    {
        var root = Commands(modules);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) await Console.Error.WriteLineAsync(error.Message);
            await Console.Error.WriteLineAsync("See 'cxmesh-server --help'.");
            return 64;
        }
        try
        {
            // Failures reach the handlers below (exit 64/78 with one line), not System.CommandLine's stack-trace printer.
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 64;
        }
        catch (ConfigurationException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 78;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"Configuration error: {string.Join(" ", ex.Failures)}");
            return 78;
        }
    }

    /// <summary>
    /// The commands, with System.CommandLine: help on every level, 64 for a usage mistake. Any other <c>--Section:Key=value</c>
    /// is configuration, as for ASP.NET Core (and environment variables with <c>__</c>).
    /// </summary>
    private static RootCommand Commands(IReadOnlyList<ServiceModule> modules)
    {
        var names = string.Join(",", modules.Select(m => m.Name));
        Option<string> Services() => new("--services")
        {
            Description = $"all (default), or a comma-separated list of: {names}",
            DefaultValueFactory = _ => "",
        };
        string[] ConfigArgs(ParseResult result, Option<string> services)
        {
            var given = result.GetValue(services);
            return [.. string.IsNullOrEmpty(given) ? [] : new[] { $"--CxMesh:Services={given}" }, .. ConfigurationTokens(result.UnmatchedTokens)];
        }
        Command Configurable(Command command)
        {
            command.TreatUnmatchedTokensAsErrors = false;
            return command;
        }

        var runServices = Services();
        var run = Configurable(new Command("run", "Serve the selected services (the default command); events in-process when all are hosted, through Dapr otherwise") { runServices });
        Task<int> RunServer(ParseResult result) => ServeAsync(ConfigArgs(result, runServices), modules);
        run.SetAction((result, _) => RunServer(result));

        var migrateServices = Services();
        var migrate = Configurable(new Command("migrate", "Apply the selected services' database migrations and exit (waits up to CxMesh:MigrateWaitSeconds for Postgres)") { migrateServices });
        migrate.SetAction((result, _) => MigrateAsync(Build(ConfigArgs(result, migrateServices), modules)));

        var signingKey = new Option<string?>("--signing-key") { Description = "The development HMAC key (default: Auth:SigningKey from configuration or Auth__SigningKey)" };
        var devTokens = Configurable(new Command("dev-tokens", "Print development tokens of the demo's people; needs only the signing key") { signingKey });
        devTokens.SetAction((result, _) => Task.FromResult(PrintDevelopmentTokens(result.GetValue(signingKey), [.. ConfigurationTokens(result.UnmatchedTokens)])));

        var parkedServices = Services();
        var parkedList = Configurable(new Command("list", "Show parked outbox events (service, parked at, topic, event id, attempts, last error)") { parkedServices });
        parkedList.SetAction((result, _) => ParkedAsync(Build(ConfigArgs(result, parkedServices), modules), "list"));
        var replayServices = Services();
        var parkedReplay = Configurable(new Command("replay", "Re-queue every parked outbox event (once the broker or sidecar is healthy)") { replayServices });
        parkedReplay.SetAction((result, _) => ParkedAsync(Build(ConfigArgs(result, replayServices), modules), "replay"));
        var parked = new Command("parked", "Outbox events given up on after Messaging:MaxAttempts failed publishes") { parkedList, parkedReplay };

        var lettersServices = Services();
        var lettersList = Configurable(new Command("list", "Show the consumers' dead letters") { lettersServices });
        lettersList.SetAction((result, _) => DeadLettersAsync(Build(ConfigArgs(result, lettersServices), modules), "list"));
        var redeliverServices = Services();
        var lettersRedeliver = Configurable(new Command("redeliver", "Hand the dead letters to their handlers again; exits 1 while any still fail") { redeliverServices });
        lettersRedeliver.SetAction((result, _) => DeadLettersAsync(Build(ConfigArgs(result, redeliverServices), modules), "redeliver"));
        var deadLetters = new Command("dead-letters", "Events a consumer could not use") { lettersList, lettersRedeliver };

        var backupServices = Services();
        var backupOut = new Option<DirectoryInfo>("--out") { Description = "A new or empty folder for the dumps and their manifest", Required = true };
        var backup = Configurable(new Command("backup", "Dump each selected service's database with pg_dump (Backup:PgDump) into a folder, with a manifest of checksums") { backupServices, backupOut });
        backup.SetAction((result, ct) => BackupAsync(Build(ConfigArgs(result, backupServices), modules), result.GetValue(backupOut)!, restore: false, ct));
        var restoreServices = Services();
        var restoreFrom = new Option<DirectoryInfo>("--from") { Description = "A folder written by 'cxmesh-server backup'", Required = true };
        var restore = Configurable(new Command("restore",
            "Restore each selected service's database from a backup into its empty database (ConnectionStrings:<service>) with pg_restore (Backup:PgRestore); events sent since the backup began are sent again, and consumers skip those they had")
        {
            restoreServices, restoreFrom,
        });
        restore.SetAction((result, ct) => BackupAsync(Build(ConfigArgs(result, restoreServices), modules), result.GetValue(restoreFrom)!, restore: true, ct));
        var resendServices = Services();
        var resendSince = new Option<DateTimeOffset>("--since") { Description = "When, as ISO 8601 (e.g. 2026-12-01T06:00:00Z): events sent from then on are sent again", Required = true };
        var resend = Configurable(new Command("resend",
            "Send again the events the selected services sent since a time (kept Messaging:SentRetention): after restoring one service to an earlier point, its producers resend what it consumed since; consumers skip what they had")
        {
            resendServices, resendSince,
        });
        resend.SetAction((result, ct) => ResendAsync(Build(ConfigArgs(result, resendServices), modules), result.GetValue(resendSince), ct));

        var rootServices = Services();
        var root = new RootCommand("cxmesh-server: hosts any set of CxMesh services in one executable (the Loki/Mimir target model)")
        {
            rootServices, run, migrate, devTokens, parked, deadLetters, backup, restore, resend,
        };
        root.TreatUnmatchedTokensAsErrors = false;
        root.SetAction((result, _) => ServeAsync(ConfigArgs(result, rootServices), modules));
        return root;
    }

    /// <summary>Tokens no command knows must be configuration (--Section:Key=value, or --Section:Key value); anything else is a usage mistake.</summary>
    private static IReadOnlyList<string> ConfigurationTokens(IReadOnlyList<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (!token.StartsWith("--", StringComparison.Ordinal) || !token.Contains(':', StringComparison.Ordinal))
            {
                throw new UsageException($"Unknown command or option '{token}'. Configuration is given as --Section:Key=value. See 'cxmesh-server --help'.");
            }
            if (!token.Contains('=', StringComparison.Ordinal)) i++; // its value follows
        }
        return tokens;
    }

    private static async Task<int> ServeAsync(string[] args, IReadOnlyList<ServiceModule> modules)
    {
        var app = Build(args, modules);
        RequireEventRoutesProtected(app);
        await app.RunAsync();
        return 0;
    }

    /// <summary>
    /// Builds the application for the selected services. <paramref name="configure"/> runs first (tests swap the
    /// server and settings there); <paramref name="afterModules"/> runs once every module is added (tests replace services there).
    /// </summary>
    public static WebApplication Build(string[] args, IReadOnlyList<ServiceModule> modules,
        Action<WebApplicationBuilder>? configure = null, Action<WebApplicationBuilder>? afterModules = null)
    {
        // Numbers and dates in messages, logs and files never depend on the host's locale.
        System.Globalization.CultureInfo.DefaultThreadCurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
        System.Globalization.CultureInfo.DefaultThreadCurrentUICulture = System.Globalization.CultureInfo.InvariantCulture;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = TranslateArgs(args) });
        configure?.Invoke(builder);

        var options = builder.Configuration.GetSection(CxMeshOptions.Section).Get<CxMeshOptions>() ?? new CxMeshOptions();
        var selected = Select(options.Services, modules);
        var allInOne = selected.Count == modules.Count;
        var hosted = new HostedServices(selected.Select(m => m.Name).ToList(), allInOne,
            options.Delivery ?? (allInOne ? EventDelivery.InProcess : EventDelivery.Dapr));

        options.AppApiToken ??= builder.Configuration["APP_API_TOKEN"];
        builder.AddCxMeshPlatform(options, hosted);
        foreach (var module in selected) module.Add(builder);
        afterModules?.Invoke(builder);

        var app = builder.Build();
        app.UseCxMeshPlatform(hosted);
        foreach (var module in selected) module.Map(app);
        return app;
    }

    /// <summary>Serving events through Dapr without the sidecar's app API token would let anyone in the cluster post them.</summary>
    private static void RequireEventRoutesProtected(WebApplication app)
    {
        if (app.Services.GetRequiredService<HostedServices>().Delivery == EventDelivery.Dapr
            && string.IsNullOrWhiteSpace(app.Configuration["CxMesh:AppApiToken"] ?? app.Configuration["APP_API_TOKEN"]))
        {
            throw new ConfigurationException("CxMesh:AppApiToken",
                "is required when events are delivered by Dapr: set it (or APP_API_TOKEN) to the sidecar's app API token, so that only the sidecar can post events.");
        }
    }

    private static IReadOnlyList<ServiceModule> Select(string services, IReadOnlyList<ServiceModule> modules)
    {
        if (string.IsNullOrWhiteSpace(services) || services.Trim() == "all") return modules;
        var names = services.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = names.Where(n => modules.All(m => m.Name != n)).ToList();
        if (unknown.Count > 0)
        {
            throw new ConfigurationException("CxMesh:Services",
                $"names unknown services: {string.Join(", ", unknown)}. Known: all, {string.Join(", ", modules.Select(m => m.Name))}.");
        }
        return modules.Where(m => names.Contains(m.Name)).ToList();
    }

    // "--services x" is the documented flag; configuration knows it as CxMesh:Services.
    private static string[] TranslateArgs(string[] args)
    {
        var result = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--services" && i + 1 < args.Length)
            {
                result.Add($"--CxMesh:Services={args[++i]}");
            }
            else if (args[i].StartsWith("--services=", StringComparison.Ordinal))
            {
                result.Add("--CxMesh:Services=" + args[i]["--services=".Length..]);
            }
            else
            {
                result.Add(args[i]);
            }
        }
        return [.. result];
    }

    public static async Task MigrateAllAsync(IServiceProvider services, CancellationToken ct = default)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("CxMesh.Migrations");
        foreach (var registration in services.GetServices<ServiceDatabaseRegistration>())
        {
            await Migrator.MigrateAsync(services.GetRequiredKeyedService<ServiceDatabase>(registration.Service), logger, ct);
        }
    }

    /// <summary>
    /// Waits for Postgres while it is unreachable (a database starting next to the migration Job), for up to
    /// CxMesh:MigrateWaitSeconds, then migrates; any other failure ends the command at once.
    /// </summary>
    private static async Task<int> MigrateAsync(WebApplication app)
    {
        var wait = TimeSpan.FromSeconds(app.Configuration.GetValue("CxMesh:MigrateWaitSeconds", 300));
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CxMesh.Migrations");
        var deadline = DateTime.UtcNow + wait;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await MigrateAllAsync(app.Services);
                break;
            }
            catch (Exception ex) when (Errors.TransientFailures.IsTransient(ex) && DateTime.UtcNow < deadline)
            {
                logger.LogWarning("Postgres is not reachable yet ({Message}); attempt {Attempt}, retrying in 5 s", ex.Message, attempt);
                await Task.Delay(TimeSpan.FromSeconds(5));
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Migration failed");
                Console.Error.WriteLine($"Migration failed: {ex.Message}");
                return 1;
            }
        }
        Console.WriteLine($"Migrated: {string.Join(", ", app.Services.GetRequiredService<HostedServices>().Names)}");
        return 0;
    }

    /// <summary>
    /// The demo people's tokens, signed with the development key: from --signing-key, else Auth:SigningKey in
    /// appsettings, the environment (Auth__SigningKey) or a --Auth:SigningKey=... argument. Nothing else is read.
    /// </summary>
    private static int PrintDevelopmentTokens(string? signingKey, string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "Production"}.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        var auth = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        if (!string.IsNullOrEmpty(signingKey)) auth.SigningKey = signingKey;
        if (string.IsNullOrWhiteSpace(auth.SigningKey))
        {
            throw new ConfigurationException("Auth:SigningKey", "is required to sign development tokens: give --signing-key, or set Auth__SigningKey.");
        }
        if (auth.SigningKeyBytes.Length < 32) throw new ConfigurationException("Auth:SigningKey", "must be at least 32 bytes long (HMAC-SHA256).");
        foreach (var (name, role, subject, partnerId) in DevelopmentTokens.People)
        {
            var token = DevelopmentTokens.Create(auth, role, subject, partnerId: partnerId);
            Console.WriteLine($"{name,-14} {token}");
        }
        return 0;
    }

    private static async Task<int> BackupAsync(WebApplication app, DirectoryInfo folder, bool restore, CancellationToken ct)
    {
        var databases = app.Services.GetServices<ServiceDatabaseRegistration>().Select(r => app.Services.GetRequiredKeyedService<ServiceDatabase>(r.Service)).ToList();
        try
        {
            if (restore)
            {
                var margin = app.Configuration.GetValue("Backup:ClockMargin", TimeSpan.FromMinutes(5));
                var resent = await Backups.RestoreAsync(databases, folder.FullName, app.Configuration["Backup:PgRestore"] ?? "pg_restore", margin, Console.Out, ct);
                Console.WriteLine($"Restored {resent.Count} databases from {folder.FullName}; start cxmesh-server on them: their outboxes send what was in flight.");
                return 0;
            }
            var manifest = await Backups.BackupAsync(databases, folder.FullName, app.Configuration["Backup:PgDump"] ?? "pg_dump", Console.Out, ct);
            Console.WriteLine($"Backed up {manifest.Databases.Count} databases into {folder.FullName} (begun {manifest.StartedAt:u}). Restore with: cxmesh-server restore --from {folder.FullName}");
            return 0;
        }
        catch (BackupException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return ex.ExitCode;
        }
        catch (Exception ex) when (Errors.TransientFailures.IsTransient(ex) || ex is Npgsql.NpgsqlException)
        {
            await Console.Error.WriteLineAsync($"Postgres could not be reached or refused: {ex.Message}");
            return 69;
        }
    }

    private static async Task<int> ResendAsync(WebApplication app, DateTimeOffset since, CancellationToken ct)
    {
        if (since > DateTimeOffset.UtcNow) throw new UsageException($"--since {since:u} is in the future.");
        foreach (var registration in app.Services.GetServices<ServiceDatabaseRegistration>())
        {
            var database = app.Services.GetRequiredKeyedService<ServiceDatabase>(registration.Service);
            Console.WriteLine($"{registration.Service}: {await Backups.ResendAsync(database, since, ct):N0} events sent since {since:u} will be sent again");
        }
        return 0;
    }

    private static async Task<int> ParkedAsync(WebApplication app, string action)
    {
        foreach (var registration in app.Services.GetServices<ServiceDatabaseRegistration>())
        {
            var database = app.Services.GetRequiredKeyedService<ServiceDatabase>(registration.Service);
            if (action == "replay")
            {
                Console.WriteLine($"{registration.Service}: {await ParkedEvents.ReplayAsync(database.DataSource, CancellationToken.None)} parked events re-queued");
                continue;
            }
            foreach (var parked in await ParkedEvents.ListAsync(database.DataSource, CancellationToken.None))
            {
                Console.WriteLine($"{registration.Service}\t{parked.ParkedAt:O}\t{parked.Topic}\t{parked.EventId}\t{parked.Attempts}\t{parked.LastError}");
            }
        }
        return 0;
    }

    private static async Task<int> DeadLettersAsync(WebApplication app, string action)
    {
        var failing = 0;
        foreach (var registration in app.Services.GetServices<ServiceDatabaseRegistration>())
        {
            var database = app.Services.GetRequiredKeyedService<ServiceDatabase>(registration.Service);
            if (action == "redeliver")
            {
                var subscriptions = app.Services.GetServices<EventSubscription>().Where(s => s.Service == registration.Service);
                var result = await DeadLetters.RedeliverAsync(database.DataSource, subscriptions, app.Services.GetRequiredService<EventDispatcher>(), CancellationToken.None);
                Console.WriteLine($"{registration.Service}: {result.Applied} applied, {result.AlreadyApplied} applied before, {result.StillFailing} still failing");
                foreach (var failure in result.Failures) Console.WriteLine($"  {failure}");
                failing += result.StillFailing;
                continue;
            }
            foreach (var letter in await DeadLetters.ListAsync(database.DataSource, CancellationToken.None))
            {
                Console.WriteLine($"{registration.Service}\t{letter.ReceivedAt:O}\t{letter.Topic}\t{letter.EventId}\t{letter.Handler}\t{letter.Error}");
            }
        }
        return failing == 0 ? 0 : 1;
    }
}

/// <summary>A mistake in how cxmesh-server was called (exit 64).</summary>
internal sealed class UsageException(string message) : Exception(message);
