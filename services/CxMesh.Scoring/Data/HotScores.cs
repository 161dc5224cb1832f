using System.Globalization;
using System.Text.Json;
using CxMesh.Platform.Redis;
using CxMesh.Scoring.Domain;
using Microsoft.Extensions.Options;

namespace CxMesh.Scoring.Data;

public sealed class ScoringOptions
{
    public const string Section = "Scoring";

    /// <summary>
    /// How long a hot score lives in Redis. Bounds how stale a cached score can be after Redis missed
    /// updates during an outage; normal updates replace it at once.
    /// </summary>
    public TimeSpan HotScoreTtl { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The rolling 30-day NPS of each scope, kept hot in Redis: refreshed after every change, read first,
/// rebuilt from Postgres on a miss. Keys: <c>&lt;prefix&gt;:scoring:nps30:&lt;day&gt;:&lt;scope&gt;</c>; the day in the key rolls the window.
/// </summary>
public sealed class HotScores(ScoreStore store, HotCache cache, TimeProvider clock, IOptions<ScoringOptions> options)
{
    public DayWindow HotWindow() => DayWindow.LastDays(DayWindow.HotDays, Today());

    public DateOnly Today() => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    /// <summary>The hot window's tally and where it came from ("cache" or "store").</summary>
    public async Task<(NpsTally Tally, string Source)> GetAsync(string scopeKey, CancellationToken ct)
    {
        var window = HotWindow();
        var key = Key(window, scopeKey);
        if (await cache.TryGetAsync(key) is { } cached && Decode(cached) is { } tally)
        {
            return (tally, "cache");
        }
        var stored = await store.SumNpsAsync(scopeKey, window, ct);
        await cache.TrySetIfNewerAsync(key, stored.Version, Encode(stored.Tally), options.Value.HotScoreTtl);
        return (stored.Tally, "store");
    }

    /// <summary>Recomputes a scope's hot score from Postgres and stores it, unless Redis holds a newer one.</summary>
    public async Task RefreshAsync(string scopeKey, CancellationToken ct)
    {
        var window = HotWindow();
        var stored = await store.SumNpsAsync(scopeKey, window, ct);
        await cache.TrySetIfNewerAsync(Key(window, scopeKey), stored.Version, Encode(stored.Tally), options.Value.HotScoreTtl);
    }

    private string Key(DayWindow window, string scopeKey) =>
        cache.Key(ScoringModule.Name, "nps30", $"{window.End.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}:{scopeKey}");

    private static string Encode(NpsTally t) => JsonSerializer.Serialize(new[] { t.Promoters, t.Passives, t.Detractors });

    private static NpsTally? Decode(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<long[]>(json) is [var p, var pa, var d] ? new NpsTally(p, pa, d) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
