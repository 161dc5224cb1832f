using System.Buffers.Text;
using System.Text;

namespace CxMesh.Platform.Api;

/// <summary>Opaque page tokens: the position of the last item of a page, base64url so they travel in URLs.</summary>
public static class PageTokens
{
    public static string Encode(string position) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(position));

    /// <summary>Longest token a service issues is far shorter; a longer one was not issued here.</summary>
    public const int MaxTokenLength = 1_024;

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// False for anything this service could not have issued: too long, not base64url, not UTF-8, or holding control
    /// characters (a NUL would reach Postgres). A well-formed forged position is only a place in a keyset order, so it
    /// shows nothing the caller may not list anyway.
    /// </summary>
    public static bool TryDecode(string token, out string position)
    {
        position = "";
        if (token.Length > MaxTokenLength) return false;
        try
        {
            var decoded = Strict.GetString(Base64Url.DecodeFromChars(token));
            if (decoded.Any(char.IsControl)) return false;
            position = decoded;
            return true;
        }
        catch (Exception ex) when (ex is FormatException or DecoderFallbackException)
        {
            return false;
        }
    }
}
