namespace CxMesh.Partner.Domain;

/// <summary>A figure shown to a partner only when at least k responses stand behind it.</summary>
public sealed record GuardedScore(string Metric, double Value, long N, double Margin, bool Suppressed)
{
    public static GuardedScore Nps(long promoters, long passives, long detractors, int k)
    {
        var n = promoters + passives + detractors;
        if (n < k) return new GuardedScore("nps", 0, 0, 0, true);
        double p = (double)promoters / n, d = (double)detractors / n;
        return new GuardedScore("nps", 100 * (p - d), n, 1.96 * 100 * Math.Sqrt(Math.Max(0, p + d - (p - d) * (p - d)) / n), false);
    }

    public static GuardedScore Share(string metric, long top, long n, int k)
    {
        if (n < k) return new GuardedScore(metric, 0, 0, 0, true);
        var s = (double)top / n;
        return new GuardedScore(metric, 100 * s, n, 1.96 * 100 * Math.Sqrt(s * (1 - s) / n), false);
    }

    public static GuardedScore Mean(string metric, double sum, double sumSquares, long n, int k)
    {
        if (n < k) return new GuardedScore(metric, 0, 0, 0, true);
        var sd = n < 2 ? 0 : Math.Sqrt(Math.Max(0, (sumSquares - sum * sum / n) / (n - 1)));
        return new GuardedScore(metric, sum / n, n, 1.96 * sd / Math.Sqrt(n), false);
    }
}

/// <summary>Where a partner stands among its peers, as a quartile band only.</summary>
public static class PeerBand
{
    public const int MinPeers = 3;

    /// <summary>The band of <paramref name="own"/> among the peers' values; null with fewer than 3 peers.</summary>
    public static string? Of(double own, IReadOnlyCollection<double> peers)
    {
        if (peers.Count < MinPeers) return null;
        // Share of the peers this partner does better than (ties count half).
        var rank = (peers.Count(p => p < own) + 0.5 * peers.Count(p => p == own)) / peers.Count;
        return rank switch
        {
            >= 0.75 => "top quartile",
            >= 0.5 => "second quartile",
            >= 0.25 => "third quartile",
            _ => "bottom quartile",
        };
    }
}

/// <summary>
/// The NPS bands: promoters 9-10, passives 7-8, detractors 0-6. The one place partner writes them; its queries take them
/// as parameters (scoring, a separate service, has its own in <c>NpsTally</c>).
/// </summary>
public static class NpsBands
{
    public const int PromoterFrom = 9;
    public const int DetractorUpTo = 6;
}
