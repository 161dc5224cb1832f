namespace CxMesh.Scoring.Domain;

/// <summary>A touchpoint ("journey|touchpoint") a rule asks for, and how many times.</summary>
public sealed record TouchpointCount(string Touchpoint, int MinCount);

/// <summary>What a customer must have done, over their history, to be in a stage; every condition set must hold.</summary>
public sealed record StageRule(int MinPurchases = 0, int MinPurchaseMonths = 0, int MinReferrals = 0, bool Promoter = false,
    IReadOnlyList<TouchpointCount>? Touchpoints = null)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<TouchpointCount> RequiredTouchpoints => Touchpoints ?? [];

    public static string TouchpointKey(string journey, string touchpoint) => $"{journey}|{touchpoint}";

    public bool IsMetBy(CustomerTotals t) =>
        t.Purchases >= MinPurchases && t.PurchaseMonths >= MinPurchaseMonths && t.Referrals >= MinReferrals
        && (!Promoter || t.LastRating >= 9)
        && RequiredTouchpoints.All(r => t.Touchpoints.GetValueOrDefault(r.Touchpoint) >= r.MinCount);
}

public sealed record StageDefinition(string Key, string Name, string Description, StageRule Rule);

/// <summary>Ordered stages, lowest first: a customer is in the highest stage whose rule they meet.</summary>
public sealed record StageModel(int Version, IReadOnlyList<StageDefinition> Stages)
{
    /// <summary>
    /// The default ladder, after the loyalty ladder of relationship marketing (Christopher, Payne and Ballantyne:
    /// prospect, customer, client, supporter, advocate, partner), made measurable from journeys: buying once, buying
    /// again, buying in three months and in six (a habit, then loyalty), bringing a friend, and bringing three while
    /// staying a promoter.
    /// </summary>
    public static readonly StageModel Default = new(1,
    [
        new("prospect", "Prospect", "Has met us: any touchpoint or answer, nothing bought yet.", new StageRule()),
        new("first-purchase", "First purchase", "Has bought once.", new StageRule(MinPurchases: 1)),
        new("repeat", "Repeat", "Has bought again.", new StageRule(MinPurchases: 2)),
        new("regular", "Regular", "Has bought in three different months.", new StageRule(MinPurchases: 3, MinPurchaseMonths: 3)),
        new("loyal", "Loyal", "Has bought in six different months.", new StageRule(MinPurchases: 6, MinPurchaseMonths: 6)),
        new("advocate", "Advocate", "A regular buyer who has brought a friend.", new StageRule(MinPurchases: 3, MinPurchaseMonths: 3, MinReferrals: 1)),
        new("partner", "Partner", "A loyal promoter who has brought three friends.",
            new StageRule(MinPurchases: 6, MinPurchaseMonths: 6, MinReferrals: 3, Promoter: true)),
    ]);

    public int RankOf(string stage)
    {
        for (var i = 0; i < Stages.Count; i++)
        {
            if (Stages[i].Key == stage) return i;
        }
        return -1;
    }

    /// <summary>The highest stage whose rule the customer meets; "" when none.</summary>
    public string StageOf(CustomerTotals totals)
    {
        for (var i = Stages.Count - 1; i >= 0; i--)
        {
            if (Stages[i].Rule.IsMetBy(totals)) return Stages[i].Key;
        }
        return "";
    }
}

/// <summary>A customer's running totals at the end of a month.</summary>
public sealed class CustomerTotals
{
    public int Purchases { get; set; }
    public int PurchaseMonths { get; set; }
    public int Referrals { get; set; }
    public int LastRating { get; set; } = -1;
    public Dictionary<string, int> Touchpoints { get; } = new(StringComparer.Ordinal);
}

/// <summary>One month of a customer's history: what they did, whom they brought, their last NPS answer.</summary>
public sealed record HistoryMonth(DateOnly Month, CustomerMonth Activity, int Referrals, int? Rating, IReadOnlyDictionary<string, int> Touchpoints);

/// <summary>What a stage holds in a month: active customers with their month after, and the NPS answers given in it.</summary>
public readonly record struct StageMonth(NextMonth Active, NpsTally Answers)
{
    public static StageMonth operator +(StageMonth a, StageMonth b) => new(a.Active + b.Active, a.Answers + b.Answers);

    public static StageMonth operator -(StageMonth a, StageMonth b) => new(a.Active - b.Active,
        new NpsTally(a.Answers.Promoters - b.Answers.Promoters, a.Answers.Passives - b.Answers.Passives, a.Answers.Detractors - b.Answers.Detractors));
}

/// <summary>
/// A customer's part in the stage statistics: their stage moves by month, their stage's figures by month, and the
/// experiences of each month they started in a stage (with whether they moved up). The statistics are sums of every
/// customer's part, so a change to one customer's history moves them by (new part − old part).
/// </summary>
public sealed class StageContribution
{
    public const string AllExperiences = "";

    public Dictionary<(DateOnly Month, string From, string To), long> Moves { get; } = [];
    public Dictionary<(DateOnly Month, string Stage), StageMonth> Figures { get; } = [];
    public Dictionary<(DateOnly Month, string From, string Experience), (long Customers, long MovedUp)> Experiences { get; } = [];

    /// <summary>The stage after each month of the history, in order.</summary>
    public List<(DateOnly Month, string Stage)> Path { get; } = [];

    public static string TouchpointExperience(string touchpoint) => "touchpoint:" + touchpoint;

    public static string NpsExperience(int rating) => "nps:" + NpsTally.Classify(rating).ToString().ToLowerInvariant();

    /// <summary>Replays a customer's history (months in any order) under <paramref name="model"/>.</summary>
    public static StageContribution Of(StageModel model, IReadOnlyList<HistoryMonth> history)
    {
        var c = new StageContribution();
        var byMonth = history.ToDictionary(h => h.Month);
        var totals = new CustomerTotals();
        string? stage = null;
        foreach (var month in history.OrderBy(h => h.Month))
        {
            totals.Purchases += month.Activity.Purchases;
            if (month.Activity.Purchases > 0) totals.PurchaseMonths++;
            totals.Referrals += month.Referrals;
            if (month.Rating is { } rating) totals.LastRating = rating;
            foreach (var (touchpoint, count) in month.Touchpoints) totals.Touchpoints[touchpoint] = totals.Touchpoints.GetValueOrDefault(touchpoint) + count;

            var now = model.StageOf(totals);
            if (now != stage) c.Moves[(month.Month, stage ?? "", now)] = c.Moves.GetValueOrDefault((month.Month, stage ?? "", now)) + 1;
            c.Path.Add((month.Month, now));
            var active = month.Activity.Touchpoints > 0;
            var figures = new StageMonth(
                active ? NextMonth.Of(byMonth.TryGetValue(month.Month.AddMonths(1), out var next) ? next.Activity : default) : default,
                month.Rating is { } r ? NpsTally.Of(r) : default);
            if (figures != default) c.Figures[(month.Month, now)] = c.Figures.GetValueOrDefault((month.Month, now)) + figures;

            // The path map: months a customer was active in, having started them in a stage.
            if (active && stage is { Length: > 0 } from)
            {
                var movedUp = model.RankOf(now) > model.RankOf(from) ? 1 : 0;
                void Count(string experience)
                {
                    var key = (month.Month, from, experience);
                    var (customers, moved) = c.Experiences.GetValueOrDefault(key);
                    c.Experiences[key] = (customers + 1, moved + movedUp);
                }
                Count(AllExperiences);
                foreach (var touchpoint in month.Touchpoints.Keys) Count(TouchpointExperience(touchpoint));
                if (month.Rating is { } answered) Count(NpsExperience(answered));
            }
            stage = now;
        }
        return c;
    }

    /// <summary>This part minus <paramref name="before"/>: what changes in the statistics when a customer's part changes.</summary>
    public (Dictionary<(DateOnly, string, string), long> Moves, Dictionary<(DateOnly, string), StageMonth> Figures,
        Dictionary<(DateOnly, string, string), (long, long)> Experiences) Minus(StageContribution before)
    {
        var moves = new Dictionary<(DateOnly, string, string), long>(Moves);
        foreach (var (key, n) in before.Moves) moves[key] = moves.GetValueOrDefault(key) - n;
        var figures = new Dictionary<(DateOnly, string), StageMonth>(Figures);
        foreach (var (key, f) in before.Figures) figures[key] = figures.GetValueOrDefault(key) - f;
        var experiences = new Dictionary<(DateOnly, string, string), (long, long)>(Experiences);
        foreach (var (key, (n, m)) in before.Experiences)
        {
            var (n0, m0) = experiences.GetValueOrDefault(key);
            experiences[key] = (n0 - n, m0 - m);
        }
        return (moves.Where(m => m.Value != 0).ToDictionary(), figures.Where(f => f.Value != default).ToDictionary(),
            experiences.Where(e => e.Value != (0, 0)).ToDictionary());
    }
}
