using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Platform.Validation;

/// <summary>
/// Values no request may carry, whatever its RPC: a NUL character in a string (Postgres text cannot hold one), a
/// Timestamp outside 0001-01-01..9999-12-31 or with nanos out of range, a Duration beyond ±10,000 years. Checked for
/// every request by the error interceptor (naming the field), and by batch validators per item, so one bad item is
/// rejected alone.
/// </summary>
public static class WireValues
{
    private const long MinTimestampSeconds = -62_135_596_800; // 0001-01-01T00:00:00Z
    private const long MaxTimestampSeconds = 253_402_300_799; // 9999-12-31T23:59:59Z
    private const long MaxDurationSeconds = 315_576_000_000;
    private const int MaxDepth = 32;

    /// <summary>The first bad value's field path and why; null when there is none.</summary>
    public static (string Field, string Problem)? FindProblem(IMessage message) => Walk(message, "", 0);

    private static (string Field, string Problem)? Walk(IMessage message, string path, int depth)
    {
        if (depth > MaxDepth) return (path, "nests messages too deeply.");
        switch (message)
        {
            case Timestamp t:
                return t.Seconds is < MinTimestampSeconds or > MaxTimestampSeconds || t.Nanos is < 0 or >= 1_000_000_000
                    ? (path, $"{path} is not a valid timestamp (between 0001-01-01 and 9999-12-31 UTC).")
                    : null;
            case Duration d:
                return d.Seconds is < -MaxDurationSeconds or > MaxDurationSeconds || d.Nanos is <= -1_000_000_000 or >= 1_000_000_000
                       || d.Seconds > 0 && d.Nanos < 0 || d.Seconds < 0 && d.Nanos > 0
                    ? (path, $"{path} is not a valid duration (at most 10,000 years).")
                    : null;
        }
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            var name = path.Length == 0 ? field.Name : $"{path}.{field.Name}";
            var value = field.Accessor.GetValue(message);
            if (field.IsMap)
            {
                var valueField = field.MessageType.FindFieldByNumber(2);
                foreach (System.Collections.DictionaryEntry entry in (System.Collections.IDictionary)value)
                {
                    var at = $"{name}[{entry.Key}]";
                    if (entry.Key is string k && HasNul(k)) return (name, $"{name} has a key with a NUL character.");
                    if (Check(valueField, entry.Value, at, depth) is { } problem) return problem;
                }
            }
            else if (field.IsRepeated)
            {
                var i = 0;
                foreach (var item in (System.Collections.IEnumerable)value)
                {
                    if (Check(field, item, $"{name}[{i++}]", depth) is { } problem) return problem;
                }
            }
            else if (Check(field, value, name, depth) is { } problem)
            {
                return problem;
            }
        }
        return null;
    }

    private static (string Field, string Problem)? Check(FieldDescriptor field, object? value, string path, int depth) => field.FieldType switch
    {
        FieldType.String when value is string s && HasNul(s) => (path, $"{path} contains a NUL character, which cannot be stored."),
        FieldType.Message or FieldType.Group when value is IMessage m => Walk(m, path, depth + 1),
        _ => null,
    };

    private static bool HasNul(string s) => s.Contains('\0', StringComparison.Ordinal);
}
