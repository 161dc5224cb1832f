using System.Net;
using System.Net.Sockets;

namespace CxMesh.Platform.Security;

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
/// Outgoing webhooks (partners' endpoints, chat tools' incoming webhooks): an https URL without credentials that never
/// leads into our own network, checked when it is saved and again at every connection (DNS rebinding).
/// </summary>
public static class OutboundWebhooks
{
    /// <summary>Why <paramref name="url"/> may not be a webhook (naming <paramref name="field"/>), or null when it may.</summary>
    public static async Task<string?> ProblemAsync(string url, string field, IReadOnlyCollection<string> allowList, CancellationToken ct)
    {
        if (url.Length > 2000 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.UserInfo.Length > 0)
        {
            return $"{field} must be an absolute https URL without credentials.";
        }
        if (allowList.Contains(uri.Host, StringComparer.OrdinalIgnoreCase)) return null;
        if (uri.Scheme != "https") return $"{field} must use https (plain http only for allow-listed hosts).";
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.Host, ct);
        }
        catch (SocketException)
        {
            return $"{field}: host '{uri.Host}' does not resolve.";
        }
        return addresses.Length == 0 || addresses.Any(WebhookAddress.IsForbidden)
            ? $"{field}: '{uri.Host}' resolves to a loopback, private, link-local or metadata address; webhooks must go to a public endpoint."
            : null;
    }

    /// <summary>
    /// The handler webhooks are sent with: no redirects (a redirect could lead into our own network), and the address
    /// checked again when connecting, so a name that resolved to a public address when saved cannot be re-pointed at a
    /// private one later.
    /// </summary>
    public static SocketsHttpHandler Handler(Func<IReadOnlyCollection<string>> allowList) => new()
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var allowed = allowList().Contains(host, StringComparer.OrdinalIgnoreCase);
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
            if (addresses.Length == 0 || !allowed && addresses.Any(WebhookAddress.IsForbidden))
            {
                throw new HttpRequestException($"refused to connect to {host}: it resolves to a loopback, private, link-local or metadata address.");
            }
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
