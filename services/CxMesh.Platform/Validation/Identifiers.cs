using System.Text.RegularExpressions;

namespace CxMesh.Platform.Validation;

/// <summary>
/// The two grammars of names on CxMesh's wire, in one place. A <b>key</b> is a name CxMesh gives things (journeys,
/// touchpoints, stages, questions, themes, partners, teams, members, segment attributes): lower case, readable in a URL
/// and a scope key. A <b>token</b> is an identifier from another system (customer ids, idempotency keys, external
/// ids, product and lot ids): case kept, ':' allowed, longer.
/// </summary>
public static partial class Identifiers
{
    public const int MaxKeyLength = 64;
    public const int MaxTokenLength = 128;

    /// <summary>How a key is described in errors.</summary>
    public const string KeyRule = "1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit";

    /// <summary>How a token is described in errors.</summary>
    public const string TokenRule = "1-128 characters of letters, digits and . _ : -";

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    public static partial Regex Key();

    /// <summary>The characters of a token (its length is checked by <see cref="IsToken"/>: some services allow less).</summary>
    [GeneratedRegex("^[A-Za-z0-9._:-]+$")]
    public static partial Regex Token();

    public static bool IsKey(string value) => Key().IsMatch(value);

    public static bool IsToken(string value, int maxLength = MaxTokenLength) => value.Length > 0 && value.Length <= maxLength && Token().IsMatch(value);

    /// <summary>An optional proto3 string as the rows keep it: empty means absent.</summary>
    public static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
