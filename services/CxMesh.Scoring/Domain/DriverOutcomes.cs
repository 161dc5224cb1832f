namespace CxMesh.Scoring.Domain;

/// <summary>
/// What key-driver analysis explains, and the populations it sums: the NPS rating, detractor and promoter flags over
/// responses with an NPS rating (eNPS in the employee scope), the CSAT rating over responses with a CSAT rating; the
/// overall sentiment of the text over every item with a verbatim, rated or not (complaints, reviews and call notes
/// included). The sentiment outcome's sums are also the voice trend: items with text, their mean sentiment, and per
/// theme its mentions, negative mentions and mean sentiment.
/// </summary>
public static class DriverOutcomes
{
    public const string Nps = "nps";
    public const string Detractor = "detractor";
    public const string Promoter = "promoter";
    public const string Csat = "csat";
    public const string Sentiment = "sentiment";

    /// <summary>Sentiment within ±this is neutral: below −this a mention (or an item) counts as negative, above +this as positive.</summary>
    public const double Neutral = 0.05;

    /// <summary>The responses an outcome is summed over: the NPS outcomes share the NPS-rated responses.</summary>
    public static string PopulationOf(string outcome) => outcome is Detractor or Promoter ? Nps : outcome;
}
