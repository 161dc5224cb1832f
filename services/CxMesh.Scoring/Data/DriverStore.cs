using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Domain;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Data;

public readonly record struct DriverKey(string Scope, string Outcome, DateOnly Day, string A, string B);

public readonly record struct DriverDelta(long Cnt, long Neg, double S1, double S2, double S3)
{
    public static DriverDelta operator +(DriverDelta a, DriverDelta b) => new(a.Cnt + b.Cnt, a.Neg + b.Neg, a.S1 + b.S1, a.S2 + b.S2, a.S3 + b.S3);
}

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
        IReadOnlyList<(string Outcome, double Y)> outcomes, IReadOnlyList<(string Theme, double X)> themes, string pairs = Pairs)
    {
        if (outcomes.Count == 0) return;
        var sorted = themes.DistinctBy(t => t.Theme).OrderBy(t => t.Theme, StringComparer.Ordinal).ToList();
        void Add(DriverKey key, DriverDelta delta) => rows[key] = rows.GetValueOrDefault(key) + delta;
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
