namespace CxMesh.Scoring.Domain;

/// <summary>What a response can be scored by. The order is the order of dimensions in a scope's key.</summary>
public enum ScopeDimension
{
    Journey,
    Touchpoint,
    Channel,
    Product,
    Lot,
    Store,
    Segment,
    Partner,

    /// <summary>The verbatim's language. Stands alone: never paired with another dimension.</summary>
    Language,

    /// <summary>customer or employee. Stands alone.</summary>
    Audience,

    /// <summary>A registered store, team or agent; a response counts in its unit and every unit above. Stands alone.</summary>
    Unit,
}

/// <summary>One dimension of a scope; <paramref name="Attribute"/> names the segment attribute for segment dimensions.</summary>
public sealed record ScopePart(ScopeDimension Dimension, string Value, string? Attribute = null)
{
    public const int MaxUnitKeyLength = 64;

    /// <summary>"journey=coffee", "segment.plan=monthly"; '%', '|' and '=' in values are percent-encoded so keys never collide.</summary>
    public string Key => $"{Name}={Escape(Value)}";

    public string Name => Dimension == ScopeDimension.Segment ? $"segment.{Attribute}" : Dimension.ToString().ToLowerInvariant();

    /// <summary>
    /// Language, audience and unit are scopes of their own, not combined with another dimension (they would double every
    /// pair; a unit comes with the units above it, so would triple them).
    /// </summary>
    public bool StandsAlone => Dimension is ScopeDimension.Language or ScopeDimension.Audience or ScopeDimension.Unit;

    public static string Escape(string value) => value.Replace("%", "%25").Replace("|", "%7C").Replace("=", "%3D");

    public static string Unescape(string value) => value.Replace("%3D", "=").Replace("%7C", "|").Replace("%25", "%");
}

/// <summary>
/// What a score is about: no parts means all feedback, otherwise one or two dimensions of different kinds. The key
/// is canonical (parts ordered by dimension, then attribute), so the same scope always lands on the same rows.
/// </summary>
public sealed record ScoreScope
{
    public const int MaxParts = 2;
    public const string Employees = "employee";
    public const string Customers = "customer";
    public const string AllKey = "all";

    public ScoreScope(IEnumerable<ScopePart> parts)
    {
        Parts = parts.OrderBy(p => p.Dimension).ThenBy(p => p.Attribute, StringComparer.Ordinal).ToList();
    }

    public static readonly ScoreScope All = new(new List<ScopePart>());

    public IReadOnlyList<ScopePart> Parts { get; }

    public string Key => Parts.Count == 0 ? AllKey : string.Join("|", Parts.Select(p => p.Key));

    public static ScoreScope Journey(string journeyId) => new(new List<ScopePart> { new(ScopeDimension.Journey, journeyId) });

    public bool Equals(ScoreScope? other) => other is not null && other.Key == Key;

    public override int GetHashCode() => Key.GetHashCode(StringComparison.Ordinal);

    /// <summary>Parses a key made by <see cref="Key"/> back into its parts.</summary>
    public static ScoreScope Parse(string key)
    {
        if (key == AllKey) return All;
        var parts = new List<ScopePart>();
        foreach (var part in key.Split('|'))
        {
            var at = part.IndexOf('=');
            var (name, value) = (part[..at], ScopePart.Unescape(part[(at + 1)..]));
            parts.Add(name.StartsWith("segment.", StringComparison.Ordinal)
                ? new ScopePart(ScopeDimension.Segment, value, name["segment.".Length..])
                : new ScopePart(Enum.Parse<ScopeDimension>(name, ignoreCase: true), value));
        }
        return new ScoreScope(parts);
    }

    /// <summary>The scopes a response with these parts counts in: all, each part alone, and each two of different kinds together.</summary>
    public static IReadOnlyList<ScoreScope> ScopesOf(IReadOnlyList<ScopePart> parts)
    {
        var scopes = new List<ScoreScope>(1 + parts.Count + parts.Count * (parts.Count - 1) / 2) { All };
        for (var i = 0; i < parts.Count; i++)
        {
            scopes.Add(new ScoreScope(new List<ScopePart> { parts[i] }));
            for (var j = i + 1; j < parts.Count; j++)
            {
                // Two parts of one kind (a response concerning two partners) make no scope together; language and audience stand alone.
                if (parts[i].Name != parts[j].Name && !parts[i].StandsAlone && !parts[j].StandsAlone) scopes.Add(new ScoreScope(new List<ScopePart> { parts[i], parts[j] }));
            }
        }
        return scopes;
    }

    /// <summary>
    /// Key-driver and voice statistics are kept for all and for each single dimension (not pairs). An employee's words
    /// count only in the employee scope (audience=employee): all and every other scope are customers' voice.
    /// </summary>
    public static IReadOnlyList<ScoreScope> DriverScopesOf(IReadOnlyList<ScopePart> parts)
    {
        if (parts.FirstOrDefault(p => p.Dimension == ScopeDimension.Audience) is { Value: Employees } employees) return [new ScoreScope(new List<ScopePart> { employees })];
        var scopes = new List<ScoreScope> { All };
        scopes.AddRange(parts.DistinctBy(p => p.Key).Select(p => new ScoreScope(new List<ScopePart> { p })));
        return scopes;
    }
}
