namespace CxMesh.Partner.Domain;

/// <summary>
/// What a partner may be given of a feedback item: the fields its agreement names, and never more. Contact details and
/// customer ids are not a field at all; a partner copy keeps a keyed hash of the customer id only to honour erasures.
/// </summary>
public static class SharingPolicy
{
    public const string Ratings = "ratings";
    public const string Sentiment = "sentiment";
    public const string Themes = "themes";
    public const string RedactedVerbatims = "redacted_verbatims";

    public static IReadOnlyList<string> Fields { get; } = [Ratings, Sentiment, Themes, RedactedVerbatims];

    /// <summary>The fields of an item a partner holds under an agreement that shares <paramref name="agreed"/>.</summary>
    public static SharedItem Share(IReadOnlyCollection<string> agreed, ItemToShare item)
    {
        var ratings = agreed.Contains(Ratings);
        return new SharedItem(
            ratings ? item.Nps : null,
            ratings ? item.Csat : null,
            ratings && item.Csat is not null ? item.CsatTopBox : null,
            ratings ? item.Ces : null,
            // An item without words has no sentiment (its score reads 0 for "none"): shared only with words.
            agreed.Contains(Sentiment) && item.HasWords ? item.Sentiment : null,
            agreed.Contains(Themes) ? item.Themes : null,
            agreed.Contains(RedactedVerbatims) ? item.RedactedVerbatim : null);
    }
}

/// <summary>An item as feedback announced it, before any field is withheld.</summary>
public sealed record ItemToShare(int? Nps, int? Csat, bool CsatTopBox, int? Ces, bool HasWords, double Sentiment,
    IReadOnlyList<(string Key, double Sentiment)> Themes, string? RedactedVerbatim);

/// <summary>What a partner copy holds of an item: null where the agreement does not share it.</summary>
public sealed record SharedItem(int? Nps, int? Csat, bool? CsatTopBox, int? Ces, double? Sentiment,
    IReadOnlyList<(string Key, double Sentiment)>? Themes, string? RedactedVerbatim);
