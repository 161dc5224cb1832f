using System.Globalization;
using System.Text;

namespace CxMesh.Feedback.Domain.Text;

/// <summary>
/// The form under which two sayings count as the same: case, accents, punctuation, symbols and spacing
/// ignored ("Great coffee!!" = "great   coffee"), full-width forms folded, Han characters kept as they are.
/// </summary>
public static class TextNormalizer
{
    public static string Normalize(string text)
    {
        var decomposed = text.Normalize(NormalizationForm.FormKC).Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        var pendingSpace = false;
        foreach (var c in decomposed)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark) continue;
            if (char.IsLetterOrDigit(c))
            {
                if (pendingSpace && sb.Length > 0) sb.Append(' ');
                pendingSpace = false;
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                pendingSpace = true;
            }
        }
        return sb.ToString();
    }
}
