using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;

namespace CxMesh.Cli;

/// <summary>Where cxmesh-server listens and who is calling: flags, else CXMESH_GRPC and CXMESH_TOKEN.</summary>
internal sealed record Connection(string Address, string? Token)
{
    /// <summary>
    /// A channel to <see cref="Address"/>: TLS for https:// (the system's trust store; SSL_CERT_FILE names another CA
    /// bundle), plaintext HTTP/2 for http://. The token rides on every call either way.
    /// </summary>
    public GrpcChannel Channel()
    {
        if (!Uri.TryCreate(Address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            throw new ArgumentException($"--grpc: '{Address}' is not an address such as http://127.0.0.1:5080 or https://cxmesh.example.com.");
        }
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            if (!string.IsNullOrEmpty(Token)) metadata.Add("Authorization", $"Bearer {Token}");
            return Task.CompletedTask;
        });
        return GrpcChannel.ForAddress(uri, uri.Scheme == "https"
            ? new GrpcChannelOptions { Credentials = ChannelCredentials.Create(ChannelCredentials.SecureSsl, credentials) }
            : new GrpcChannelOptions
            {
                Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, credentials),
                UnsafeUseInsecureChannelCallCredentials = true,
            });
    }

    /// <summary>Every call gets a deadline: a hung server must not hang a script.</summary>
    public static DateTime Deadline(int seconds = 30) => DateTime.UtcNow.AddSeconds(seconds);

    /// <summary>
    /// Who the token says the caller is (its role, subject, partner and expiry), read without checking its signature:
    /// only to explain a refusal. Null when there is no token or it is not a JWT.
    /// </summary>
    public string? DescribeToken()
    {
        if (string.IsNullOrEmpty(Token)) return null;
        var parts = Token.Split('.');
        if (parts.Length != 3) return "a token that is not a JWT";
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
            using var json = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
            var root = json.RootElement;
            var roles = root.TryGetProperty("role", out var role)
                ? role.ValueKind == JsonValueKind.Array ? string.Join(", ", role.EnumerateArray().Select(r => r.GetString())) : role.GetString()
                : null;
            var text = new StringBuilder($"a token with role {roles ?? "(none)"}");
            if (root.TryGetProperty("sub", out var sub)) text.Append($" for {sub.GetString()}");
            if (root.TryGetProperty("partner_id", out var partner)) text.Append($" of partner {partner.GetString()}");
            if (root.TryGetProperty("exp", out var exp) && exp.TryGetInt64(out var seconds))
            {
                var at = DateTimeOffset.FromUnixTimeSeconds(seconds);
                text.Append(at < DateTimeOffset.UtcNow ? $", expired {at:yyyy-MM-dd HH:mm} UTC" : $", valid until {at:yyyy-MM-dd HH:mm} UTC");
            }
            return text.ToString();
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException or InvalidOperationException)
        {
            return "a token whose payload cannot be read";
        }
    }
}

/// <summary>What the command was to show does not exist (exit 66, EX_NOINPUT).</summary>
internal sealed class NothingFoundException(string message) : Exception(message);
