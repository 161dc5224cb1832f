using System.Globalization;
using System.Text.Json;
using CxMesh.Platform.Redis;
using CxMesh.Scoring.Domain;
using Microsoft.Extensions.Options;

namespace CxMesh.Scoring.Data;

/// <summary>
/// The rolling 7-, 30- and 90-day statistics of every scope with data, kept hot in Redis by the refresher, read
/// first, rebuilt from Postgres on a miss. Keys: <c>&lt;prefix&gt;:scoring:hot:&lt;days&gt;:&lt;end day&gt;:&lt;metric&gt;:&lt;question&gt;:&lt;scope&gt;</c>;
/// the end day in the key rolls the window at midnight UTC.
/// </summary>
public sealed class HotScores(ScoreStore store, HotCache cache, TimeProvider clock, IOptions<ScoringOptions> options)
{
    public DateOnly Today() => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    /// <summary>Whether a window is one kept hot (the last 7, 30 or 90 days).</summary>
    public bool IsHot(DayWindow window) => window.End == Today() && DayWindow.HotDays.Contains(window.Days);

    /// <summary>A hot window's statistics and where they came from ("cache" or "store").</summary>
    public async Task<(RatingStats Stats, string Source)> GetAsync(string scopeKey, MetricKey metric, DayWindow window, CancellationToken ct)
    {
        var key = Key(window.Days, window.End, metric, scopeKey);
        return await cache.TryGetAsync(key) is { } cached && Decode(cached) is { } stats
            ? (stats, "cache")
            : (await ReadThroughAsync(key, scopeKey, metric, window, ct), "store");
    }

    /// <summary>A missed window read from Postgres and put back in Redis (unless Redis holds a newer one by then).</summary>
    private async Task<RatingStats> ReadThroughAsync(string key, string scopeKey, MetricKey metric, DayWindow window, CancellationToken ct)
    {
        var stored = await store.SumAsync(scopeKey, metric, window, ct);
        await cache.TrySetIfNewerAsync(key, stored.Version, Encode(stored.Stats), options.Value.HotScoreTtl);
        return stored.Stats;
    }

    /// <summary>
    /// Many hot windows' statistics, in order: every one asked of Redis in one round trip, the misses read from
    /// Postgres one by one and put back (as <see cref="GetAsync"/> does).
    /// </summary>
    public async Task<(RatingStats Stats, string Source)[]> GetManyAsync(IReadOnlyList<(string ScopeKey, MetricKey Metric, DayWindow Window)> queries, CancellationToken ct)
    {
        var keys = queries.Select(q => Key(q.Window.Days, q.Window.End, q.Metric, q.ScopeKey)).ToList();
        var cached = await cache.TryGetManyAsync(keys);
        var results = new (RatingStats Stats, string Source)[queries.Count];
        for (var i = 0; i < queries.Count; i++)
        {
            var (scopeKey, metric, window) = queries[i];
            results[i] = cached[i] is { } value && Decode(value) is { } stats
                ? (stats, "cache")
                : (await ReadThroughAsync(keys[i], scopeKey, metric, window, ct), "store");
        }
        return results;
    }

    /// <summary>Writes a refreshed row's three windows, unless Redis holds newer ones.</summary>
    public Task SetAsync(HotRow row, DateOnly today) =>
        Task.WhenAll(DayWindow.HotDays.Select(days =>
            cache.TrySetIfNewerAsync(Key(days, today, row.Metric, row.ScopeKey), row.Version, Encode(row.For(days)), options.Value.HotScoreTtl)));

    private string Key(int days, DateOnly end, MetricKey metric, string scopeKey) =>
        cache.Key(ScoringModule.Name, "hot", $"{days}:{end.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}:{metric.Metric}:{metric.QuestionId}:{scopeKey}");

    private static string Encode(RatingStats s) => JsonSerializer.Serialize(new[] { s.N, s.TopBox, s.Passives, s.Detractors, s.Sum, s.SumSquares });

    private static RatingStats? Decode(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<double[]>(json) is [var n, var t, var p, var d, var sum, var squares]
                ? new RatingStats((long)n, (long)t, (long)p, (long)d, sum, squares)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
