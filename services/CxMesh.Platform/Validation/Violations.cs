using System.Globalization;
using System.Runtime.CompilerServices;
using CxMesh.Platform.Errors;
using FluentValidation;
using FluentValidation.Results;

namespace CxMesh.Platform.Validation;

/// <summary>
/// The one way a request is checked: an adapter makes a <see cref="Violations"/>, reads every field through it
/// (each parser records what is wrong with the field's proto path and returns a harmless stand-in), and calls
/// <see cref="ThrowIfAny"/> before it acts, so one INVALID_ARGUMENT names every problem at once.
/// A message checked many times (an item of a batch, a journey definition) keeps its rules in a FluentValidation
/// validator, whose result the adapter adds here. A service adds its own parsers by deriving (scoring's
/// <c>ScoringRequests</c>).
/// <see cref="FailFast"/> reads fields through the same parsers but fails at the first problem: for requests of one or
/// two fields, or where a later check needs an earlier value.
/// </summary>
public class Violations
{
    private readonly List<ValidationFailure> _failures = [];
    private readonly bool _failFast;

    public Violations() { }

    private Violations(bool failFast) => _failFast = failFast;

    /// <summary>Fails the call at the first problem (a <see cref="FieldViolationException"/>); keeps no state, so one instance serves every call.</summary>
    public static Violations FailFast { get; } = new(failFast: true);

    public bool IsEmpty => _failures.Count == 0;

    public IReadOnlyList<ValidationFailure> Failures => _failures;

    /// <summary>Records <paramref name="message"/> against <paramref name="field"/> unless <paramref name="ok"/>; returns <paramref name="ok"/>.</summary>
    public bool Check(bool ok, string field, string message)
    {
        if (!ok) Add(field, message);
        return ok;
    }

    /// <summary>
    /// As <see cref="Check(bool, string, string)"/>, with a message written as an interpolated string that is formatted
    /// only when <paramref name="ok"/> is false (its holes are not even evaluated otherwise): a request that passes its
    /// checks allocates no message.
    /// </summary>
    public bool Check(bool ok, string field, [InterpolatedStringHandlerArgument(nameof(ok))] ref FailureText message)
    {
        if (!ok) Add(field, message.ToStringAndClear());
        return ok;
    }

    /// <summary>As above, with the field's path formatted only on a failure too.</summary>
    public bool Check(bool ok, [InterpolatedStringHandlerArgument(nameof(ok))] ref FailureText field, [InterpolatedStringHandlerArgument(nameof(ok))] ref FailureText message)
    {
        if (!ok) Add(field.ToStringAndClear(), message.ToStringAndClear());
        return ok;
    }

    public void Add(string field, string message)
    {
        if (_failFast) throw new FieldViolationException(field, message);
        _failures.Add(new ValidationFailure(field, message));
    }

    /// <summary>Adds what a FluentValidation validator found, its property paths prefixed with <paramref name="prefix"/> if given.</summary>
    public void Add(ValidationResult result, string? prefix = null)
    {
        foreach (var failure in result.Errors)
        {
            Add(prefix is null ? failure.PropertyName : $"{prefix}.{failure.PropertyName}", failure.ErrorMessage);
        }
    }

    /// <summary>INVALID_ARGUMENT (through the error interceptor) naming every problem recorded.</summary>
    public void ThrowIfAny()
    {
        if (_failures.Count > 0) throw new ValidationException(_failures);
    }

    /// <summary>A key (<see cref="Identifiers.KeyRule"/>), required.</summary>
    public string Key(string value, string field)
    {
        Check(Identifiers.IsKey(value), field, value.Length == 0 ? $"{field} is required." : $"{field} must be {Identifiers.KeyRule}.");
        return value;
    }

    /// <summary>A key or, when empty, null.</summary>
    public string? OptionalKey(string value, string field) => value.Length == 0 ? null : Key(value, field);

    /// <summary>A token (<see cref="Identifiers.TokenRule"/>), at most <paramref name="max"/> characters, required.</summary>
    public string Token(string value, string field, int max = Identifiers.MaxTokenLength)
    {
        Check(Identifiers.IsToken(value, max), field,
            value.Length == 0 ? $"{field} is required." : $"{field} must be 1-{max} characters of letters, digits and . _ : -");
        return value;
    }

    /// <summary>A token or, when empty, null.</summary>
    public string? OptionalToken(string value, string field, int max = Identifiers.MaxTokenLength) => value.Length == 0 ? null : Token(value, field, max);

    /// <summary>Free text that must not be blank: trimmed, at most <paramref name="max"/> characters, no control characters.</summary>
    public string Text(string value, string field, int max)
    {
        if (!Check(!string.IsNullOrWhiteSpace(value), field, $"{field} is required.")) return "";
        return OptionalText(value, field, max) ?? "";
    }

    /// <summary>Free text or, when blank, null.</summary>
    public string? OptionalText(string value, string field, int max)
    {
        if (!Check(value.Length <= max, field, $"{field} is at most {max} characters.")) return null;
        Check(IsCleanText(value), field, $"{field} holds control characters or a lone surrogate.");
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    /// <summary>A list of required texts, each checked as <see cref="Text"/> under <c>field[i]</c>.</summary>
    public string[] Texts(IReadOnlyList<string> values, string field, int maxCount, int maxLength)
    {
        if (!Check(values.Count <= maxCount, field, $"{field} holds at most {maxCount} entries.")) return [];
        return values.Select((v, i) => Text(v, $"{field}[{i}]", maxLength)).ToArray();
    }

    /// <summary>A UUID, required.</summary>
    public Guid Id(string value, string field)
    {
        if (Guid.TryParse(value, out var id)) return id;
        Add(field, value.Length == 0 ? $"{field} is required." : $"{field} must be a UUID.");
        return Guid.Empty;
    }

    /// <summary>A UUID or, when empty, null.</summary>
    public Guid? OptionalId(string value, string field) => value.Length == 0 ? null : Id(value, field);

    private static readonly DateOnly FirstDate = new(1970, 1, 1);
    private static readonly DateOnly LastDate = new(2999, 12, 31);

    /// <summary>A calendar date (yyyy-MM-dd) in 1970-2999, so period arithmetic never leaves the calendar.</summary>
    public DateOnly Date(string value, string field)
    {
        if (!DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            Add(field, value.Length == 0 ? $"{field} is required (yyyy-MM-dd)." : $"{field} must be a date as yyyy-MM-dd.");
            return FirstDate;
        }
        Check(date >= FirstDate && date <= LastDate, field, $"{field} must be between {FirstDate:yyyy-MM-dd} and {LastDate:yyyy-MM-dd}.");
        return date;
    }

    /// <summary>A page size: 0 means <paramref name="fallback"/>.</summary>
    public int PageSize(int value, string field, int max, int fallback)
    {
        if (value == 0) return fallback;
        return Check(value > 0 && value <= max, field, $"{field} must be 1-{max}.") ? value : fallback;
    }

    /// <summary>A message field that must be set.</summary>
    public T Required<T>(T? value, string field) where T : class, new()
    {
        Check(value is not null, field, $"{field} is required.");
        return value ?? new T();
    }

    /// <summary>
    /// Text without control characters (tabs and line breaks allowed) and without lone surrogates; with
    /// <paramref name="refuseReplacement"/>, also without U+FFFD (what invalid UTF-8 became on the way in).
    /// </summary>
    public static bool IsCleanText(string value, bool refuseReplacement = false)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\uFFFD' && refuseReplacement) return false;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c) || char.IsControl(c) && c is not ('\n' or '\r' or '\t'))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>
/// The text of a failed check, written as an interpolated string: formatted (as <c>$"…"</c> would, in the current
/// culture) only when the check failed, never when it passed.
/// </summary>
[InterpolatedStringHandler]
public ref struct FailureText
{
    private DefaultInterpolatedStringHandler _text;
    private readonly bool _failed;

    public FailureText(int literalLength, int formattedCount, bool ok, out bool shouldAppend)
    {
        _failed = shouldAppend = !ok;
        _text = shouldAppend ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    public void AppendLiteral(string value) => _text.AppendLiteral(value);

    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);

    public void AppendFormatted<T>(T value, string? format) => _text.AppendFormatted(value, format);

    public void AppendFormatted<T>(T value, int alignment) => _text.AppendFormatted(value, alignment);

    public void AppendFormatted<T>(T value, int alignment, string? format) => _text.AppendFormatted(value, alignment, format);

    public void AppendFormatted(ReadOnlySpan<char> value) => _text.AppendFormatted(value);

    public void AppendFormatted(string? value) => _text.AppendFormatted(value);

    /// <summary>The text; empty when the check passed (nothing was formatted).</summary>
    public string ToStringAndClear() => _failed ? _text.ToStringAndClear() : "";
}
