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
}
