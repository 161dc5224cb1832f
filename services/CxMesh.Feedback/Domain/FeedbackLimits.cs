namespace CxMesh.Feedback.Domain;

/// <summary>The limits the proto comments name. Changing one is an API change.</summary>
public static partial class FeedbackLimits
{
    public const int MaxVerbatimLength = 10_000;
    public const int MaxRatings = 20;
    public const int MinIdempotencyKeyLength = 8;
    public const int MaxIdempotencyKeyLength = 128;
    public const int MaxIdLength = 128;
    public const int MaxContactFieldLength = 200;
    public const int MaxItemsPerBatch = 10_000;
    public const int MaxSegmentAttributes = 20;
    public const int MaxAttributeValueLength = 256;
    public const int MaxBatchBytes = 16 * 1024 * 1024;
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(366);

    /// <summary>
    /// No control characters but tab and line breaks, no U+FFFD (what invalid UTF-8 became on the way in) and no
    /// lone surrogates: text that every consumer, database and report can handle.
    /// </summary>
    public static bool IsCleanText(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\uFFFD') return false;
            if (char.IsControl(c) && c is not ('\t' or '\n' or '\r')) return false;
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1])) return false;
                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }
        return true;
    }
}
