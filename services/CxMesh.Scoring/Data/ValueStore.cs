using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Domain;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Data;

/// <summary>One customer's NPS answer, with the bases it counts in (<see cref="ValueBases"/>).</summary>
public sealed record ValueAnswer(string CustomerId, DateOnly Month, IReadOnlyList<string> Bases, int Rating, DateTime GivenAt, Guid FeedbackId);

/// <summary>One touchpoint of a customer, with its revenue and cost to serve.</summary>
public sealed record ValueTouchpoint(string CustomerId, DateTime OccurredAt, double Revenue, double Cost);

/// <summary>
/// The value of experience's sufficient statistics (<see cref="NextMonth"/> per basis, answer month and rating), kept
/// by deltas: an answer moves its customer between ratings (their last answer of the month counts), a touchpoint changes
/// the following-month figures of the customer's answers of the month before. Both lock the customer (a transaction
/// advisory lock, taken in one order), so an answer and a touchpoint of one customer in concurrent transactions see
/// each other and neither delta is lost.
/// </summary>
public sealed class ValueStore([FromKeyedServices(ScoringModule.Name)] ServiceDatabase database)
{
    private sealed record StoredAnswer(string CustomerId, DateOnly Month, string Basis, short Rating, DateTime GivenAt, Guid FeedbackId);

    private sealed record StoredMonth(string CustomerId, DateOnly Month, int Touchpoints, int Purchases, double Revenue, double Cost);

    private sealed record StatsRow(string Basis, DateOnly Month, short Rating, long Customers, long Retained, long Purchasing, double Revenue,
        double RevenueSquares, double Cost, double CostSquares);

    public static async Task AddAnswersAsync(WriteScope write, IReadOnlyList<ValueAnswer> answers, CancellationToken ct)
    {
        if (answers.Count == 0) return;
        await LockAsync(write, answers.Select(a => a.CustomerId), ct);
        var months = answers.Select(a => (a.CustomerId, a.Month)).Distinct().ToList();
        var current = (await write.Connection.QueryAsync<StoredAnswer>(new CommandDefinition(
            """
            select a.customer_id as CustomerId, a.month, a.basis, a.rating, a.given_at as GivenAt, a.feedback_id as FeedbackId
            from value_answers a join unnest(@customers, @months) as k(c, m) on a.customer_id = k.c and a.month = k.m
            """, new { customers = months.Select(m => m.CustomerId).ToArray(), months = months.Select(m => m.Month).ToArray() },
            write.Transaction, cancellationToken: ct)))
            .ToDictionary(a => (a.CustomerId, a.Month, a.Basis));
        var stored = current.ToDictionary(a => a.Key, a => a.Value);
        var following = await MonthsAsync(write, months.Select(m => (m.CustomerId, m.Month.AddMonths(1))).ToList(), ct);

        // The last answer of the month wins (by time given, then id, so every order of arrival ends the same).
        foreach (var answer in answers)
        {
            foreach (var basis in answer.Bases)
            {
                var key = (answer.CustomerId, answer.Month, basis);
                if (current.TryGetValue(key, out var was) && (was.GivenAt, was.FeedbackId).CompareTo((answer.GivenAt, answer.FeedbackId)) >= 0) continue;
                current[key] = new StoredAnswer(answer.CustomerId, answer.Month, basis, (short)answer.Rating, answer.GivenAt, answer.FeedbackId);
            }
        }

        var deltas = new Dictionary<(string Basis, DateOnly Month, int Rating), NextMonth>();
        var changed = new List<StoredAnswer>();
        foreach (var (key, answer) in current)
        {
            stored.TryGetValue(key, out var before);
            if (ReferenceEquals(before, answer)) continue;
            changed.Add(answer);
            var next = NextMonth.Of(following.GetValueOrDefault((key.CustomerId, key.Item2.AddMonths(1))));
            if (before is not null) Add(deltas, (key.Basis, key.Item2, before.Rating), default(NextMonth) - next);
            Add(deltas, (key.Basis, key.Item2, answer.Rating), next);
        }
        if (changed.Count == 0) return;
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into value_answers as a (customer_id, month, basis, rating, given_at, feedback_id)
            select * from unnest(@customers, @months, @bases, @ratings, @given, @ids)
            on conflict (customer_id, month, basis) do update set rating = excluded.rating, given_at = excluded.given_at, feedback_id = excluded.feedback_id
            """,
            new
            {
                customers = changed.Select(a => a.CustomerId).ToArray(),
                months = changed.Select(a => a.Month).ToArray(),
                bases = changed.Select(a => a.Basis).ToArray(),
                ratings = changed.Select(a => a.Rating).ToArray(),
                given = changed.Select(a => a.GivenAt).ToArray(),
                ids = changed.Select(a => a.FeedbackId).ToArray(),
            }, write.Transaction, cancellationToken: ct));
        await AddStatsAsync(write, deltas, ct);
    }

    public static async Task AddTouchpointsAsync(WriteScope write, IReadOnlyList<ValueTouchpoint> touchpoints, CancellationToken ct)
    {
        if (touchpoints.Count == 0) return;
        await LockAsync(write, touchpoints.Select(t => t.CustomerId), ct);
        var added = new Dictionary<(string CustomerId, DateOnly Month), CustomerMonth>();
        foreach (var t in touchpoints)
        {
            var key = (t.CustomerId, ValueBases.MonthOf(t.OccurredAt));
            added[key] = added.GetValueOrDefault(key) + CustomerMonth.Of(t.Revenue, t.Cost);
        }
        var rows = added.OrderBy(a => a.Key.CustomerId, StringComparer.Ordinal).ThenBy(a => a.Key.Month).ToList();
        var after = (await write.Connection.QueryAsync<StoredMonth>(new CommandDefinition(
            """
            insert into value_outcomes as o (customer_id, month, touchpoints, purchases, revenue, cost)
            select * from unnest(@customers, @months, @touchpoints, @purchases, @revenues, @costs)
            on conflict (customer_id, month) do update set
                touchpoints = o.touchpoints + excluded.touchpoints, purchases = o.purchases + excluded.purchases,
                revenue = o.revenue + excluded.revenue, cost = o.cost + excluded.cost
            returning customer_id as CustomerId, month, touchpoints, purchases, revenue, cost
            """,
            new
            {
                customers = rows.Select(r => r.Key.CustomerId).ToArray(),
                months = rows.Select(r => r.Key.Month).ToArray(),
                touchpoints = rows.Select(r => r.Value.Touchpoints).ToArray(),
                purchases = rows.Select(r => r.Value.Purchases).ToArray(),
                revenues = rows.Select(r => r.Value.Revenue).ToArray(),
                costs = rows.Select(r => r.Value.Cost).ToArray(),
            }, write.Transaction, cancellationToken: ct))).ToList();

        // The answers of the month before each changed month: their following month changed.
        var answers = (await write.Connection.QueryAsync<StoredAnswer>(new CommandDefinition(
            """
            select a.customer_id as CustomerId, a.month, a.basis, a.rating, a.given_at as GivenAt, a.feedback_id as FeedbackId
            from value_answers a join unnest(@customers, @months) as k(c, m) on a.customer_id = k.c and a.month = k.m
            """, new { customers = rows.Select(r => r.Key.CustomerId).ToArray(), months = rows.Select(r => r.Key.Month.AddMonths(-1)).ToArray() },
            write.Transaction, cancellationToken: ct))).ToLookup(a => (a.CustomerId, a.Month.AddMonths(1)));
        var deltas = new Dictionary<(string Basis, DateOnly Month, int Rating), NextMonth>();
        foreach (var row in after)
        {
            var key = (row.CustomerId, row.Month);
            var now = new CustomerMonth(row.Touchpoints, row.Purchases, row.Revenue, row.Cost);
            var change = NextMonth.Of(now) - NextMonth.Of(now - added[key]);
            foreach (var answer in answers[key]) Add(deltas, (answer.Basis, key.Item2.AddMonths(-1), answer.Rating), change);
        }
        await AddStatsAsync(write, deltas, ct);
    }

    /// <summary>The customer's answers and months go; the statistics are anonymous sums and stay, as scores do.</summary>
    public static async Task<(int Answers, int Months)> EraseAsync(WriteScope write, string customerId, CancellationToken ct)
    {
        await LockAsync(write, [customerId], ct);
        var answers = await write.Connection.ExecuteAsync(new CommandDefinition(
            "delete from value_answers where customer_id = @customerId", new { customerId }, write.Transaction, cancellationToken: ct));
        var months = await write.Connection.ExecuteAsync(new CommandDefinition(
            "delete from value_outcomes where customer_id = @customerId", new { customerId }, write.Transaction, cancellationToken: ct));
        return (answers, months);
    }

    /// <summary>The statistics of the bases (exact keys, or every key starting with one of the prefixes), per basis and rating, summed over the months.</summary>
    public async Task<IReadOnlyDictionary<string, NextMonth[]>> ReadAsync(IReadOnlyList<string> keys, IReadOnlyList<string> prefixes, DateOnly from, DateOnly to,
        CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<StatsRow>(new CommandDefinition(
            """
            select basis, min(month) as month, rating, sum(customers)::bigint as customers, sum(retained)::bigint as retained,
                   sum(purchasing)::bigint as purchasing, sum(revenue) as revenue, sum(revenue_squares) as RevenueSquares,
                   sum(cost) as cost, sum(cost_squares) as CostSquares
            from value_stats
            where (basis = any(@keys) or basis like any(@patterns)) and month between @from and @to
            group by basis, rating
            """,
            new
            {
                keys = keys.ToArray(),
                patterns = prefixes.Select(p => p.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%").ToArray(),
                from,
                to,
            }, cancellationToken: ct));
        var result = new Dictionary<string, NextMonth[]>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!result.TryGetValue(row.Basis, out var byRating)) result[row.Basis] = byRating = new NextMonth[ExperienceValue.Ratings];
            byRating[row.Rating] = new NextMonth(row.Customers, row.Retained, row.Purchasing, row.Revenue, row.RevenueSquares, row.Cost, row.CostSquares);
        }
        return result;
    }

    private static async Task<Dictionary<(string, DateOnly), CustomerMonth>> MonthsAsync(WriteScope write, IReadOnlyList<(string CustomerId, DateOnly Month)> keys,
        CancellationToken ct) =>
        (await write.Connection.QueryAsync<StoredMonth>(new CommandDefinition(
            """
            select o.customer_id as CustomerId, o.month, o.touchpoints, o.purchases, o.revenue, o.cost
            from value_outcomes o join unnest(@customers, @months) as k(c, m) on o.customer_id = k.c and o.month = k.m
            """, new { customers = keys.Select(k => k.CustomerId).ToArray(), months = keys.Select(k => k.Month).ToArray() },
            write.Transaction, cancellationToken: ct)))
        .ToDictionary(m => (m.CustomerId, m.Month), m => new CustomerMonth(m.Touchpoints, m.Purchases, m.Revenue, m.Cost));

    /// <summary>Locks the customers for this transaction (advisory locks, taken in one order so concurrent writes cannot deadlock).</summary>
    public static Task LockAsync(WriteScope write, IEnumerable<string> customers, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            select pg_advisory_xact_lock(h) from (
                select distinct hashtextextended('value' || chr(31) || c, 0) as h from unnest(@customers) as c order by 1) locks
            """, new { customers = customers.Distinct().ToArray() }, write.Transaction, cancellationToken: ct));

    private static void Add(Dictionary<(string Basis, DateOnly Month, int Rating), NextMonth> deltas, (string, DateOnly, int) key, NextMonth delta) =>
        deltas[key] = deltas.GetValueOrDefault(key) + delta;

    private static Task AddStatsAsync(WriteScope write, Dictionary<(string Basis, DateOnly Month, int Rating), NextMonth> deltas, CancellationToken ct)
    {
        // Sorted so that concurrent transactions lock rows in the same order and cannot deadlock.
        var rows = deltas.Where(d => !d.Value.IsZero).OrderBy(d => d.Key.Basis, StringComparer.Ordinal).ThenBy(d => d.Key.Month).ThenBy(d => d.Key.Rating).ToList();
        if (rows.Count == 0) return Task.CompletedTask;
        return write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into value_stats as s (basis, month, rating, customers, retained, purchasing, revenue, revenue_squares, cost, cost_squares)
            select * from unnest(@bases, @months, @ratings, @customers, @retained, @purchasing, @revenues, @revenueSquares, @costs, @costSquares)
            on conflict (basis, month, rating) do update set
                customers = s.customers + excluded.customers, retained = s.retained + excluded.retained,
                purchasing = s.purchasing + excluded.purchasing, revenue = s.revenue + excluded.revenue,
                revenue_squares = s.revenue_squares + excluded.revenue_squares, cost = s.cost + excluded.cost,
                cost_squares = s.cost_squares + excluded.cost_squares
            """,
            new
            {
                bases = rows.Select(r => r.Key.Basis).ToArray(),
                months = rows.Select(r => r.Key.Month).ToArray(),
                ratings = rows.Select(r => (short)r.Key.Rating).ToArray(),
                customers = rows.Select(r => r.Value.Customers).ToArray(),
                retained = rows.Select(r => r.Value.Retained).ToArray(),
                purchasing = rows.Select(r => r.Value.Purchasing).ToArray(),
                revenues = rows.Select(r => r.Value.Revenue).ToArray(),
                revenueSquares = rows.Select(r => r.Value.RevenueSquares).ToArray(),
                costs = rows.Select(r => r.Value.Cost).ToArray(),
                costSquares = rows.Select(r => r.Value.CostSquares).ToArray(),
            }, write.Transaction, cancellationToken: ct));
    }
}
