using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.TestKit.Fuzzing;

/// <summary>
/// What a hostile or broken client puts in a field, by the field's proto type: boundaries, extremes, characters
/// that break storage, parsers or people's screens, and sizes that break memory. Each value is named, so a finding
/// says what was sent.
/// </summary>
public static class HostileValues
{
    public static readonly IReadOnlyList<(string Name, string Value)> Strings =
    [
        ("empty", ""),
        ("blank", "   "),
        ("100k characters", new string('x', 100_000)),
        ("NUL", "\0"),
        ("NUL inside", "gold\0silver"),
        ("control characters", "\u0001\u0007\u001b[31m"),
        ("replacement character", "\uFFFD"),
        ("right-to-left override", "\u202Etxt.exe"),
        ("emoji", "😀👍🏽"),
        ("CJK", "客户体验很好"),
        ("SQL", "' OR '1'='1'; drop table x; --"),
        ("path", "../../../etc/passwd"),
        ("template", "${jndi:ldap://x}{{7*7}}"),
        ("markup", "<script>alert(1)</script>"),
        ("format string", "%s%s%n%x"),
        ("header injection", "a\r\n\r\nInjected: yes"),
        ("spreadsheet formula", "=cmd|' /C calc'!A0"),
        ("number-like", "-99999999999999999999999"),
        ("JSON-like", "{\"a\":[1,2,{\"b\":null}]}"),
        ("one character", "x"),
        ("uppercase id", "FUZZ-ID"),
        ("long id", new string('a', 129)),
    ];

    public static readonly IReadOnlyList<(string Name, string Value)> PageTokens =
    [
        ("forged token", "eyJhZnRlciI6IjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJ9"),
        ("token not base64", "!!!not-a-token!!!"),
        ("token of junk", Convert.ToBase64String(Enumerable.Range(0, 48).Select(i => (byte)(i * 37)).ToArray())),
        ("huge token", new string('A', 20_000)),
    ];

    public static IEnumerable<(string Name, object Value)> For(FieldDescriptor field, Random random)
    {
        switch (field.FieldType)
        {
            case FieldType.String:
                foreach (var (name, value) in Strings) yield return (name, value);
                if (field.Name.EndsWith("page_token", StringComparison.Ordinal))
                {
                    foreach (var (name, value) in PageTokens) yield return (name, value);
                }
                break;
            case FieldType.Bytes:
                yield return ("empty bytes", ByteString.Empty);
                yield return ("1 MiB of bytes", ByteString.CopyFrom(RandomBytes(random, 1 << 20)));
                yield return ("junk bytes", ByteString.CopyFrom(RandomBytes(random, 64)));
                break;
            case FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32:
                foreach (var v in new[] { 0, -1, 1, int.MaxValue, int.MinValue, 1_000_000 }) yield return ($"{v}", v);
                break;
            case FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64:
                foreach (var v in new[] { 0L, -1L, long.MaxValue, long.MinValue }) yield return ($"{v}", v);
                break;
            case FieldType.UInt32 or FieldType.Fixed32:
                foreach (var v in new[] { 0u, uint.MaxValue }) yield return ($"{v}", v);
                break;
            case FieldType.UInt64 or FieldType.Fixed64:
                foreach (var v in new[] { 0ul, ulong.MaxValue }) yield return ($"{v}", v);
                break;
            case FieldType.Double:
                foreach (var v in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.MaxValue, double.Epsilon, -1e308 }) yield return ($"{v}", v);
                break;
            case FieldType.Float:
                foreach (var v in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -1f }) yield return ($"{v}", v);
                break;
            case FieldType.Bool:
                yield return ("true", true);
                yield return ("false", false);
                break;
            case FieldType.Enum:
                foreach (var v in new[] { 0, -1, 999, int.MaxValue }) yield return ($"enum {v}", System.Enum.ToObject(field.EnumType.ClrType, v));
                break;
            case FieldType.Message when field.MessageType.FullName == Timestamp.Descriptor.FullName:
                yield return ("Timestamp max seconds", new Timestamp { Seconds = long.MaxValue });
                yield return ("Timestamp min seconds", new Timestamp { Seconds = long.MinValue });
                yield return ("Timestamp negative nanos", new Timestamp { Seconds = 1, Nanos = -1 });
                yield return ("Timestamp nanos of 1e9", new Timestamp { Nanos = 1_000_000_000 });
                yield return ("Timestamp year 10000", new Timestamp { Seconds = 253_402_300_800 });
                yield return ("Timestamp before year 1", new Timestamp { Seconds = -62_135_596_801 });
                yield return ("Timestamp epoch", new Timestamp());
                yield return ("Timestamp in 100 years", Timestamp.FromDateTime(DateTime.UtcNow.AddYears(100)));
                break;
            case FieldType.Message when field.MessageType.FullName == Duration.Descriptor.FullName:
                yield return ("Duration max seconds", new Duration { Seconds = long.MaxValue });
                yield return ("Duration min seconds", new Duration { Seconds = long.MinValue });
                yield return ("Duration negative", new Duration { Seconds = -1 });
                yield return ("Duration not normalised", new Duration { Seconds = 5, Nanos = -5 });
                yield return ("Duration beyond 10,000 years", new Duration { Seconds = 315_576_000_001 });
                yield return ("Duration zero", new Duration());
                break;
            case FieldType.Message:
                yield return ("empty message", field.MessageType.Parser.ParseFrom(ByteString.Empty));
                break;
        }
    }

    public static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
