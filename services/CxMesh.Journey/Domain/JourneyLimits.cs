namespace CxMesh.Journey.Domain;

/// <summary>The limits the proto comments name. Changing one is an API change.</summary>
public static partial class JourneyLimits
{
    public const int MaxStages = 20;
    public const int MaxTouchpoints = 100;
    public const int MaxNameLength = 200;
    public const int MaxDescriptionLength = 2_000;
    public const int MaxSegmentAttributes = 10;
    public const int MaxAttributes = 20;
    public const int MaxAttributeValueLength = 256;
    public const int MaxIdLength = 128;

    /// <summary>Revenue and cost to serve of one touchpoint, in the reporting currency.</summary>
    public const double MaxAmount = 1_000_000_000;
    public const int MaxItemsPerCall = 10_000;
    public const long MaxBytesPerCall = 16 * 1024 * 1024;
    public const int MaxPageSize = 100;
    public const int DefaultPageSize = 50;
    public const int DefaultInstances = 20;
    public static readonly TimeSpan MinTimeout = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(365);
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(366);
}
