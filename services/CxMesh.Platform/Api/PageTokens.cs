using System.Buffers.Text;
using System.Text;

namespace CxMesh.Platform.Api;

/// <summary>Opaque page tokens: the position of the last item of a page, base64url so they travel in URLs.</summary>
public static class PageTokens
{
    public static string Encode(string position) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(position));

    /// <summary>False for anything this service did not issue.</summary>
    public static bool TryDecode(string token, out string position)
    {
        position = "";
        try
        {
            position = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
