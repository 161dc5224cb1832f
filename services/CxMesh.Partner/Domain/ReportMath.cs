using System.Net;
using System.Net.Sockets;

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

/// <summary>Webhook endpoints may not point into the platform's own network, however the address is spelt.</summary>
public static class WebhookAddress
{
    public static bool IsForbidden(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None)) return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            // Forms that carry an IPv4 address inside, which a resolver or the network may turn back into it: judged by
            // the address they carry.
            if (Embedded(bytes) is { } inner) return IsForbidden(inner);
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6Teredo
                || (bytes[0] & 0xFE) == 0xFC // unique local fc00::/7 (includes fd00:ec2::254, the EC2 metadata address)
                || bytes[0] == 0x01 && bytes[1] == 0x00 && bytes.AsSpan(2, 6).IndexOfAnyExcept((byte)0) < 0 // discard-only 100::/64
                || bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8; // documentation 2001:db8::/32
        }
        var b = address.GetAddressBytes();
        return b[0] == 10
            || b[0] == 127
            || b[0] == 172 && b[1] is >= 16 and <= 31
            || b[0] == 192 && b[1] == 168
            || b[0] == 192 && b[1] == 0 && b[2] is 0 or 2 // IETF protocol assignments, documentation
            || b[0] == 198 && b[1] is 18 or 19 // benchmarking
            || b[0] == 169 && b[1] == 254 // link-local, and the 169.254.169.254 metadata service
            || b[0] == 100 && b[1] is >= 64 and <= 127 // carrier-grade NAT
            || b[0] == 0
            || b[0] >= 224; // multicast and reserved
    }

    /// <summary>
    /// The IPv4 address inside an IPv6 transition form: IPv4-compatible ::a.b.c.d, IPv4-translated ::ffff:0:a.b.c.d,
    /// NAT64 64:ff9b::/96 and 64:ff9b:1::/48, and 6to4 2002:aabb:ccdd::/16.
    /// </summary>
    private static IPAddress? Embedded(byte[] b)
    {
        var span = b.AsSpan();
        if (span[..12].IndexOfAnyExcept((byte)0) < 0 && span[12..].IndexOfAnyExcept((byte)0) >= 0) return new IPAddress(span[12..]); // ::a.b.c.d
        if (span[..8].IndexOfAnyExcept((byte)0) < 0 && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0) return new IPAddress(span[12..]); // ::ffff:0:a.b.c.d
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) return new IPAddress(span[12..]); // 64:ff9b::/96 and 64:ff9b:1::/48
        if (b[0] == 0x20 && b[1] == 0x02) return new IPAddress(span[2..6]); // 6to4
        return null;
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
