using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CxMesh.Platform.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CxMesh.Platform.Telemetry;

/// <summary>
/// A figure a service reads from its own database every <see cref="TelemetryOptions.SampleInterval"/> and serves as a gauge
/// tagged <c>service</c>. <see cref="Sql"/> returns one number and must be cheap (a count on a partial index, an age).
/// </summary>
public sealed record DatabaseGauge(string Service, string Name, string Unit, string Description, string Sql);

public static class DatabaseGauges
{
    public const string MeterName = "CxMesh.Pipeline";

    /// <summary>Adds a gauge read from <paramref name="service"/>'s database (see <see cref="DatabaseGauge"/>).</summary>
    public static IServiceCollection AddDatabaseGauge(this IServiceCollection services, string service, string name, string unit, string description, string sql) =>
        services.AddSingleton(new DatabaseGauge(service, name, unit, description, sql));

    /// <summary>The messaging tables every service database has: what the runbook's first entries are about.</summary>
    internal static IEnumerable<DatabaseGauge> Messaging(string service) =>
    [
        new(service, "cxmesh.outbox.pending", "{event}", "Events written to the outbox and not yet published (parked ones excluded).",
            "select count(*) from outbox where sent_at is null and parked_at is null"),
        new(service, "cxmesh.outbox.oldest_pending_age", "s", "Age of the oldest event waiting in the outbox; 0 when none waits.",
            "select coalesce(extract(epoch from now() - min(created_at)), 0) from outbox where sent_at is null and parked_at is null"),
        new(service, "cxmesh.outbox.parked_rows", "{event}", "Events parked after too many failed publish attempts (cxmesh-server parked list|replay).",
            "select count(*) from outbox where parked_at is not null"),
        new(service, "cxmesh.inbox.dead_letters", "{event}", "Events a consumer could not use, kept in dead_letters (cxmesh-server dead-letters list|redeliver).",
            "select count(*) from dead_letters"),
    ];
}

/// <summary>
/// Reads every <see cref="DatabaseGauge"/> of the hosted services on one connection per database and round, and serves the
/// last values. A database that cannot be read serves no values (never stale ones) and counts a sample failure.
/// </summary>
internal sealed class DatabaseGaugeSampler : BackgroundService
{
    private readonly IReadOnlyList<DatabaseGauge> _gauges;
    private readonly IServiceProvider _services;
    private readonly TelemetryOptions _options;
    private readonly ILogger<DatabaseGaugeSampler> _logger;
    private readonly ConcurrentDictionary<(string Name, string Service), double> _values = new();
    private readonly Counter<long> _failures;

    public DatabaseGaugeSampler(IEnumerable<DatabaseGauge> gauges, IEnumerable<ServiceDatabaseRegistration> databases, IServiceProvider services,
        IMeterFactory meters, IOptions<TelemetryOptions> options, ILogger<DatabaseGaugeSampler> logger)
    {
        _gauges = [.. databases.SelectMany(d => DatabaseGauges.Messaging(d.Service)), .. gauges];
        _services = services;
        _options = options.Value;
        _logger = logger;
        var meter = meters.Create(DatabaseGauges.MeterName);
        foreach (var gauge in _gauges.GroupBy(g => g.Name).Select(g => g.First()))
        {
            meter.CreateObservableGauge(gauge.Name, () => Observe(gauge.Name), gauge.Unit, gauge.Description);
        }
        _failures = meter.CreateCounter<long>("cxmesh.telemetry.sample_failures", "{sample}", "Rounds in which a service's database could not be read for its gauges.");
    }

    private IEnumerable<Measurement<double>> Observe(string name)
    {
        foreach (var ((gauge, service), value) in _values)
        {
            if (gauge == name) yield return new Measurement<double>(value, new KeyValuePair<string, object?>("service", service));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.SampleInterval);
        do
        {
            foreach (var service in _gauges.Select(g => g.Service).Distinct())
            {
                await SampleAsync(service, stoppingToken);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    internal async Task SampleAsync(string service, CancellationToken ct)
    {
        var gauges = _gauges.Where(g => g.Service == service).ToList();
        try
        {
            var database = _services.GetRequiredKeyedService<ServiceDatabase>(service);
            await using var connection = await database.OpenConnectionAsync(ct);
            foreach (var gauge in gauges)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = gauge.Sql;
                command.CommandTimeout = 10;
                var value = await command.ExecuteScalarAsync(ct);
                _values[(gauge.Name, service)] = value is null or DBNull ? 0 : Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            foreach (var gauge in gauges) _values.TryRemove((gauge.Name, service), out _);
            _failures.Add(1, new KeyValuePair<string, object?>("service", service));
            _logger.LogDebug(ex, "Reading the gauges of {Service} failed", service);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
