using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Domain;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Data;

/// <summary>The statistics of one question (or, with <see cref="ScoreStore.AllQuestions"/>, every question of a metric).</summary>
public sealed record MetricKey(string Metric, string QuestionId);

public sealed record StoredStats(RatingStats Stats, long Version);

public sealed record HotRow(string ScopeKey, MetricKey Metric, RatingStats Last7, RatingStats Last30, RatingStats Last90, RatingStats Previous7, long Version)
{
    public RatingStats For(int days) => days switch { 7 => Last7, 30 => Last30, _ => Last90 };
}

/// <summary>Per-day rating statistics by scope, metric and question: commutative upserts in, window sums out.</summary>
public sealed class ScoreStore([FromKeyedServices(ScoringModule.Name)] ServiceDatabase database)
{
    public const string AllQuestions = "*";

    public static string MetricName(MetricKind metric) => metric.ToString().ToLowerInvariant();

    /// <summary>
    /// Adds rating statistics (already summed per scope, question and day) inside the handler's transaction, records
    /// the questions' definitions, and bumps the touched scopes' versions.
    /// </summary>
    public static async Task AddRatingsAsync(WriteScope write,
        IReadOnlyCollection<(string Scope, QuestionDefinition Question, DateOnly Day, RatingStats Stats)> deltas, CancellationToken ct)
    {
        if (deltas.Count == 0) return;
        // Sorted so that concurrent transactions lock rows in the same order and cannot deadlock.
        var rows = deltas.OrderBy(r => r.Scope, StringComparer.Ordinal).ThenBy(r => MetricName(r.Question.Metric), StringComparer.Ordinal)
            .ThenBy(r => r.Question.Id, StringComparer.Ordinal).ThenBy(r => r.Day).ToList();
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into rating_daily as s (scope_key, metric, question_id, day, n, top_box, passives, detractors, sum_value, sum_squares)
            select * from unnest(@keys, @metrics, @questions, @days, @n, @top, @passives, @detractors, @sums, @squares)
            on conflict (scope_key, metric, question_id, day) do update set
                n = s.n + excluded.n,
                top_box = s.top_box + excluded.top_box,
                passives = s.passives + excluded.passives,
                detractors = s.detractors + excluded.detractors,
                sum_value = s.sum_value + excluded.sum_value,
                sum_squares = s.sum_squares + excluded.sum_squares
            """,
            new
            {
                keys = rows.Select(r => r.Scope).ToArray(),
                metrics = rows.Select(r => MetricName(r.Question.Metric)).ToArray(),
                questions = rows.Select(r => r.Question.Id).ToArray(),
                days = rows.Select(r => r.Day).ToArray(),
                n = rows.Select(r => r.Stats.N).ToArray(),
                top = rows.Select(r => r.Stats.TopBox).ToArray(),
                passives = rows.Select(r => r.Stats.Passives).ToArray(),
                detractors = rows.Select(r => r.Stats.Detractors).ToArray(),
                sums = rows.Select(r => r.Stats.Sum).ToArray(),
                squares = rows.Select(r => r.Stats.SumSquares).ToArray(),
            }, write.Transaction, cancellationToken: ct));
        var questions = rows.Select(r => r.Question).DistinctBy(q => q.Id).OrderBy(q => q.Id, StringComparer.Ordinal).ToList();
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into questions_seen (question_id, metric, scale_min, scale_max, higher_is_better)
            select * from unnest(@ids, @metrics, @mins, @maxes, @directions)
            on conflict (question_id) do update set metric = excluded.metric, scale_min = excluded.scale_min,
                scale_max = excluded.scale_max, higher_is_better = excluded.higher_is_better
            where (questions_seen.metric, questions_seen.scale_min, questions_seen.scale_max, questions_seen.higher_is_better)
                is distinct from (excluded.metric, excluded.scale_min, excluded.scale_max, excluded.higher_is_better)
            """,
            new
            {
                ids = questions.Select(q => q.Id).ToArray(),
                metrics = questions.Select(q => MetricName(q.Metric)).ToArray(),
                mins = questions.Select(q => q.ScaleMin).ToArray(),
                maxes = questions.Select(q => q.ScaleMax).ToArray(),
                directions = questions.Select(q => q.HigherIsBetter).ToArray(),
            }, write.Transaction, cancellationToken: ct));
        var keys = rows.Select(r => r.Scope).Distinct().Order(StringComparer.Ordinal).ToArray();
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into scope_versions as v (scope_key, version) select k, 1 from unnest(@keys) as k
            on conflict (scope_key) do update set version = v.version + 1
            """, new { keys }, write.Transaction, cancellationToken: ct));
    }

    private const string Columns =
        "coalesce(sum(n), 0)::bigint as n, coalesce(sum(top_box), 0)::bigint as topbox, coalesce(sum(passives), 0)::bigint as passives, " +
        "coalesce(sum(detractors), 0)::bigint as detractors, coalesce(sum(sum_value), 0)::float8 as sum, coalesce(sum(sum_squares), 0)::float8 as sumsquares";

    private const string MetricFilter = "metric = @metric and (@question = '*' or question_id = @question)";

    /// <summary>A window's statistics, with the scope's version read in the same snapshot.</summary>
    public async Task<StoredStats> SumAsync(string scopeKey, MetricKey metric, DayWindow window, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleAsync<StatsRow>(new CommandDefinition(
            $"""
            select {Columns}, coalesce((select version from scope_versions where scope_key = @scopeKey), 0) as version
            from rating_daily
            where scope_key = @scopeKey and {MetricFilter} and day between @start and @end
            """, new { scopeKey, metric = metric.Metric, question = metric.QuestionId, start = window.Start, end = window.End }, cancellationToken: ct));
        return new StoredStats(row.ToStats(), row.Version);
    }

    /// <summary>Per-day statistics of a window (days without responses absent).</summary>
    public async Task<IReadOnlyDictionary<DateOnly, RatingStats>> DailyAsync(string scopeKey, MetricKey metric, DayWindow window, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<DayRow>(new CommandDefinition(
            $"""
            select day::timestamp as day, {Columns}
            from rating_daily
            where scope_key = @scopeKey and {MetricFilter} and day between @start and @end
            group by day
            """, new { scopeKey, metric = metric.Metric, question = metric.QuestionId, start = window.Start, end = window.End }, cancellationToken: ct));
        return rows.ToDictionary(r => DateOnly.FromDateTime(r.Day), r => r.ToStats());
    }

    /// <summary>The window's statistics of every scope whose key matches a LIKE pattern and has the given number of parts.</summary>
    public async Task<IReadOnlyDictionary<string, RatingStats>> MatchingAsync(string keyPattern, int parts, MetricKey metric, DayWindow window, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<KeyRow>(new CommandDefinition(
            $"""
            select scope_key as scopekey, {Columns}
            from rating_daily
            where scope_key like @keyPattern escape '\' and array_length(string_to_array(scope_key, '|'), 1) = @parts
              and {MetricFilter} and day between @start and @end
            group by scope_key
            """, new { keyPattern, parts, metric = metric.Metric, question = metric.QuestionId, start = window.Start, end = window.End }, cancellationToken: ct));
        return rows.ToDictionary(r => r.ScopeKey, r => r.ToStats());
    }

    public async Task<(int ScaleMin, int ScaleMax, bool HigherIsBetter)?> QuestionAsync(string questionId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<(int, int, bool)?>(new CommandDefinition(
            "select scale_min, scale_max, higher_is_better from questions_seen where question_id = @questionId", new { questionId }, cancellationToken: ct));
    }

    /// <summary>
    /// For the hot-score refresher: the last 7, 30 and 90 days and the 7 before the last 7, of every metric and
    /// question (and every NPS or eNPS question together) of the given scopes, with their versions. One query.
    /// </summary>
    public async Task<IReadOnlyList<HotRow>> HotAsync(IReadOnlyCollection<string> scopeKeys, DateOnly today, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        static string Sums(string w, string condition) =>
            $"sum(n) filter (where {condition}) as {w}_n, sum(top_box) filter (where {condition}) as {w}_t, sum(passives) filter (where {condition}) as {w}_p, " +
            $"sum(detractors) filter (where {condition}) as {w}_d, sum(sum_value) filter (where {condition}) as {w}_s, sum(sum_squares) filter (where {condition}) as {w}_q";
        var rows = await connection.QueryAsync(new CommandDefinition(
            $"""
            select scope_key, metric, coalesce(question_id, '*') as question_id,
                   {Sums("w7", "day > @today - 7")}, {Sums("w30", "day > @today - 30")}, {Sums("w90", "day > @today - 90")},
                   {Sums("p7", "day > @today - 14 and day <= @today - 7")},
                   max(v.version) as version
            from rating_daily r join scope_versions v using (scope_key)
            where scope_key = any(@keys) and day > @today - 90 and day <= @today
            group by grouping sets ((scope_key, metric, question_id), (scope_key, metric))
            """, new { keys = scopeKeys.ToArray(), today }, cancellationToken: ct));
        var result = new List<HotRow>();
        foreach (IDictionary<string, object?> row in rows)
        {
            var values = row.Values.ToArray();
            RatingStats At(int offset) => new(L(values[offset]), L(values[offset + 1]), L(values[offset + 2]), L(values[offset + 3]), D(values[offset + 4]), D(values[offset + 5]));
            var metric = (string)values[1]!;
            var question = (string)values[2]!;
            if (question == AllQuestions && metric is not ("nps" or "enps")) continue;
            result.Add(new HotRow((string)values[0]!, new MetricKey(metric, question), At(3), At(9), At(15), At(21), L(values[27])));
        }
        return result;
    }

    private static long L(object? value) => value is null ? 0 : Convert.ToInt64(value);

    private static double D(object? value) => value is null ? 0 : Convert.ToDouble(value);

    private sealed record StatsRow(long N, long TopBox, long Passives, long Detractors, double Sum, double SumSquares, long Version)
    {
        public RatingStats ToStats() => new(N, TopBox, Passives, Detractors, Sum, SumSquares);
    }

    private sealed record DayRow(DateTime Day, long N, long TopBox, long Passives, long Detractors, double Sum, double SumSquares)
    {
        public RatingStats ToStats() => new(N, TopBox, Passives, Detractors, Sum, SumSquares);
    }

    private sealed record KeyRow(string ScopeKey, long N, long TopBox, long Passives, long Detractors, double Sum, double SumSquares)
    {
        public RatingStats ToStats() => new(N, TopBox, Passives, Detractors, Sum, SumSquares);
    }

    /// <summary>
    /// Drops the daily rating and driver rows older than <paramref name="cutoff"/> (beyond the retention), with the
    /// records of the items summed in them, and re-tags whose item never came within a week.
    /// </summary>
    public static Task PurgeAsync(WriteScope write, DateOnly cutoff, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            delete from rating_daily where day < @cutoff; delete from driver_daily where day < @cutoff;
            delete from driver_items where day < @cutoff or (day is null and created_on < current_date - 7)
            """, new { cutoff }, write.Transaction, cancellationToken: ct));
}
