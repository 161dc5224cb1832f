using System.Security.Cryptography;
using System.Text;

namespace CxMesh.Feedback.Domain;

/// <summary>
/// A pseudonymous customer id for feedback that carries contact details but no customer id (a survey export has a
/// response id and an e-mail, not a CRM id): <c>pid:</c> and 32 hex digits of HMAC-SHA256 under
/// <c>Feedback:PseudonymKey</c> of the normalised e-mail, else the phone's digits, else the source system and
/// response id. The same person is the same id across imports and channels, so erasure finds all of them; without
/// the key nobody can tell which e-mail an id stands for, or test a guess.
/// </summary>
public sealed class CustomerPseudonyms(byte[]? key)
{
    public const string Prefix = "pid:";

    public bool Enabled => key is not null;

    /// <summary>The id, or null when the key is not set or there is nothing to derive it from.</summary>
    public string? For(string email, string phone, string sourceSystem, string externalId)
    {
        if (key is null) return null;
        var basis = email.Trim() is { Length: > 0 } e ? "email:" + e.ToLowerInvariant()
            : new string(phone.Where(char.IsAsciiDigit).ToArray()) is { Length: >= 6 } digits ? "phone:" + digits
            : sourceSystem.Length > 0 && externalId.Length > 0 ? $"response:{sourceSystem}\u001f{externalId}"
            : null;
        if (basis is null) return null;
        return Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(basis)).AsSpan(0, 16));
    }
}
