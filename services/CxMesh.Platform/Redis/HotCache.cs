using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CxMesh.Platform.Redis;

/// <summary>
/// Cache-aside over Redis that never fails a caller: Redis holds only what Postgres can rebuild, so
/// when Redis is down or slow a read is a miss and a write is skipped (counted and logged).
/// Values carry a version and are replaced only by newer ones, so a slow writer cannot put back an old value.
/// </summary>
public sealed class HotCache(IConnectionMultiplexer redis, IOptions<RedisOptions> options, ILogger<HotCache> logger)
{
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

    public async Task TrySetIfNewerAsync(string key, long version, string data, TimeSpan ttl)
    {
        if (!redis.IsConnected)
        {
            Errors.Add(1);
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
        }
    }
}
