using System.Globalization;
using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Domain;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Data;

public readonly record struct DriverKey(string Scope, string Outcome, DateOnly Day, string A, string B);

public readonly record struct DriverDelta(long Cnt, long Neg, double S1, double S2, double S3, double S4 = 0, double S5 = 0)
{
    public static DriverDelta operator +(DriverDelta a, DriverDelta b) =>
        new(a.Cnt + b.Cnt, a.Neg + b.Neg, a.S1 + b.S1, a.S2 + b.S2, a.S3 + b.S3, a.S4 + b.S4, a.S5 + b.S5);

    public static DriverDelta operator *(int sign, DriverDelta d) => new(sign * d.Cnt, sign * d.Neg, sign * d.S1, sign * d.S2, sign * d.S3, sign * d.S4, sign * d.S5);

    public DriverRow ToRow() => new(Cnt, Neg, S1, S2, S3, S4, S5);
}

/// <summary>
/// What one feedback item added to the driver rows (driver_items, migration 0004): the scopes it counts in, the
/// outcomes of a rated response, the text sentiment of an item with a verbatim, and the themes it was summed with.
/// <paramref name="Attributes"/> are its ratings of attribute questions, each with the population (<see cref="DriverOutcomes.PopulationOf"/>)
/// of the outcome it explains; they are not recorded (a re-tag leaves them where they are).
/// </summary>
public sealed record DriverItem(
    Guid FeedbackId, DateOnly Day, IReadOnlyList<string> Scopes, IReadOnlyList<(string Outcome, double Y)> Outcomes, double? TextSentiment,
    IReadOnlyList<(string Theme, double X)> Themes, long TaxonomyVersion, IReadOnlyList<(string Population, string Question, double X)>? Attributes = null);

/// <summary>
/// Key-driver sums per scope, outcome and day (see migration 0002): upserted with commutative increments in the
/// handler's transaction; read back for a window as one row per theme and per pair of themes.
/// </summary>
public sealed class DriverStore([FromKeyedServices(ScoringModule.Name)] ServiceDatabase database)
{
    /// <summary>The pair rows of the text population (<see cref="DriverOutcomes.Sentiment"/>).</summary>
    public const string TextPairs = "*text";

    /// <summary>
    /// Where the pair rows of an outcome's population are ("*nps", "*csat", "*text"): a pair's sums do not depend on
    /// the outcome, only on the responses summed, so the outcomes of one population share them.
    /// </summary>
    public static string PairsOf(string outcome) =>
        outcome == DriverOutcomes.Sentiment ? TextPairs : "*" + DriverOutcomes.PopulationOf(outcome);

    /// <summary>
    /// One response's contribution to the rows of each of its scopes (see migrations 0002 and 0006), for the outcomes
    /// of one population, added into <paramref name="rows"/>. The outcome row's <c>neg</c> counts negative outcomes
    /// (only the sentiment outcome can be negative).
    /// </summary>
    private static void Accumulate(Dictionary<DriverKey, DriverDelta> rows, IReadOnlyList<string> scopeKeys, DateOnly day,
        IReadOnlyList<(string Outcome, double Y)> outcomes, IReadOnlyList<(string Key, double X)> themes,
        IReadOnlyList<(string Key, double X)> attributes, string pairs, int sign)
    {
        void Add(DriverKey key, DriverDelta delta) => rows[key] = rows.GetValueOrDefault(key) + sign * delta;
        foreach (var scope in scopeKeys)
        {
            foreach (var (outcome, y) in outcomes)
            {
                Add(new DriverKey(scope, outcome, day, "", ""), new DriverDelta(1, y < -DriverOutcomes.Neutral ? 1 : 0, y, y * y, 0));
                foreach (var (theme, x) in themes) Add(new DriverKey(scope, outcome, day, theme, ""), new DriverDelta(1, x < -DriverOutcomes.Neutral ? 1 : 0, x, x * x, x * y, y, y * y));
                foreach (var (attribute, x) in attributes) Add(new DriverKey(scope, outcome, day, attribute, ""), new DriverDelta(1, 0, x, x * x, x * y, y, y * y));
            }
            for (var i = 0; i < themes.Count; i++)
            {
                for (var j = i + 1; j < themes.Count; j++) Add(new DriverKey(scope, pairs, day, themes[i].Key, themes[j].Key), new DriverDelta(1, 0, 0, 0, themes[i].X * themes[j].X));
            }
            for (var i = 0; i < attributes.Count; i++)
            {
                var (a, xa) = attributes[i];
                for (var j = i + 1; j < attributes.Count; j++)
                {
                    var (b, xb) = attributes[j];
                    Add(new DriverKey(scope, pairs, day, a, b), new DriverDelta(1, 0, xa, xa * xa, xa * xb, xb, xb * xb));
                }
            }
        }
    }

    /// <summary>
    /// An item's whole contribution (<paramref name="sign"/> 1), or its removal (−1): as a rated response to its outcomes,
    /// population by population, and as a voice with text to the sentiment outcome.
    /// </summary>
    public static void AccumulateItem(Dictionary<DriverKey, DriverDelta> rows, DriverItem item, int sign = 1)
    {
        var themes = item.Themes.DistinctBy(t => t.Theme).OrderBy(t => t.Theme, StringComparer.Ordinal).ToList();
        foreach (var population in item.Outcomes.Select(o => DriverOutcomes.PopulationOf(o.Outcome)).Distinct())
        {
            var attributes = (item.Attributes ?? []).Where(a => a.Population == population)
                .Select(a => (Key: DriverSums.AttributeKey(a.Question), a.X)).DistinctBy(a => a.Key).OrderBy(a => a.Key, StringComparer.Ordinal).ToList();
            Accumulate(rows, item.Scopes, item.Day, item.Outcomes.Where(o => DriverOutcomes.PopulationOf(o.Outcome) == population).ToList(),
                themes, attributes, PairsOf(population), sign);
        }
        if (item.TextSentiment is { } y) Accumulate(rows, item.Scopes, item.Day, [(DriverOutcomes.Sentiment, y)], themes, [], TextPairs, sign);
    }

    /// <summary>
    /// Records what the items added, in the write that added it. An item waiting with a re-tag (no day yet) is completed,
    /// and the themes it was summed with are recorded; returns the ids of those.
    /// </summary>
    public static async Task<IReadOnlySet<Guid>> RecordItemsAsync(WriteScope write, IReadOnlyList<DriverItem> items, CancellationToken ct)
    {
        if (items.Count == 0) return new HashSet<Guid>();
        var completed = await write.Connection.QueryAsync<Guid?>(new CommandDefinition(
            """
            insert into driver_items as d (feedback_id, day, scopes, outcomes, outcome_values, text_sentiment, themes, theme_scores, taxonomy_version)
            select id, day, string_to_array(sc, chr(31)), string_to_array(oc, chr(31)), string_to_array(ov, chr(31))::float8[], ts,
                   string_to_array(th, chr(31)), string_to_array(tx, chr(31))::float8[], v
            from unnest(@ids, @days, @scopes, @outcomes, @values, @sentiments, @themes, @scores, @versions) as r(id, day, sc, oc, ov, ts, th, tx, v)
            on conflict (feedback_id) do update set day = excluded.day, scopes = excluded.scopes, outcomes = excluded.outcomes,
                outcome_values = excluded.outcome_values, text_sentiment = excluded.text_sentiment, themes = excluded.themes,
                theme_scores = excluded.theme_scores, taxonomy_version = excluded.taxonomy_version
            where d.day is null
            returning case when xmax <> 0 then feedback_id end
            """,
            new
            {
                ids = items.Select(i => i.FeedbackId).ToArray(),
                days = items.Select(i => i.Day).ToArray(),
                scopes = items.Select(i => Join(i.Scopes)).ToArray(),
                outcomes = items.Select(i => Join(i.Outcomes.Select(o => o.Outcome))).ToArray(),
                values = items.Select(i => Numbers(i.Outcomes.Select(o => o.Y))).ToArray(),
                sentiments = items.Select(i => i.TextSentiment).ToArray(),
                themes = items.Select(i => ThemeKeys(i)).ToArray(),
                scores = items.Select(i => ThemeScores(i)).ToArray(),
                versions = items.Select(i => i.TaxonomyVersion).ToArray(),
            }, write.Transaction, cancellationToken: ct));
        return completed.OfType<Guid>().ToHashSet();
    }

    /// <summary>The items' records, locked for this write (ids in order, so concurrent writes lock alike).</summary>
    public static async Task<Dictionary<Guid, (DriverItem Item, bool Pending)>> LockItemsAsync(WriteScope write, IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        var rows = await write.Connection.QueryAsync<ItemRow>(new CommandDefinition(
            """
            select feedback_id as FeedbackId, day as Day, scopes as Scopes, outcomes as Outcomes, outcome_values as OutcomeValues,
                   text_sentiment as TextSentiment, themes as Themes, theme_scores as ThemeScores, taxonomy_version as TaxonomyVersion
            from driver_items where feedback_id = any(@ids) order by feedback_id for update
            """, new { ids = ids.Order().ToArray() }, write.Transaction, cancellationToken: ct));
        return rows.ToDictionary(r => r.FeedbackId, r => (r.ToItem(), r.Day is null));
    }

    /// <summary>The items that wait with a re-tag (one arrived before them): their themes and version.</summary>
    public static async Task<Dictionary<Guid, (IReadOnlyList<(string Theme, double X)> Themes, long Version)>> PendingAsync(
        WriteScope write, IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        if (ids.Count == 0) return [];
        var rows = await write.Connection.QueryAsync<ItemRow>(new CommandDefinition(
            """
            select feedback_id as FeedbackId, themes as Themes, theme_scores as ThemeScores, taxonomy_version as TaxonomyVersion
            from driver_items where feedback_id = any(@ids) and day is null
            """, new { ids = ids.ToArray() }, write.Transaction, cancellationToken: ct));
        return rows.ToDictionary(r => r.FeedbackId, r => (r.ThemesOf(), r.TaxonomyVersion));
    }

    /// <summary>
    /// Replaces the themes of scored items (their sums moved in this write) and stores re-tags that came before their
    /// item. Returns false when an item was scored meanwhile (the write must go round again).
    /// </summary>
    public static async Task<bool> RetagItemsAsync(WriteScope write, IReadOnlyList<DriverItem> scored, IReadOnlyList<DriverItem> waiting, CancellationToken ct)
    {
        object Themes(IReadOnlyList<DriverItem> items) => new
        {
            ids = items.Select(i => i.FeedbackId).ToArray(),
            themes = items.Select(ThemeKeys).ToArray(),
            scores = items.Select(ThemeScores).ToArray(),
            versions = items.Select(i => i.TaxonomyVersion).ToArray(),
        };
        const string Rows = "unnest(@ids, @themes, @scores, @versions) as r(id, th, tx, v)";
        if (scored.Count > 0)
        {
            await write.Connection.ExecuteAsync(new CommandDefinition(
                $"""
                update driver_items d set themes = string_to_array(r.th, chr(31)), theme_scores = string_to_array(r.tx, chr(31))::float8[], taxonomy_version = r.v
                from {Rows}
                where d.feedback_id = r.id
                """, Themes(scored), write.Transaction, cancellationToken: ct));
        }
        if (waiting.Count == 0) return true;
        var stored = await write.Connection.ExecuteAsync(new CommandDefinition(
            $"""
            insert into driver_items as d (feedback_id, themes, theme_scores, taxonomy_version)
            select r.id, string_to_array(r.th, chr(31)), string_to_array(r.tx, chr(31))::float8[], r.v from {Rows}
            on conflict (feedback_id) do update set themes = excluded.themes, theme_scores = excluded.theme_scores, taxonomy_version = excluded.taxonomy_version
            where d.day is null and d.taxonomy_version < excluded.taxonomy_version
            """, Themes(waiting), write.Transaction, cancellationToken: ct));
        return stored == waiting.Count;
    }

    /// <summary>Deletes driver rows a removal emptied (no response left in them).</summary>
    public static async Task DropEmptyAsync(WriteScope write, IEnumerable<DriverKey> keys, CancellationToken ct)
    {
        var rows = keys.ToList();
        if (rows.Count == 0) return;
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            delete from driver_daily d using unnest(@scopes, @outcomes, @days, @as, @bs) as k(scope_key, outcome, day, a, b)
            where d.scope_key = k.scope_key and d.outcome = k.outcome and d.day = k.day and d.a = k.a and d.b = k.b and d.cnt = 0
            """,
            new
            {
                scopes = rows.Select(r => r.Scope).ToArray(),
                outcomes = rows.Select(r => r.Outcome).ToArray(),
                days = rows.Select(r => r.Day).ToArray(),
                @as = rows.Select(r => r.A).ToArray(),
                bs = rows.Select(r => r.B).ToArray(),
            }, write.Transaction, cancellationToken: ct));
    }

    // Lists as flat text (joined by U+001F), split by Postgres: the cheapest way in, one row per item.
    private static string Join(IEnumerable<string> values) => string.Join('\u001f', values);

    private static string Numbers(IEnumerable<double> values) => string.Join('\u001f', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    private static string ThemeKeys(DriverItem item) => Join(item.Themes.Select(t => t.Theme));

    private static string ThemeScores(DriverItem item) => Numbers(item.Themes.Select(t => t.X));

    // Setters: Dapper fills array columns into properties.
    private sealed class ItemRow
    {
        public Guid FeedbackId { get; set; }
        public DateTime? Day { get; set; }
        public string[] Scopes { get; set; } = [];
        public string[] Outcomes { get; set; } = [];
        public double[] OutcomeValues { get; set; } = [];
        public double? TextSentiment { get; set; }
        public string[] Themes { get; set; } = [];
        public double[] ThemeScores { get; set; } = [];
        public long TaxonomyVersion { get; set; }

        public IReadOnlyList<(string Theme, double X)> ThemesOf() => Themes.Zip(ThemeScores).ToList();

        public DriverItem ToItem() => new(FeedbackId, Day is { } d ? DateOnly.FromDateTime(d) : default, Scopes, Outcomes.Zip(OutcomeValues).ToList(),
            TextSentiment, ThemesOf(), TaxonomyVersion);
    }

    /// <summary>Adds summed rows with commutative increments, inside the handler's transaction.</summary>
    public static async Task AddAsync(WriteScope write, IReadOnlyDictionary<DriverKey, DriverDelta> deltas, CancellationToken ct)
    {
        if (deltas.Count == 0) return;
        // In primary-key order, so concurrent transactions lock rows in the same order.
        var rows = deltas.OrderBy(r => r.Key.Scope, StringComparer.Ordinal).ThenBy(r => r.Key.Outcome, StringComparer.Ordinal).ThenBy(r => r.Key.Day)
            .ThenBy(r => r.Key.A, StringComparer.Ordinal).ThenBy(r => r.Key.B, StringComparer.Ordinal).ToList();
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into driver_daily as d (scope_key, outcome, day, a, b, cnt, neg, s1, s2, s3, s4, s5)
            select * from unnest(@scopes, @outcomes, @days, @as, @bs, @cnts, @negs, @s1, @s2, @s3, @s4, @s5)
            on conflict (scope_key, outcome, day, a, b) do update set
                cnt = d.cnt + excluded.cnt, neg = d.neg + excluded.neg,
                s1 = d.s1 + excluded.s1, s2 = d.s2 + excluded.s2, s3 = d.s3 + excluded.s3, s4 = d.s4 + excluded.s4, s5 = d.s5 + excluded.s5
            """,
            new
            {
                scopes = rows.Select(r => r.Key.Scope).ToArray(),
                outcomes = rows.Select(r => r.Key.Outcome).ToArray(),
                days = rows.Select(r => r.Key.Day).ToArray(),
                @as = rows.Select(r => r.Key.A).ToArray(),
                bs = rows.Select(r => r.Key.B).ToArray(),
                cnts = rows.Select(r => r.Value.Cnt).ToArray(),
                negs = rows.Select(r => r.Value.Neg).ToArray(),
                s1 = rows.Select(r => r.Value.S1).ToArray(),
                s2 = rows.Select(r => r.Value.S2).ToArray(),
                s3 = rows.Select(r => r.Value.S3).ToArray(),
                s4 = rows.Select(r => r.Value.S4).ToArray(),
                s5 = rows.Select(r => r.Value.S5).ToArray(),
            }, write.Transaction, cancellationToken: ct));
    }

    /// <summary>The sums of a window: as many rows as themes and pairs of themes, however many responses there were.</summary>
    public async Task<DriverSums> SumsAsync(string scopeKey, string outcome, DayWindow window, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(string Outcome, string A, string B, long Cnt, long Neg, double S1, double S2, double S3, double S4, double S5)>(new CommandDefinition(
            """
            select outcome, a, b, sum(cnt)::bigint, sum(neg)::bigint, sum(s1), sum(s2), sum(s3), sum(s4), sum(s5)
            from driver_daily
            where scope_key = @scopeKey and outcome in (@outcome, @pairs) and day between @start and @end
            group by outcome, a, b
            """, new { scopeKey, outcome, pairs = PairsOf(outcome), start = window.Start, end = window.End }, cancellationToken: ct));
        return SumsOf(outcome, rows.Select(r => (r.Outcome, r.A, r.B, new DriverRow(r.Cnt, r.Neg, r.S1, r.S2, r.S3, r.S4, r.S5))));
    }

    /// <summary>An outcome's sums from its rows and its population's pair rows, summed over the window.</summary>
    public static DriverSums SumsOf(string outcome, IEnumerable<(string Outcome, string A, string B, DriverRow Row)> rows)
    {
        long n = 0;
        double sumY = 0, sumYY = 0;
        var drivers = new Dictionary<string, DriverRow>(StringComparer.Ordinal);
        var pairs = new Dictionary<(string, string), DriverRow>();
        foreach (var (rowOutcome, a, b, row) in rows)
        {
            if (rowOutcome != outcome) pairs[(a, b)] = row;
            else if (a.Length == 0) (n, sumY, sumYY) = (row.Count, row.S1, row.S2);
            else drivers[a] = row;
        }
        return new DriverSums(n, sumY, sumYY, drivers, pairs);
    }

    /// <summary>
    /// The text population's daily sums in a window (<see cref="DriverOutcomes.Sentiment"/>): per day, the items row
    /// (theme "") and one row per theme; at most days × (themes + 1) rows, however many items there were.
    /// </summary>
    public async Task<IReadOnlyList<VoiceDay>> VoiceAsync(string scopeKey, DayWindow window, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(DateTime Day, string Theme, long Count, long Negative, double SentimentSum)>(new CommandDefinition(
            """
            select day::timestamp, a, cnt, neg, s1
            from driver_daily
            where scope_key = @scopeKey and outcome = @outcome and b = '' and day between @start and @end
            order by day
            """, new { scopeKey, outcome = DriverOutcomes.Sentiment, start = window.Start, end = window.End }, cancellationToken: ct));
        return rows.Select(r => new VoiceDay(DateOnly.FromDateTime(r.Day), r.Theme, r.Count, r.Negative, r.SentimentSum)).ToList();
    }
}
