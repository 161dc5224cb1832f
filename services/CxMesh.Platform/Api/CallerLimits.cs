using System.Globalization;
using System.Threading.RateLimiting;
using CxMesh.Platform.Errors;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Platform.Api;

/// <summary>
/// Puts an RPC (or an HTTP route) under a per-caller limit named in the <c>RateLimits</c> configuration section:
/// calls per period and calls at once, counted per token subject.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, AllowMultiple = false)]
public sealed class CallerLimitAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>One named limit: <c>RateLimits:&lt;name&gt;:Permits|Period|Burst|Concurrent</c>.</summary>
public sealed class CallerLimitOptions
{
    /// <summary>Calls a caller may start per <see cref="Period"/> once its burst is spent.</summary>
    public int Permits { get; set; }
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>Calls a caller may start at once after a quiet time (the token bucket's size).</summary>
    public int Burst { get; set; }
    /// <summary>Calls of this kind a caller may have running at the same time (streams count until they end).</summary>
    public int Concurrent { get; set; }
}

/// <summary>
/// Per-caller rate and concurrency limits (ASP.NET Core's rate limiter: a token bucket chained with a concurrency
/// limiter, both partitioned by limit name and token subject). A call over a limit is answered at once, before
/// its body is read: gRPC gets RESOURCE_EXHAUSTED with google.rpc.RetryInfo, JSON routes HTTP 429 with Retry-After.
/// </summary>
public static class CallerLimits
{
    public const string Section = "RateLimits";
    /// <summary>SubmitFeedback(Batch), RecordTouchpoint(s).</summary>
    public const string Ingest = "ingest";
    /// <summary>ImportFeedbackCsv.</summary>
    public const string Import = "import";
    /// <summary>A partner's report downloads.</summary>
    public const string Download = "download";
    /// <summary>An inbound connector's deliveries (POST /v1/sources/{source}/events), counted per source.</summary>
    public const string Source = "source";

    public static readonly IReadOnlyDictionary<string, CallerLimitOptions> Defaults = new Dictionary<string, CallerLimitOptions>
    {
        [Ingest] = new() { Permits = 500, Burst = 1_000, Concurrent = 32 },
        [Import] = new() { Permits = 1, Burst = 5, Concurrent = 2 },
        [Download] = new() { Permits = 5, Burst = 20, Concurrent = 4 },
        [Source] = new() { Permits = 50, Burst = 200, Concurrent = 8 },
    };

    internal static void AddCxMeshCallerLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var limits = Defaults.ToDictionary(d => d.Key, d =>
        {
            var options = new CallerLimitOptions { Permits = d.Value.Permits, Period = d.Value.Period, Burst = d.Value.Burst, Concurrent = d.Value.Concurrent };
            configuration.GetSection($"{Section}:{d.Key}").Bind(options);
            if (options.Permits < 1 || options.Burst < 1 || options.Concurrent < 1 || options.Period <= TimeSpan.Zero)
            {
                throw new Hosting.ConfigurationException($"{Section}:{d.Key}", "needs Permits, Burst and Concurrent of at least 1 and a positive Period.");
            }
            return options;
        });

        static string? LimitOf(HttpContext http) => http.GetEndpoint()?.Metadata.GetMetadata<CallerLimitAttribute>()?.Name;
        // A connector's sender signs rather than signs in: its deliveries are counted per source.
        static string Caller(HttpContext http) =>
            http.GetRouteValue("source") is string source ? "source:" + source
            : http.User.Identity?.Name is { Length: > 0 } subject ? "sub:" + subject : "ip:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");

        var rate = PartitionedRateLimiter.Create<HttpContext, string>(http => LimitOf(http) is { } name && limits.TryGetValue(name, out var o)
            ? RateLimitPartition.GetTokenBucketLimiter($"{name}|{Caller(http)}", _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = o.Burst,
                TokensPerPeriod = o.Permits,
                ReplenishmentPeriod = o.Period,
                QueueLimit = 0,
                AutoReplenishment = true,
            })
            : RateLimitPartition.GetNoLimiter(""));
        var concurrency = PartitionedRateLimiter.Create<HttpContext, string>(http => LimitOf(http) is { } name && limits.TryGetValue(name, out var o)
            ? RateLimitPartition.GetConcurrencyLimiter($"{name}|{Caller(http)}", _ => new ConcurrencyLimiterOptions { PermitLimit = o.Concurrent, QueueLimit = 0 })
            : RateLimitPartition.GetNoLimiter(""));

        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.CreateChained(rate, concurrency);
            o.OnRejected = (context, ct) => RejectAsync(context.HttpContext, context.Lease, ct);
        });
    }

    internal static void UseCxMeshCallerLimits(this WebApplication app) => app.UseRateLimiter();

    private static async ValueTask RejectAsync(HttpContext http, RateLimitLease lease, CancellationToken ct)
    {
        var name = http.GetEndpoint()?.Metadata.GetMetadata<CallerLimitAttribute>()?.Name ?? "";
        // Only the token bucket knows when a permit comes back; a concurrency refusal lasts until a call ends.
        var rateLimited = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter);
        var delay = rateLimited ? retryAfter : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds));
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.ResourceExhausted,
            Message = rateLimited
                ? $"Too many {name} calls from this caller; retry in {seconds} s."
                : $"Too many {name} calls from this caller at once; retry when one has ended.",
            Details =
            {
                Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(seconds)) }),
                Any.Pack(new ErrorInfo
                {
                    Reason = rateLimited ? "RATE_LIMITED" : "TOO_MANY_CONCURRENT_CALLS",
                    Domain = ErrorMappingInterceptor.ErrorDomain,
                    Metadata = { ["limit"] = name },
                }),
            },
        };
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await StatusResponses.WriteAsync(http, ErrorMappingInterceptor.WithErrorInfo(status), StatusCodes.Status429TooManyRequests);
    }
}
