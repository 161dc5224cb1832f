using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CxMesh.Platform.Redis;

/// <summary>
/// Cache-aside over Redis that never fails a caller: Redis holds only what Postgres can rebuild, so
/// when Redis is down or slow a read is a miss and a write is skipped (counted and logged).
/// Values carry a version and are replaced only by newer ones, so a slow writer cannot put back an old value.
/// A write that Redis missed (it was down or cut off) leaves the old value behind: the key is remembered and
/// deleted as soon as Redis answers again, before anything is read from it. If the process dies first, the TTL bounds the staleness.
/// </summary>
public sealed class HotCache
{
    private const int MaxRememberedMisses = 10_000;
    private readonly IConnectionMultiplexer redis;
    private readonly IOptions<RedisOptions> options;
    private readonly ILogger<HotCache> logger;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _missed = new();
    private volatile bool _missedTooMany;

    public HotCache(IConnectionMultiplexer redis, IOptions<RedisOptions> options, ILogger<HotCache> logger)
    {
        this.redis = redis;
        this.options = options;
        this.logger = logger;
        redis.ConnectionRestored += (_, _) => _ = Task.Run(ForgetMissedAsync);
    }

    private static readonly Meter Meter = new("CxMesh.Redis");
    private static readonly Counter<long> Hits = Meter.CreateCounter<long>("cxmesh.cache.hits");
    private static readonly Counter<long> Misses = Meter.CreateCounter<long>("cxmesh.cache.misses");
    private static readonly Counter<long> Errors = Meter.CreateCounter<long>("cxmesh.cache.errors", description: "Redis calls that failed and were skipped.");

    // KEYS[1]: hash with fields v (version) and d (data). Set only if newer.
    private static readonly LuaScript SetIfNewerScript = LuaScript.Prepare(
        """
        local current = tonumber(redis.call('HGET', @key, 'v'))
        if current == nil or current < tonumber(@version) then
          redis.call('HSET', @key, 'v', @version, 'd', @data)
          redis.call('PEXPIRE', @key, @ttl)
          return 1
        end
        return 0
        """);

    public string Key(string service, string thing, string id) => $"{options.Value.KeyPrefix}:{service}:{thing}:{id}";

    public async Task<string?> TryGetAsync(string key)
    {
        if (!redis.IsConnected)
        {
            Errors.Add(1);
            return null;
        }
        try
        {
            if (!await ForgetMissedAsync()) return null;
            var value = await redis.GetDatabase().HashGetAsync(key, "d");
            (value.IsNull ? Misses : Hits).Add(1);
            return value.IsNull ? null : value.ToString();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Errors.Add(1);
            logger.LogDebug(ex, "Redis read of {Key} failed; reading from Postgres", key);
            return null;
        }
    }

    /// <summary>
    /// Many values in one round trip (the reads are pipelined), in the order of the keys; null for a miss. When Redis
    /// is down or fails, every value is a miss, as for <see cref="TryGetAsync"/>.
    /// </summary>
    public async Task<string?[]> TryGetManyAsync(IReadOnlyList<string> keys)
    {
        var values = new string?[keys.Count];
        if (keys.Count == 0) return values;
        if (!redis.IsConnected)
        {
            Errors.Add(1);
            return values;
        }
        try
        {
            if (!await ForgetMissedAsync()) return values;
            var batch = redis.GetDatabase().CreateBatch();
            var reads = new Task<RedisValue>[keys.Count];
            for (var i = 0; i < keys.Count; i++) reads[i] = batch.HashGetAsync(keys[i], "d");
            batch.Execute();
            await Task.WhenAll(reads);
            var hits = 0;
            for (var i = 0; i < keys.Count; i++)
            {
                var value = reads[i].Result;
                if (!value.IsNull) (values[i], hits) = (value.ToString(), hits + 1);
            }
            Hits.Add(hits);
            Misses.Add(keys.Count - hits);
            return values;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Errors.Add(1);
            logger.LogDebug(ex, "Redis read of {Count} keys failed; reading from Postgres", keys.Count);
            return new string?[keys.Count];
        }
    }

    public async Task TrySetIfNewerAsync(string key, long version, string data, TimeSpan ttl)
    {
        if (!redis.IsConnected)
        {
            Errors.Add(1);
            RememberMissed(key);
            return;
        }
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(SetIfNewerScript,
                new { key = (RedisKey)key, version, data, ttl = (long)ttl.TotalMilliseconds });
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Errors.Add(1);
            logger.LogDebug(ex, "Redis write of {Key} failed; the value will be rebuilt from Postgres", key);
            RememberMissed(key);
        }
    }

    private void RememberMissed(string key)
    {
        if (_missed.Count >= MaxRememberedMisses) _missedTooMany = true;
        else _missed.TryAdd(key, 0);
    }

    /// <summary>Deletes keys whose updates Redis missed. Returns false when that could not be done yet (so nothing may be read).</summary>
    private async Task<bool> ForgetMissedAsync()
    {
        if (_missed.IsEmpty && !_missedTooMany) return true;
        try
        {
            var db = redis.GetDatabase();
            if (_missedTooMany)
            {
                // Too many to remember one by one: drop every key of this deployment; all of it can be rebuilt.
                foreach (var server in redis.GetServers().Where(s => s.IsConnected && !s.IsReplica))
                {
                    await foreach (var key in server.KeysAsync(pattern: options.Value.KeyPrefix + ":*", pageSize: 1000))
                    {
                        await db.KeyDeleteAsync(key, CommandFlags.FireAndForget);
                    }
                }
                _missedTooMany = false;
            }
            var keys = _missed.Keys.ToArray();
            if (keys.Length > 0)
            {
                await db.KeyDeleteAsync(keys.Select(k => (RedisKey)k).ToArray());
                foreach (var k in keys) _missed.TryRemove(k, out _);
                logger.LogInformation("Redis is back: dropped {Count} cached values it missed updates of", keys.Length);
            }
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Errors.Add(1);
            return false;
        }
    }
}
