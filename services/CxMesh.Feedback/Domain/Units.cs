using System.Text;

namespace CxMesh.Feedback.Domain;

/// <summary>What a unit is. Stores hold teams and agents, teams hold agents.</summary>
public enum UnitKind
{
    Store = 1,
    Team = 2,
    Agent = 3,
}

/// <summary>A registered store, team or agent, with the names people call it by and who hears of its praise.</summary>
public sealed record Unit(string Key, UnitKind Kind, string Name, string? ParentKey, IReadOnlyList<string> Aliases, string? RecognitionMemberId, string? RecognitionTeamId,
    DateTime UpdatedAt)
{
    public const int MaxNameLength = 200;
    public const int MaxAliases = 10;
    public const int MinAliasLength = 2;
    public const int MaxAliasLength = 64;

    /// <summary>A parent must be of a kind above: a team's parent a store, an agent's a team or a store; a store has none.</summary>
    public static bool CanHold(UnitKind parent, UnitKind child) => parent < child;

    public static string KindName(UnitKind kind) => kind.ToString().ToLowerInvariant();

    public static UnitKind ParseKind(string name) => Enum.Parse<UnitKind>(name, ignoreCase: true);
}

/// <summary>
/// Every registered unit at one moment, with the paths up and an index of aliases. Immutable: the registry swaps in a
/// new one when a unit is saved, so checks and praise finding of one chunk see one consistent tree.
/// </summary>
public sealed class UnitTree
{
    private readonly Dictionary<string, Unit> _units;
    private readonly Dictionary<string, List<Unit>> _children;

    public UnitTree(IEnumerable<Unit> units, long version)
    {
        Version = version;
        _units = units.ToDictionary(u => u.Key, StringComparer.Ordinal);
        _children = _units.Values.Where(u => u.ParentKey is not null).GroupBy(u => u.ParentKey!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(u => u.Key, StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        Aliases = new AliasIndex(_units.Values);
    }

    public static readonly UnitTree Empty = new([], 0);

    public long Version { get; }

    public int Count => _units.Count;

    public IEnumerable<Unit> All => _units.Values;

    public AliasIndex Aliases { get; }

    public Unit? Find(string key) => _units.GetValueOrDefault(key);

    /// <summary>The unit and every unit above it, nearest first.</summary>
    public IReadOnlyList<Unit> PathOf(string key)
    {
        var path = new List<Unit>();
        for (var unit = Find(key); unit is not null && path.Count < 8; unit = unit.ParentKey is null ? null : Find(unit.ParentKey)) path.Add(unit);
        return path;
    }

    /// <summary>The unit's key and every key under it, directly or not.</summary>
    public IReadOnlyList<string> WithDescendants(string key)
    {
        var keys = new List<string> { key };
        for (var i = 0; i < keys.Count; i++)
        {
            if (_children.TryGetValue(keys[i], out var children)) keys.AddRange(children.Select(c => c.Key));
        }
        return keys;
    }

    /// <summary>The store a unit is in (itself for a store), or null for a team or agent that stands on its own.</summary>
    public string? StoreOf(string key) => PathOf(key).FirstOrDefault(u => u.Kind == UnitKind.Store)?.Key;
}

/// <summary>
/// Finds units named in a text: an alias matches as a whole word ignoring case (no Latin letter or digit on either side),
/// or, when it is written in Chinese, wherever it occurs.
/// </summary>
public sealed class AliasIndex
{
    private readonly List<(string Alias, Unit Unit)> _aliases;

    public AliasIndex(IEnumerable<Unit> units)
    {
        // Longer aliases first, so "Ana Lima" is found before "Ana" and a span is credited once.
        _aliases = units.SelectMany(u => u.Aliases.Select(a => (Alias: a, Unit: u)))
            .OrderByDescending(a => a.Alias.Length).ThenBy(a => a.Alias, StringComparer.Ordinal).ThenBy(a => a.Unit.Key, StringComparer.Ordinal).ToList();
    }

    public bool IsEmpty => _aliases.Count == 0;

    /// <summary>The units that go by exactly this name, ignoring case.</summary>
    public IEnumerable<Unit> Named(string alias) =>
        _aliases.Where(a => string.Equals(a.Alias, alias, StringComparison.OrdinalIgnoreCase)).Select(a => a.Unit);

    /// <summary>Every mention: where it is and the units that go by that name (more than one when two stores each have an "Ana").</summary>
    public IReadOnlyList<(int Start, int Length, IReadOnlyList<Unit> Units)> Find(string text)
    {
        var found = new List<(int Start, int Length, IReadOnlyList<Unit> Units)>();
        if (_aliases.Count == 0 || text.Length == 0) return found;
        var taken = new bool[text.Length];
        foreach (var group in _aliases.GroupBy(a => a.Alias, StringComparer.OrdinalIgnoreCase))
        {
            var alias = group.Key;
            var units = group.Select(a => a.Unit).DistinctBy(u => u.Key).ToList();
            for (var at = text.IndexOf(alias, StringComparison.OrdinalIgnoreCase); at >= 0; at = text.IndexOf(alias, at + 1, StringComparison.OrdinalIgnoreCase))
            {
                if (taken[at] || taken[at + alias.Length - 1] || !IsWhole(text, at, alias.Length)) continue;
                Array.Fill(taken, true, at, alias.Length);
                found.Add((at, alias.Length, units));
            }
        }
        return found.OrderBy(f => f.Start).ToList();
    }

    private static bool IsWhole(string text, int start, int length)
    {
        // Chinese has no spaces between words: a name written in Chinese stands wherever it is, and a Latin name next to
        // Chinese characters ("谢谢Ana！") is a word of its own.
        if (IsHan(text[start]) && IsHan(text[start + length - 1])) return true;
        return (start == 0 || !IsWordCharacter(text[start - 1])) && (start + length == text.Length || !IsWordCharacter(text[start + length]));
    }

    private static bool IsWordCharacter(char c) => char.IsLetterOrDigit(c) && !IsHan(c);

    internal static bool IsHan(char c) => c is >= '\u4e00' and <= '\u9fff';
}

/// <summary>A sentence that names a unit in a positive way: where the sentence is in the raw text, so it can be redacted again later.</summary>
public sealed record FoundPraise(Unit Unit, int Start, int Length);

/// <summary>
/// Praise: a unit named by an alias in a sentence that speaks well of it. The clause that holds the name decides (its
/// sentiment is positive); a name in a clause with no feeling of its own ("Thanks to Ana,") takes its sentence's, when
/// that is positive and not mixed. A name two units share counts only when the item's own unit tells them apart (the
/// same store); otherwise it is left, never guessed.
/// </summary>
public static class PraiseFinder
{
    public const int MaxExcerptLength = 500;

    public static IReadOnlyList<FoundPraise> Find(string text, string language, UnitTree units, string? itemUnitKey, Text.ISentimentAnalyzer sentiment)
    {
        if (units.Aliases.IsEmpty || text.Length == 0) return [];
        var mentions = units.Aliases.Find(text);
        if (mentions.Count == 0) return [];
        var analysis = sentiment.Analyze(text, language);
        var itemStore = itemUnitKey is null ? null : units.StoreOf(itemUnitKey);
        var praise = new List<FoundPraise>();
        foreach (var (start, length, candidates) in mentions)
        {
            var unit = candidates.Count == 1 ? candidates[0]
                : candidates.Where(c => itemStore is not null && units.StoreOf(c.Key) == itemStore).ToList() is [var only] ? only : null;
            if (unit is null || praise.Any(p => p.Unit.Key == unit.Key)) continue;
            var (sentenceStart, sentenceLength) = SentenceAround(text, start);
            var clause = analysis.Clauses.FirstOrDefault(c => c.Start <= start && start < c.Start + Math.Max(1, c.Length));
            var positive = clause.Sentiment.Polarity switch
            {
                Text.Polarity.Positive => true,
                Text.Polarity.Neutral => SentenceIsPositive(text.Substring(sentenceStart, sentenceLength), language, sentiment),
                _ => false,
            };
            if (positive) praise.Add(new FoundPraise(unit, sentenceStart, Math.Min(sentenceLength, MaxExcerptLength)));
        }
        return praise;
    }

    private static bool SentenceIsPositive(string sentence, string language, Text.ISentimentAnalyzer sentiment) =>
        sentiment.Score(sentence, language).Polarity == Text.Polarity.Positive;

    /// <summary>The sentence holding position <paramref name="at"/>, without the spaces around it.</summary>
    public static (int Start, int Length) SentenceAround(string text, int at)
    {
        var start = at;
        while (start > 0 && !EndsSentence(text, start - 1)) start--;
        var end = at;
        while (end < text.Length && !EndsSentence(text, end)) end++;
        if (end < text.Length) end++; // keep its full stop
        while (start < end && char.IsWhiteSpace(text[start])) start++;
        while (end > start && char.IsWhiteSpace(text[end - 1])) end--;
        return (start, end - start);
    }

    /// <summary>Full stops end a sentence when a space or the end follows ("example.com", "3.5" go on); the others always do.</summary>
    private static bool EndsSentence(string text, int i) => text[i] switch
    {
        '.' or '!' or '?' => i + 1 == text.Length || char.IsWhiteSpace(text[i + 1]),
        '\n' or '。' or '！' or '？' or '；' => true,
        _ => false,
    };
}

/// <summary>The rules a unit must meet to be saved, as (field, problem) pairs; the registry adds those that need the other units.</summary>
public static class UnitRules
{
    public static IEnumerable<(string Field, string Problem)> Check(Unit unit, UnitTree tree)
    {
        if (unit.Name.Trim().Length == 0 || unit.Name.Length > Unit.MaxNameLength) yield return ("unit.name", $"unit.name is required, at most {Unit.MaxNameLength} characters.");
        if (unit.Aliases.Count > Unit.MaxAliases) yield return ("unit.aliases", $"unit.aliases may hold at most {Unit.MaxAliases} names.");
        for (var i = 0; i < unit.Aliases.Count; i++)
        {
            var alias = unit.Aliases[i];
            if (alias.Trim().Length < Unit.MinAliasLength || alias.Length > Unit.MaxAliasLength || alias != alias.Trim() || alias.Any(char.IsControl))
            {
                yield return ($"unit.aliases[{i}]", $"unit.aliases[{i}] must be {Unit.MinAliasLength}-{Unit.MaxAliasLength} characters without spaces at either end.");
            }
        }
        if (unit.Aliases.Distinct(StringComparer.OrdinalIgnoreCase).Count() != unit.Aliases.Count) yield return ("unit.aliases", "unit.aliases must not repeat a name.");

        if (tree.Find(unit.Key) is { } stored && stored.Kind != unit.Kind)
        {
            yield return ("unit.kind", $"unit.kind cannot change: '{unit.Key}' is a {Unit.KindName(stored.Kind)}; register a new key for a {Unit.KindName(unit.Kind)}.");
        }
        if (unit.ParentKey is { } parentKey)
        {
            if (parentKey == unit.Key) yield return ("unit.parent_key", "unit.parent_key cannot be the unit itself.");
            else if (tree.Find(parentKey) is not { } parent) yield return ("unit.parent_key", $"unit.parent_key '{parentKey}' is not a registered unit (see ListUnits).");
            else if (!Unit.CanHold(parent.Kind, unit.Kind))
            {
                yield return ("unit.parent_key", $"a {Unit.KindName(unit.Kind)} cannot be under a {Unit.KindName(parent.Kind)}: stores hold teams and agents, teams hold agents.");
            }
        }

        // Two units of one store (or two standing on their own) may not share a name: praise naming it could not tell them apart.
        var store = unit.Kind == UnitKind.Store ? unit.Key : unit.ParentKey is null ? null : tree.StoreOf(unit.ParentKey);
        for (var i = 0; i < unit.Aliases.Count; i++)
        {
            if (tree.Aliases.Named(unit.Aliases[i]).FirstOrDefault(u => u.Key != unit.Key && tree.StoreOf(u.Key) == store) is { } clash)
            {
                yield return ($"unit.aliases[{i}]", $"unit.aliases[{i}] '{unit.Aliases[i]}' already names '{clash.Key}' in the same store: praise naming it could not tell them apart.");
            }
        }
    }

    /// <summary>"Ana  Lima" and "Ana Lima" are one name: inner runs of spaces become one.</summary>
    public static string NormalizeAlias(string alias)
    {
        var builder = new StringBuilder(alias.Length);
        foreach (var c in alias.Normalize(NormalizationForm.FormC))
        {
            if (char.IsWhiteSpace(c) && builder.Length > 0 && builder[^1] == ' ') continue;
            builder.Append(char.IsWhiteSpace(c) ? ' ' : c);
        }
        return builder.ToString();
    }
}
