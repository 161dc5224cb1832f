using System.Globalization;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Validation;

namespace CxMesh.Governance.Api;

/// <summary>Request checks that name the field at fault (INVALID_ARGUMENT with a field violation).</summary>
internal static partial class Check
{

    /// <summary>A member, team, journey, touchpoint, theme or partner key.</summary>
    public static string Key(string value, string field) =>
        Identifiers.Key().IsMatch(value) ? value : throw new FieldViolationException(field,
            value.Length == 0 ? $"{field} is required." : $"{field} must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");

    public static string? OptionalKey(string value, string field) => value.Length == 0 ? null : Key(value, field);

    public static string Text(string value, string field, int max)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new FieldViolationException(field, $"{field} is required.");
        return OptionalText(value, field, max)!;
    }

    public static string? OptionalText(string value, string field, int max)
    {
        if (value.Length > max) throw new FieldViolationException(field, $"{field} is at most {max} characters.");
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c) || char.IsControl(c) && c is not ('\n' or '\r' or '\t'))
            {
                throw new FieldViolationException(field, $"{field} holds control characters or a lone surrogate.");
            }
        }
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    public static string[] Texts(IReadOnlyList<string> values, string field, int maxCount, int maxLength)
    {
        if (values.Count > maxCount) throw new FieldViolationException(field, $"{field} holds at most {maxCount} entries.");
        return values.Select((v, i) => Text(v, $"{field}[{i}]", maxLength)).ToArray();
    }

    public static Guid Id(string value, string field) =>
        Guid.TryParse(value, out var id) ? id : throw new FieldViolationException(field, value.Length == 0 ? $"{field} is required." : $"{field} must be a UUID.");

    public static Guid? OptionalId(string value, string field) => value.Length == 0 ? null : Id(value, field);

    private static readonly DateOnly FirstDate = new(1970, 1, 1);
    private static readonly DateOnly LastDate = new(2999, 12, 31);

    /// <summary>A programme date (yyyy-MM-dd) in 1970-2999, so sprint and period arithmetic never leaves the calendar.</summary>
    public static DateOnly Date(string value, string field) =>
        !DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? throw new FieldViolationException(field, value.Length == 0 ? $"{field} is required (yyyy-MM-dd)." : $"{field} must be a date as yyyy-MM-dd.")
            : date < FirstDate || date > LastDate
                ? throw new FieldViolationException(field, $"{field} must be between {FirstDate:yyyy-MM-dd} and {LastDate:yyyy-MM-dd}.")
                : date;

    public static int PageSize(int value, string field, int max, int fallback) =>
        value == 0 ? fallback : value is > 0 && value <= max ? value : throw new FieldViolationException(field, $"{field} must be 1-{max}.");
}
