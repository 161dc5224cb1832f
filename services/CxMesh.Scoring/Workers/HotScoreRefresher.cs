using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CxMesh.Events.V1;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Data;
using CxMesh.Scoring.Domain;
using CxMesh.Scoring.UseCases;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CxMesh.Scoring.Workers;

/// <summary>
/// After events change scopes, recomputes their hot windows in one query per round (however many events arrived),
/// writes them to Redis, publishes score.changed (throttled per scope) and raises score-drop alerts. Also deletes
/// statistics older than the retention and touchpoints too old to attribute to, once an hour.
/// </summary>
public sealed class HotScoreRefresher : BackgroundService
{
    private const int MaxScopesPerRound = 2_000;
    private readonly ScoreStore store;
    private readonly HotScores hotScores;
    private readonly ServiceDatabase database;
    private readonly TimeProvider clock;
    private readonly IOptions<ScoringOptions> options;
    private readonly ILogger<HotScoreRefresher> logger;
    private readonly ConcurrentDictionary<string, byte> _dirty = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _signal = new(0);
    private readonly ConcurrentDictionary<(string Scope, MetricKey Metric, int Days), Published> _published = new();
    private DateTimeOffset _lastMaintenance = DateTimeOffset.MinValue;
    // When the rated items whose scopes wait for a refresh were acknowledged, oldest first: the freshness figures.
    private readonly ConcurrentQueue<DateTimeOffset> _acknowledged = new();

    private sealed record Published(long N, double Value, DateTimeOffset At);

    public HotScoreRefresher(ScoreStore store, HotScores hotScores, [FromKeyedServices(ScoringModule.Name)] ServiceDatabase database, TimeProvider clock,
        IOptions<ScoringOptions> options, ILogger<HotScoreRefresher> logger, IMeterFactory meters)
    {
        (this.store, this.hotScores, this.database, this.clock, this.options, this.logger) = (store, hotScores, database, clock, options, logger);
        meters.Create(ScoringMetrics.Meter.Name).CreateObservableGauge("cxmesh.scoring.hot_refresh_pending_age",
            () => _acknowledged.TryPeek(out var oldest) ? Math.Max(0, (clock.GetUtcNow() - oldest).TotalSeconds) : 0, "s",
            "Age of the oldest acknowledged rating whose hot scores are not refreshed yet; 0 when all are.");
    }

    /// <summary>
    /// The scopes to refresh; <paramref name="acknowledged"/>: when the items that touched them were acknowledged
    /// (their freshness is recorded once a round has refreshed every scope dirty before them).
    /// </summary>
    public void MarkDirty(IEnumerable<string> scopeKeys, IReadOnlyList<DateTimeOffset>? acknowledged = null)
    {
        foreach (var key in scopeKeys) _dirty.TryAdd(key, 0);
        if (acknowledged is not null)
        {
            foreach (var at in acknowledged) _acknowledged.Enqueue(at);
        }
        if (_signal.CurrentCount == 0) _signal.Release();
    }

    /// <summary>Records the freshness of the first <paramref name="count"/> acknowledged items: their scopes are refreshed.</summary>
    private void RecordFreshness(int count)
    {
        var now = clock.GetUtcNow();
        for (var i = 0; i < count && _acknowledged.TryDequeue(out var at); i++)
        {
            ScoringMetrics.Freshness.Record(Math.Max(0, (now - at).TotalSeconds));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(TimeSpan.FromMinutes(1), stoppingToken);
                // Items queued so far had their scopes marked before they were queued: a round that takes every dirty
                // scope refreshes them all.
                var acknowledged = _acknowledged.Count;
                var keys = _dirty.Keys.Take(MaxScopesPerRound).ToList();
                foreach (var key in keys) _dirty.TryRemove(key, out _);
                if (keys.Count > 0)
                {
                    try
                    {
                        await RefreshAsync(keys, stoppingToken);
                        if (keys.Count < MaxScopesPerRound) RecordFreshness(acknowledged);
                        backoff = TimeSpan.FromMilliseconds(100);
                    }
                    catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                    {
                        // Postgres unavailable: keep the scopes dirty and try again; reads fall back to Postgres meanwhile.
                        MarkDirty(keys);
                        logger.Log(TransientFailures.IsTransient(ex) ? LogLevel.Warning : LogLevel.Error, ex, "Refreshing {Count} hot scopes failed; retrying", keys.Count);
                        await Task.Delay(backoff, stoppingToken);
                        backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
                    }
                }
                if (!_dirty.IsEmpty && _signal.CurrentCount == 0) _signal.Release();
                await MaintainAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One drop, one alert (<see cref="AlertRules.MostSpecificDrops"/>): per metric and question, only the most specific
    /// scopes that dropped raise an alert, linking the broader ones; a drop already explained by a more specific alert
    /// raised earlier today raises nothing.
    /// </summary>
    private static async Task<List<(string DedupeKey, AlertRaised Alert)>> MostSpecificAsync(WriteScope write,
        List<(string DedupeKey, AlertRaised Alert)> candidates, DateOnly today, CancellationToken ct)
    {
        if (candidates.Count == 0) return candidates;
        var raisedToday = await AlertStore.DropScopesSinceAsync(write, today.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), ct);
        var kept = new List<(string, AlertRaised)>();
        foreach (var group in candidates.GroupBy(c => (c.Alert.Metric, c.Alert.QuestionId)))
        {
            var byScope = group.ToDictionary(c => c.Alert.ScopeKey, StringComparer.Ordinal);
            var raised = raisedToday.Where(r => r.Metric == group.Key.Metric && r.QuestionId == group.Key.QuestionId).Select(r => r.ScopeKey).ToList();
            var found = group.Select(c => (c.Alert.ScopeKey, c.Alert.N, c.Alert.PreviousN)).ToList();
            foreach (var (scope, broader) in AlertRules.MostSpecificDrops(found, raised))
            {
                var (key, alert) = byScope[scope];
                alert.BroaderScopeKeys.AddRange(broader);
                kept.Add((key, alert));
            }
        }
        return kept;
    }

    private async Task RefreshAsync(IReadOnlyCollection<string> keys, CancellationToken ct)
    {
        var today = hotScores.Today();
        var rows = await store.HotAsync(keys, today, ct);
        await Task.WhenAll(rows.Select(r => hotScores.SetAsync(r, today)));

        var now = clock.GetUtcNow();
        var changed = new List<ScoreChanged>();
        var candidates = new List<(string DedupeKey, AlertRaised Alert)>();
        var o = options.Value;
        foreach (var row in rows)
        {
            var kind = System.Enum.Parse<MetricKind>(row.Metric.Metric, ignoreCase: true);
            foreach (var days in DayWindow.HotDays)
            {
                var stats = row.For(days);
                var (value, se) = stats.Headline(kind);
                var slot = (row.ScopeKey, row.Metric, days);
                var last = _published.GetValueOrDefault(slot);
                if (last is not null && last.N == stats.N && last.Value.Equals(value)) continue;
                if (last is not null && now - last.At < o.ScoreChangedThrottle)
                {
                    // Too soon: look again when the throttle has passed, so the last change is not lost.
                    _ = Task.Delay(o.ScoreChangedThrottle - (now - last.At), ct).ContinueWith(_ => MarkDirty([row.ScopeKey]), ct,
                        TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                    continue;
                }
                _published[slot] = new Published(stats.N, value, now);
                changed.Add(new ScoreChanged
                {
                    OccurredAt = Timestamp.FromDateTimeOffset(now),
                    ScopeKey = row.ScopeKey,
                    Metric = MetricKinds.ToProto(kind),
                    QuestionId = row.Metric.QuestionId == ScoreStore.AllQuestions ? "" : row.Metric.QuestionId,
                    WindowDays = days,
                    Value = value,
                    N = stats.N,
                    MarginOfError = se * 1.96,
                });
            }

            // Score drops: NPS and eNPS (every question together) and CSAT, last 7 days against the 7 before.
            if (!AlertRules.WatchedForDrops(kind, row.Metric.QuestionId == ScoreStore.AllQuestions) || o.DropAlertWindowDays != 7) continue;
            var (current, previous) = (row.Last7, row.Previous7);
            if (current.N == 0 || previous.N == 0) continue;
            var comparison = Comparison.Of(current, previous, RatingStats.HeadlineFigure(kind), o.DropAlertAlpha);
            if (!AlertRules.IsDrop(current.N, previous.N, o.DropAlertMinN, comparison)) continue;
            var alertId = Guid.CreateVersion7();
            candidates.Add(($"drop:{row.ScopeKey}:{row.Metric.Metric}:{row.Metric.QuestionId}:{today:yyyy-MM-dd}", new AlertRaised
            {
                AlertId = alertId.ToString(),
                OccurredAt = Timestamp.FromDateTimeOffset(now),
                Kind = AlertKind.ScoreDrop,
                ScopeKey = row.ScopeKey,
                Metric = MetricKinds.ToProto(kind),
                QuestionId = row.Metric.QuestionId == ScoreStore.AllQuestions ? "" : row.Metric.QuestionId,
                Value = current.Headline(kind).Value,
                N = current.N,
                PreviousValue = previous.Headline(kind).Value,
                PreviousN = previous.N,
                PValue = comparison.PValue,
                WindowDays = 7,
                Audience = kind == MetricKind.Enps ? ScoreScope.Employees : ScoreScope.Customers,
            }));
        }
        if (changed.Count == 0 && candidates.Count == 0) return;

        await using var write = await database.BeginWriteAsync(ct);
        var drops = await MostSpecificAsync(write, candidates, today, ct);
        await write.PublishManyAsync(Topics.ScoreChanged, changed, _ => Guid.CreateVersion7().ToString(), ct);
        await RaiseAlerts.RaiseAsync(write, drops, ct);
        await write.CommitAsync(ct);
    }

    private async Task MaintainAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (now - _lastMaintenance < TimeSpan.FromHours(1)) return;
        _lastMaintenance = now;
        try
        {
            await database.WriteAsync(async write =>
            {
                await ScoreStore.PurgeAsync(write, DateOnly.FromDateTime(now.UtcDateTime).AddDays(-options.Value.RetentionDays), ct);
                await AttributionStore.PurgeAsync(write, now.UtcDateTime - options.Value.AttributionWindow - TimeSpan.FromDays(30), ct);
            }, ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Scoring maintenance failed; it runs again in an hour");
        }
    }
}
