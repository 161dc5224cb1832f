using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace CxMesh.Cli;

/// <summary>
/// What a partner runs to receive CxMesh webhooks, as small as it gets: checks the CxMesh-Signature header
/// (t=&lt;unix&gt;,v1=&lt;hex HMAC-SHA256 of "t.body"&gt;; any v1 may match; 300 s tolerance) and answers 200, or 400 when the
/// signature does not verify.
/// </summary>
internal static class WebhookSink
{
    public static async Task RunAsync(int port, FileInfo secretFile, FileInfo log, CancellationToken ct)
    {
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        Console.WriteLine($"Listening on http://127.0.0.1:{port}/ ; logging to {log.FullName}");
        while (!ct.IsCancellationRequested)
        {
            var context = await listener.GetContextAsync().WaitAsync(ct);
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(ct);
            var header = context.Request.Headers["CxMesh-Signature"];
            var secret = secretFile.Exists ? (await File.ReadAllTextAsync(secretFile.FullName, ct)).Trim() : "";
            var ok = Verify(header, secret, body, DateTimeOffset.UtcNow);
            await File.AppendAllTextAsync(log.FullName,
                $"{DateTimeOffset.UtcNow:O} delivery {context.Request.Headers["CxMesh-Delivery"]} signature {(ok ? "verified" : "REJECTED")}: {body}{Environment.NewLine}", ct);
            context.Response.StatusCode = ok ? 200 : 400;
            context.Response.Close();
        }
    }

    public static bool Verify(string? header, string secret, string body, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(header) || secret.Length == 0) return false;
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToList();
        var t = parts.FirstOrDefault(p => p[0] == "t")?[1];
        if (t is null || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return false;
        if (Math.Abs(now.ToUnixTimeSeconds() - seconds) > 300) return false;
        var expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"))));
        return parts.Where(p => p[0] == "v1").Any(p => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(p[1]), expected));
    }
}
