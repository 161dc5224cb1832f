using System.Globalization;
using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Domain;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Data;

public readonly record struct DriverKey(string Scope, string Outcome, DateOnly Day, string A, string B);

public readonly record struct DriverDelta(long Cnt, long Neg, double S1, double S2, double S3)
{
    public static DriverDelta operator +(DriverDelta a, DriverDelta b) => new(a.Cnt + b.Cnt, a.Neg + b.Neg, a.S1 + b.S1, a.S2 + b.S2, a.S3 + b.S3);

    public static DriverDelta operator *(int sign, DriverDelta d) => new(sign * d.Cnt, sign * d.Neg, sign * d.S1, sign * d.S2, sign * d.S3);
}

/// <summary>
/// What one feedback item added to the driver rows (driver_items, migration 0004): the scopes it counts in, the
/// outcomes of a rated response, the text sentiment of an item with a verbatim, and the themes it was summed with.
/// </summary>
public sealed record DriverItem(
    Guid FeedbackId, DateOnly Day, IReadOnlyList<string> Scopes, IReadOnlyList<(string Outcome, double Y)> Outcomes, double? TextSentiment,
    IReadOnlyList<(string Theme, double X)> Themes, long TaxonomyVersion);

/// <summary>
/// Key-driver sums per scope, outcome and day (see migration 0002): upserted with commutative increments in the
/// handler's transaction; read back for a window as one row per theme and per pair of themes.
/// </summary>
public sealed class DriverStore([FromKeyedServices(ScoringModule.Name)] ServiceDatabase database)
{
    /// <summary>
    /// The outcome under which pair rows of rated responses are kept: Σxₐx_b does not depend on the outcome, only on
    /// the responses summed, so the text outcome (every item with a verbatim, rated or not) keeps its own.
    /// </summary>
    public const string Pairs = "*";

    /// <summary>The pair rows of the text population (<see cref="DriverOutcomes.Sentiment"/>).</summary>
    public const string TextPairs = "*text";

    /// <summary>Where the pair rows of an outcome's population are.</summary>
    public static string PairsOf(string outcome) => outcome == DriverOutcomes.Sentiment ? TextPairs : Pairs;

    /// <summary>
    /// One response's contribution to the rows of each of its scopes (see migration 0002), added into <paramref name="rows"/>.
    /// The outcome row's <c>neg</c> counts negative outcomes (only the sentiment outcome can be negative).
    /// </summary>
    public static void Accumulate(Dictionary<DriverKey, DriverDelta> rows, IEnumerable<string> scopeKeys, DateOnly day,
        IReadOnlyList<(string Outcome, double Y)> outcomes, IReadOnlyList<(string Theme, double X)> themes, string pairs = Pairs, int sign = 1)
    {
        if (outcomes.Count == 0) return;
        var sorted = themes.DistinctBy(t => t.Theme).OrderBy(t => t.Theme, StringComparer.Ordinal).ToList();
        void Add(DriverKey key, DriverDelta delta) => rows[key] = rows.GetValueOrDefault(key) + sign * delta;
        foreach (var scope in scopeKeys)
        {
            foreach (var (outcome, y) in outcomes)
            {
                Add(new DriverKey(scope, outcome, day, "", ""), new DriverDelta(1, y < -DriverOutcomes.Neutral ? 1 : 0, y, y * y, 0));
                foreach (var (theme, x) in sorted) Add(new DriverKey(scope, outcome, day, theme, ""), new DriverDelta(1, x < -DriverOutcomes.Neutral ? 1 : 0, x, x * x, x * y));
            }
            for (var i = 0; i < sorted.Count; i++)
            {
                for (var j = i + 1; j < sorted.Count; j++)
                {
                    Add(new DriverKey(scope, pairs, day, sorted[i].Theme, sorted[j].Theme), new DriverDelta(1, 0, 0, 0, sorted[i].X * sorted[j].X));
                }
            }
        }
    }

    /// <summary>
    /// An item's whole contribution (<paramref name="sign"/> 1), or its removal (−1): as a rated response to its outcomes,
    /// and as a voice with text to the sentiment outcome.
    /// </summary>
    public static void AccumulateItem(Dictionary<DriverKey, DriverDelta> rows, DriverItem item, int sign = 1)
    {
        Accumulate(rows, item.Scopes, item.Day, item.Outcomes, item.Themes, Pairs, sign);
        if (item.TextSentiment is { } y) Accumulate(rows, item.Scopes, item.Day, [(DriverOutcomes.Sentiment, y)], item.Themes, TextPairs, sign);
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
            insert into driver_daily as d (scope_key, outcome, day, a, b, cnt, neg, s1, s2, s3)
            select * from unnest(@scopes, @outcomes, @days, @as, @bs, @cnts, @negs, @s1, @s2, @s3)
            on conflict (scope_key, outcome, day, a, b) do update set
                cnt = d.cnt + excluded.cnt, neg = d.neg + excluded.neg,
                s1 = d.s1 + excluded.s1, s2 = d.s2 + excluded.s2, s3 = d.s3 + excluded.s3
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
            }, write.Transaction, cancellationToken: ct));
    }

    /// <summary>The sums of a window: as many rows as themes and pairs of themes, however many responses there were.</summary>
    public async Task<DriverSums> SumsAsync(string scopeKey, string outcome, DayWindow window, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(string Outcome, string A, string B, long Cnt, long Neg, double S1, double S2, double S3)>(new CommandDefinition(
            """
            select outcome, a, b, sum(cnt)::bigint, sum(neg)::bigint, sum(s1), sum(s2), sum(s3)
            from driver_daily
            where scope_key = @scopeKey and outcome in (@outcome, @pairs) and day between @start and @end
            group by outcome, a, b
            """, new { scopeKey, outcome, pairs = PairsOf(outcome), start = window.Start, end = window.End }, cancellationToken: ct));
        long n = 0;
        double sumY = 0, sumYY = 0;
        var themes = new Dictionary<string, ThemeSums>(StringComparer.Ordinal);
        var cross = new Dictionary<(string, string), double>();
        foreach (var r in rows)
        {
            if (r.Outcome != outcome) cross[(r.A, r.B)] = r.S3;
            else if (r.A.Length == 0) (n, sumY, sumYY) = (r.Cnt, r.S1, r.S2);
            else themes[r.A] = new ThemeSums(r.Cnt, r.Neg, r.S1, r.S2, r.S3);
        }
        // Σx² of a theme is its own cross product.
        foreach (var (theme, sums) in themes) cross[(theme, theme)] = sums.SumXX;
        return new DriverSums(n, sumY, sumYY, themes, cross);
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
