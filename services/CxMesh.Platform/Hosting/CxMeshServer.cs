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
/// cxmesh-server dev-tokens                                print development tokens of the demo's people (two admins, analyst, journey-owner, app, partner)
/// cxmesh-server parked list|replay [--services ...]       show or re-queue parked outbox events
/// cxmesh-server dead-letters list|redeliver [--services ...]  show consumers' dead letters, or hand them to their handlers again
/// </code>
/// </summary>
public static class CxMeshServer
{
    public static async Task<int> RunAsync(string[] args, IReadOnlyList<ServiceModule> modules)
    {
        var command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "run";
        var rest = command == "run" && (args.Length == 0 || args[0].StartsWith('-')) ? args : args[1..];
        try
        {
            switch (command)
            {
                case "run":
                    var app = Build(rest, modules);
                    RequireEventRoutesProtected(app);
                    await app.RunAsync();
                    return 0;
                case "migrate":
                    return await MigrateAsync(Build(rest, modules));
                case "dev-tokens":
                    return PrintDevelopmentTokens(Build(rest, modules));
                case "parked":
                    var action = rest.Length > 0 && !rest[0].StartsWith('-') ? rest[0] : "list";
                    return await ParkedAsync(Build(rest.Length > 0 && !rest[0].StartsWith('-') ? rest[1..] : rest, modules), action);
                case "dead-letters":
                    var what = rest.Length > 0 && !rest[0].StartsWith('-') ? rest[0] : "list";
                    return await DeadLettersAsync(Build(rest.Length > 0 && !rest[0].StartsWith('-') ? rest[1..] : rest, modules), what);
                default:
                    await Console.Error.WriteLineAsync($"Unknown command '{command}'. Commands: run, migrate, dev-tokens, parked list|replay, dead-letters list|redeliver.");
                    return 64;
            }
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

    private static int PrintDevelopmentTokens(WebApplication app)
    {
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        foreach (var (name, role, subject, partnerId) in DevelopmentTokens.People)
        {
            var token = DevelopmentTokens.Create(auth, role, subject, partnerId: partnerId);
            Console.WriteLine($"{name,-14} {token}");
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
