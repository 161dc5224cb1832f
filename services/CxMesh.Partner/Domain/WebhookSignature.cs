using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CxMesh.Partner.Domain;

/// <summary>
/// Webhook signatures as Stripe makes them: header <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "t.body"&gt;</c>, one
/// v1 per signing secret (two during a rotation). Receivers check any v1 against their secret and refuse
/// timestamps outside the tolerance, so a captured request cannot be replayed later.
/// </summary>
public static class WebhookSignature
{
    public const string Header = "CxMesh-Signature";
    public const string DeliveryHeader = "CxMesh-Delivery";
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromSeconds(300);

    public static string Sign(IEnumerable<string> secrets, DateTimeOffset at, string body)
    {
        var t = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"t={t}," + string.Join(",", secrets.Select(s => "v1=" + Hex(s, t, body)));
    }

    /// <summary>True when the header carries a v1 made with <paramref name="secret"/> over this body, within the tolerance of now.</summary>
    public static bool Verify(string? header, string secret, string body, DateTimeOffset now, TimeSpan? tolerance = null)
    {
        if (string.IsNullOrEmpty(header)) return false;
        string? t = null;
        var signatures = new List<string>();
        foreach (var part in header.Split(','))
        {
            var at = part.IndexOf('=');
            if (at <= 0) continue;
            var (key, value) = (part[..at].Trim(), part[(at + 1)..].Trim());
            if (key == "t") t = value;
            else if (key == "v1") signatures.Add(value);
        }
        if (t is null || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return false;
        if ((now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > (tolerance ?? DefaultTolerance)) return false;
        var expected = Encoding.ASCII.GetBytes(Hex(secret, t, body));
        return signatures.Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), expected));
    }

    private static string Hex(string secret, string t, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}")));
}
