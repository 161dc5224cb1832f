using FluentValidation;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Platform.Validation;

public static class TimestampRules
{
    private const long MinSeconds = -62135596800L; // 0001-01-01
    private const long MaxSeconds = 253402300799L; // 9999-12-31

    /// <summary>
    /// When set, the timestamp must be valid, at most <paramref name="maxSkew"/> in the future (clocks differ)
    /// and at most <paramref name="maxAge"/> in the past. Unset passes: pair with NotNull when it is required.
    /// </summary>
    public static IRuleBuilderOptionsConditions<T, Timestamp?> Recent<T>(this IRuleBuilder<T, Timestamp?> rule,
        TimeProvider clock, TimeSpan maxAge, TimeSpan maxSkew, string field) =>
        rule.Custom((t, context) =>
        {
            if (t is null) return;
            if (t.Seconds is < MinSeconds or > MaxSeconds || t.Nanos is < 0 or >= 1_000_000_000)
            {
                context.AddFailure($"{field} is not a valid timestamp.");
                return;
            }
            var now = clock.GetUtcNow();
            if (t.ToDateTimeOffset() > now + maxSkew) context.AddFailure($"{field} must not be in the future.");
            else if (t.ToDateTimeOffset() < now - maxAge) context.AddFailure($"{field} must be within the last {maxAge.TotalDays:0} days (on or after {now - maxAge:yyyy-MM-dd}).");
        });
}
