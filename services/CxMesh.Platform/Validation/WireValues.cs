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
            // Only strings (NUL) and messages (nested timestamps, durations, strings) can be bad: other scalars are not
            // read (reading boxes them), and a field's path is built only to descend into it or to name a problem.
            if (field.IsMap)
            {
                var valueField = field.MessageType.FindFieldByNumber(2);
                foreach (System.Collections.DictionaryEntry entry in (System.Collections.IDictionary)field.Accessor.GetValue(message))
                {
                    if (entry.Key is string k && HasNul(k))
                    {
                        var name = PathOf(path, field.Name);
                        return (name, $"{name} has a key with a NUL character.");
                    }
                    if (CanBeBad(valueField) && Check(valueField, entry.Value, path, field.Name, -1, $"{entry.Key}", depth) is { } problem) return problem;
                }
            }
            else if (!CanBeBad(field))
            {
                continue;
            }
            else if (field.IsRepeated)
            {
                var i = 0;
                foreach (var item in (System.Collections.IEnumerable)field.Accessor.GetValue(message))
                {
                    if (Check(field, item, path, field.Name, i++, null, depth) is { } problem) return problem;
                }
            }
            else if (Check(field, field.Accessor.GetValue(message), path, field.Name, -1, null, depth) is { } problem)
            {
                return problem;
            }
        }
        return null;
    }

    private static bool CanBeBad(FieldDescriptor field) => field.FieldType is FieldType.String or FieldType.Message or FieldType.Group;

    private static string PathOf(string parent, string name) => parent.Length == 0 ? name : $"{parent}.{name}";

    private static string PathOf(string parent, string name, int index, string? key) =>
        key is not null ? $"{PathOf(parent, name)}[{key}]" : index >= 0 ? $"{PathOf(parent, name)}[{index}]" : PathOf(parent, name);

    private static (string Field, string Problem)? Check(FieldDescriptor field, object? value, string parent, string name, int index, string? key, int depth)
    {
        switch (field.FieldType)
        {
            case FieldType.String when value is string s && HasNul(s):
                var path = PathOf(parent, name, index, key);
                return (path, $"{path} contains a NUL character, which cannot be stored.");
            case FieldType.Message or FieldType.Group when value is IMessage m:
                return Walk(m, PathOf(parent, name, index, key), depth + 1);
            default:
                return null;
        }
    }

    private static bool HasNul(string s) => s.Contains('\0', StringComparison.Ordinal);
}
