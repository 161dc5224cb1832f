using System.Text;
using System.Text.RegularExpressions;

namespace CxMesh.Feedback.Domain.Text;

public enum PersonalDataKind
{
    Email,
    Phone,
    Card,
    NationalId,
    Iban,
    Name,
    Address,
}

public sealed record PersonalDataSpan(int Start, int Length, PersonalDataKind Kind);

/// <summary>Finds phone numbers in text. Numbering plans are data, kept up to date by a library outside Domain.</summary>
public interface IPhoneNumberFinder
{
    IEnumerable<(int Start, int Length)> Find(string text);
}

/// <summary>
/// The fallback when no numbering-plan library is given: numbers written in international form
/// (+44 20 7946 0958, 0086 138...), which cannot be mistaken for dates, prices or order numbers.
/// </summary>
public sealed partial class InternationalPhoneFinder : IPhoneNumberFinder
{
    [GeneratedRegex(@"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[ .\-]?\(?\d{1,4}\)?){2,5}(?![\w])")]
    private static partial Regex Pattern();

    public IEnumerable<(int Start, int Length)> Find(string text) =>
        Pattern().Matches(text).Where(m => m.Value.Count(char.IsAsciiDigit) is >= 8 and <= 15).Select(m => (m.Index, m.Length));
}

/// <summary>The item's own contact details, removed from its text wherever they appear.</summary>
public sealed record OwnDetails(string? Name = null, string? Email = null, string? Phone = null, string? Address = null);

/// <summary>
/// Finds and removes personal data from free text: emails, phone numbers (international, national and
/// Chinese mobile), payment card numbers (Luhn-checked), Chinese resident ID numbers (checksum-checked),
/// IBANs (mod-97-checked), and the customer's own name and contact details. What is removed is replaced by
/// a marker (<c>[email]</c>, <c>[phone]</c>, ...) so the text keeps its meaning.
/// </summary>
public static partial class Redactor
{
    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")]
    private static partial Regex IbanPattern();

    [GeneratedRegex(@"(?<![\d+])\d+(?:[ \-]\d+)*")]
    private static partial Regex DigitRun();

    [GeneratedRegex(@"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")]
    private static partial Regex ChineseIdPattern();

    [GeneratedRegex(@"(?<![\d+])(?:(?:\+|00)86[ \-]?)?1[3-9]\d(?:[ \-]?\d){8}(?![\d])")]
    private static partial Regex ChineseMobilePattern();

    public static string Marker(PersonalDataKind kind) => kind switch
    {
        PersonalDataKind.Email => "[email]",
        PersonalDataKind.Phone => "[phone]",
        PersonalDataKind.Card => "[card]",
        PersonalDataKind.NationalId => "[national-id]",
        PersonalDataKind.Iban => "[iban]",
        PersonalDataKind.Name => "[name]",
        _ => "[address]",
    };

    /// <summary>Every span of personal data in <paramref name="text"/>, non-overlapping, in order.</summary>
    public static IReadOnlyList<PersonalDataSpan> Detect(string text, OwnDetails? own = null, IPhoneNumberFinder? phones = null)
    {
        var spans = new List<PersonalDataSpan>();
        void Add(int start, int length, PersonalDataKind kind)
        {
            if (spans.Any(s => start < s.Start + s.Length && s.Start < start + length)) return;
            spans.Add(new PersonalDataSpan(start, length, kind));
        }

        if (own is not null)
        {
            foreach (var (value, kind) in OwnValues(own))
            {
                for (var at = text.IndexOf(value, StringComparison.OrdinalIgnoreCase); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.OrdinalIgnoreCase))
                {
                    Add(at, value.Length, kind);
                }
            }
        }
        foreach (var m in Candidates(EmailPattern(), text, _ => true)) Add(m.Index, m.Length, PersonalDataKind.Email);
        foreach (var m in Candidates(IbanPattern(), text, m => IsIban(m.Value))) Add(m.Index, m.Length, PersonalDataKind.Iban);
        foreach (var m in Candidates(ChineseIdPattern(), text, m => IsChineseId(m.Value))) Add(m.Index, m.Length, PersonalDataKind.NationalId);
        foreach (var (start, length) in CardNumbers(text)) Add(start, length, PersonalDataKind.Card);
        foreach (var (start, length) in NameCues.Find(text)) Add(start, length, PersonalDataKind.Name);
        // Phone finders look at the text with what was found so far blanked out, so a phone number that runs
        // into a card number or an email is still seen as the number it is.
        // Repeated until nothing new turns up: each number found can uncover its neighbour.
        var finder = phones ?? new InternationalPhoneFinder();
        for (var pass = 0; pass < 4; pass++)
        {
            var before = spans.Count;
            var masked = text.ToCharArray();
            foreach (var span in spans) Array.Fill(masked, ' ', span.Start, span.Length);
            var rest = new string(masked);
            foreach (var m in Candidates(ChineseMobilePattern(), rest, _ => true)) Add(m.Index, m.Length, PersonalDataKind.Phone);
            foreach (var (start, length) in finder.Find(rest)) Add(start, length, PersonalDataKind.Phone);
            if (spans.Count == before) break;
        }
        return spans.OrderBy(s => s.Start).ToList();
    }

    /// <summary>
    /// The text with every detected piece of personal data replaced by its marker: patterns, <paramref name="own"/>
    /// (the contact details given with this text) and <paramref name="known"/> (every name, e-mail, phone and address
    /// the same customer gave before).
    /// </summary>
    public static string Redact(string text, OwnDetails? own, IPhoneNumberFinder? phones, IReadOnlyList<OwnDetails>? known)
    {
        var redacted = Redact(text, own, phones);
        if (known is null) return redacted;
        foreach (var details in known) redacted = Redact(redacted, details, phones);
        return redacted;
    }

    public static string Redact(string text, OwnDetails? own = null, IPhoneNumberFinder? phones = null)
    {
        if (string.IsNullOrEmpty(text)) return text;
        var spans = Detect(text, own, phones);
        if (spans.Count == 0) return text;
        var sb = new StringBuilder(text.Length);
        var at = 0;
        foreach (var span in spans)
        {
            sb.Append(text, at, span.Start - at).Append(Marker(span.Kind));
            at = span.Start + span.Length;
        }
        return sb.Append(text, at, text.Length - at).ToString();
    }

    /// <summary>
    /// Matches that pass <paramref name="accept"/>. A rejected match does not hide what starts inside it:
    /// the search goes on from the next character, not from the end of the rejected match.
    /// </summary>
    private static IEnumerable<Match> Candidates(Regex pattern, string text, Func<Match, bool> accept)
    {
        for (var m = pattern.Match(text); m.Success;)
        {
            if (accept(m))
            {
                yield return m;
                m = m.NextMatch();
            }
            else
            {
                m = m.Index + 1 < text.Length ? pattern.Match(text, m.Index + 1) : Match.Empty;
            }
        }
    }

    /// <summary>
    /// Card numbers: within each run of digit groups ("4111 1111 1111 1111", "4111-1111-..."), the longest
    /// sequence of whole groups holding 13 to 19 digits that passes the Luhn check.
    /// </summary>
    private static IEnumerable<(int Start, int Length)> CardNumbers(string text)
    {
        foreach (Match run in DigitRun().Matches(text))
        {
            var groups = new List<(int Start, int Length)>();
            var offset = 0;
            foreach (var part in run.Value.Split(GroupSeparators))
            {
                if (part.Length > 0) groups.Add((run.Index + offset, part.Length));
                offset += part.Length + 1;
            }
            var from = 0;
            while (from < groups.Count)
            {
                (int Start, int Length)? best = null;
                var bestEnd = from;
                var digits = 0;
                for (var to = from; to < groups.Count && digits <= 19; to++)
                {
                    digits += groups[to].Length;
                    if (digits is < 13 or > 19) continue;
                    var start = groups[from].Start;
                    var length = groups[to].Start + groups[to].Length - start;
                    var number = Digits(text.Substring(start, length));
                    if (IsLuhn(number) && IsCardPrefix(number) && (!IsReference(text, start) || IsCardContext(text, start)))
                    {
                        best = (start, length);
                        bestEnd = to;
                    }
                }
                if (best is { } found)
                {
                    yield return found;
                    from = bestEnd + 1;
                }
                else
                {
                    from++;
                }
            }
        }
    }

    [GeneratedRegex(@"(?i:\b(?:order|ticket|invoice|tracking|membership|member|customer|reference|ref|booking|case|parcel|shipment|consignment)[ ]*(?:no\.?|number|num|nr\.?|#|ref(?:erence)?|id|code)?[ ]*[:#.]?[ ]*|(?:订单|单号|编号|运单|工单|会员|发票|客户|快递单|物流单)(?:号|编号|号码)?[ ]*[:：#]?[ ]*)$")]
    private static partial Regex ReferenceCue();

    // Not the [card] marker of a number redacted before it: redacting again must find what the first pass found.
    [GeneratedRegex(@"(?i:(?<!\[)\b(?:card|visa|mastercard|amex|credit|debit|cc)\b(?!\])|卡)")]
    private static partial Regex CardCue();

    /// <summary>A number introduced as an order, ticket, invoice, tracking or member number (订单号, 会员号…) is no card.</summary>
    private static bool IsReference(string text, int start) => ReferenceCue().IsMatch(text.AsSpan(Math.Max(0, start - 40), start - Math.Max(0, start - 40)).ToString());

    /// <summary>…unless the words just before it speak of a card ("my card 4111…", "信用卡…").</summary>
    private static bool IsCardContext(string text, int start) => CardCue().IsMatch(text.AsSpan(Math.Max(0, start - 30), start - Math.Max(0, start - 30)).ToString());

    /// <summary>
    /// Card numbers start as the schemes issue them: Visa 4 (13, 16, 19 digits), Mastercard 51-55 and 2221-2720 (16),
    /// American Express 34/37 (15), Discover 6011/644-649/65, JCB 3528-3589, UnionPay 62, Maestro 50/56-69, Diners 30/36/38/39.
    /// </summary>
    public static bool IsCardPrefix(string digits)
    {
        int Prefix(int n) => int.Parse(digits.AsSpan(0, n), System.Globalization.CultureInfo.InvariantCulture);
        var length = digits.Length;
        return digits[0] switch
        {
            '4' => length is 13 or 16 or 19,
            '5' => Prefix(2) is >= 51 and <= 55 ? length == 16 : length is >= 13 and <= 19, // Mastercard, else Maestro 50/56-59
            '2' => Prefix(4) is >= 2221 and <= 2720 && length == 16,
            '3' => Prefix(2) is 34 or 37 ? length == 15
                : Prefix(4) is >= 3528 and <= 3589 ? length is >= 16 and <= 19
                : Prefix(2) is 30 or 36 or 38 or 39 && length is >= 14 and <= 19,
            '6' => length is >= 13 and <= 19,
            _ => false,
        };
    }

    private static IEnumerable<(string Value, PersonalDataKind Kind)> OwnValues(OwnDetails own)
    {
        if (!string.IsNullOrWhiteSpace(own.Email)) yield return (own.Email.Trim(), PersonalDataKind.Email);
        if (!string.IsNullOrWhiteSpace(own.Phone) && Digits(own.Phone).Length >= 6) yield return (own.Phone.Trim(), PersonalDataKind.Phone);
        if (!string.IsNullOrWhiteSpace(own.Address) && own.Address.Trim().Length >= 6) yield return (own.Address.Trim(), PersonalDataKind.Address);
        if (!string.IsNullOrWhiteSpace(own.Name))
        {
            var name = own.Name.Trim();
            yield return (name, PersonalDataKind.Name);
            // "Jane Doe" also hides "Jane" and "Doe" alone; a Chinese name also by its given name (张伟 → 伟 is too short to be safe).
            foreach (var part in name.Split(NameSeparators, StringSplitOptions.RemoveEmptyEntries).Where(p => p.Length >= 3 || p.Any(IsCjk) && p.Length >= 2))
            {
                if (part != name) yield return (part, PersonalDataKind.Name);
            }
        }
    }

    // From string literals: array initializers would add a compiler-generated type to a Domain that must depend on the BCL only.
    private static readonly char[] GroupSeparators = " -".ToCharArray();
    private static readonly char[] NameSeparators = " -·".ToCharArray();

    private static bool IsCjk(char c) => c is >= '\u4e00' and <= '\u9fff';

    private static string Digits(string value) => new(value.Where(char.IsAsciiDigit).ToArray());

    public static bool IsLuhn(string digits)
    {
        if (digits.Length is < 13 or > 19) return false;
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
        }
        return sum % 10 == 0;
    }

    public static bool IsChineseId(string id)
    {
        if (id.Length != 18) return false;
        // GB 11643: digit i (from the left, 0-based) weighs 2^(17 − i) mod 11.
        var sum = 0;
        var weight = 1;
        for (var i = 16; i >= 0; i--)
        {
            if (!char.IsAsciiDigit(id[i])) return false;
            weight = weight * 2 % 11;
            sum += (id[i] - '0') * weight;
        }
        return char.ToUpperInvariant(id[17]) == "10X98765432"[sum % 11];
    }

    public static bool IsIban(string value)
    {
        var iban = value.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        if (iban.Length is < 15 or > 34) return false;
        var rearranged = iban[4..] + iban[..4];
        var remainder = 0;
        foreach (var c in rearranged)
        {
            var chunk = char.IsAsciiDigit(c) ? (c - '0').ToString() : char.IsAsciiLetterUpper(c) ? (c - 'A' + 10).ToString() : null;
            if (chunk is null) return false;
            foreach (var d in chunk) remainder = (remainder * 10 + (d - '0')) % 97;
        }
        return remainder == 1;
    }
}
