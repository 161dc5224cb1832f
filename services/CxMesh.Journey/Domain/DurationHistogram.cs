namespace CxMesh.Journey.Domain;

/// <summary>
/// Log-scale buckets for durations: bucket 0 holds anything under a second, bucket i ≥ 1 holds
/// [2^((i−1)/8), 2^(i/8)) seconds, up to about two years. Counts add commutatively, so per-day histograms
/// sum to any window; a percentile read back from the geometric middle of its bucket is within 4.5% of the exact value.
/// </summary>
public static class DurationHistogram
{
    public const int StepsPerDoubling = 8;
    public const int Buckets = 1 + 26 * StepsPerDoubling;

    public static int BucketOf(TimeSpan duration)
    {
        var seconds = duration.TotalSeconds;
        if (seconds < 1) return 0;
        var index = 1 + (int)Math.Floor(Math.Log2(seconds) * StepsPerDoubling);
        return Math.Min(index, Buckets - 1);
    }

    public static TimeSpan Representative(int bucket)
    {
        if (bucket <= 0) return TimeSpan.FromSeconds(0.5);
        var lower = Math.Pow(2, (bucket - 1) / (double)StepsPerDoubling);
        var upper = Math.Pow(2, bucket / (double)StepsPerDoubling);
        return TimeSpan.FromSeconds(Math.Sqrt(lower * upper));
    }

    /// <summary>The q-quantile (0..1) of the counted durations, or null when there are none.</summary>
    public static TimeSpan? Quantile(IReadOnlyDictionary<int, long> counts, double q)
    {
        var total = counts.Values.Sum();
        if (total <= 0) return null;
        var rank = Math.Max(1, (long)Math.Ceiling(q * total));
        long seen = 0;
        foreach (var (bucket, count) in counts.Where(c => c.Value > 0).OrderBy(c => c.Key))
        {
            seen += count;
            if (seen >= rank) return Representative(bucket);
        }
        return Representative(counts.Keys.Max());
    }
}
