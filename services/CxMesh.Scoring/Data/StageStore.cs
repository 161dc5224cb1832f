using System.Text.Json;
using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Domain;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Data;

/// <summary>The customers a write is about to change, with their part in the stage sums before it (<see cref="StageStore.BeforeAsync"/>).</summary>
public sealed record StageSnapshot(StageModel Model, IReadOnlyDictionary<string, StageContribution> Before);

/// <summary>A stage model as stored, with who set it, and whether customers are still being replayed under it.</summary>
public sealed record StoredStageModel(StageModel Model, DateTime? UpdatedAt, string UpdatedBy, bool Rebuilding = false);

/// <summary>
/// Relationship stages: each customer's history per month (kept by <see cref="ValueStore"/> and here), and the monthly
/// sums of every customer's part (<see cref="StageContribution"/>). A write that changes customers' histories takes a
/// snapshot of their parts first and adds (after − before) once it has changed them, under the customers' locks and a
/// share lock on the model, so a model change cannot slip between the two.
/// </summary>
public sealed class StageStore([FromKeyedServices(ScoringModule.Name)] ServiceDatabase database)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private sealed record ModelRow(int Version, string? Model, DateTime? UpdatedAt, string UpdatedBy, int RebuiltVersion);

    private const string ModelColumns = "version, model::text as model, updated_at as UpdatedAt, updated_by as UpdatedBy, rebuilt_version as RebuiltVersion";

    private sealed record OutcomeRow(string CustomerId, DateOnly Month, int Touchpoints, int Purchases, double Revenue, double Cost);

    private sealed record CountRow(string CustomerId, DateOnly Month, string Key, int Count);

    private sealed record MoveRow(DateOnly Month, string FromStage, string ToStage, long Customers);

    private sealed record FigureRow(string Stage, long Customers, long Retained, long Purchasing, double Revenue, double RevenueSquares, double Cost,
        double CostSquares, long Promoters, long Passives, long Detractors);

    private static StoredStageModel Parse(ModelRow row) => new(
        row.Model is null ? StageModel.Default : new StageModel(row.Version, JsonSerializer.Deserialize<List<StageDefinition>>(row.Model, Json)!),
        row.UpdatedAt, row.UpdatedBy, row.RebuiltVersion < row.Version);

    public async Task<StoredStageModel> ModelAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return Parse(await connection.QuerySingleAsync<ModelRow>(new CommandDefinition(
            $"select {ModelColumns} from stage_model", cancellationToken: ct)));
    }

    /// <summary>Replaces the model (new version), empties the sums; the rebuilder recomputes every customer under it.</summary>
    public static async Task<StoredStageModel?> ReplaceModelAsync(WriteScope write, IReadOnlyList<StageDefinition> stages, int expectedVersion, string by,
        CancellationToken ct)
    {
        var version = await write.Connection.QuerySingleAsync<int>(new CommandDefinition(
            "select version from stage_model for update", transaction: write.Transaction, cancellationToken: ct));
        if (expectedVersion != 0 && expectedVersion != version) return null;
        var row = await write.Connection.QuerySingleAsync<ModelRow>(new CommandDefinition(
            $"""
            update stage_model set version = version + 1, model = @model::jsonb, updated_at = @now, updated_by = @by
            returning {ModelColumns}
            """, new { model = JsonSerializer.Serialize(stages, Json), now = write.Now.UtcDateTime, by }, write.Transaction, cancellationToken: ct));
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "truncate stage_moves, stage_figures, stage_experiences", transaction: write.Transaction, cancellationToken: ct));
        return Parse(row);
    }

    /// <summary>Locks the customers and the model (shared), and computes their current parts (none for a customer under an older model).</summary>
    public static async Task<StageSnapshot> BeforeAsync(WriteScope write, IReadOnlyCollection<string> customers, CancellationToken ct)
    {
        if (customers.Count == 0) return new StageSnapshot(StageModel.Default, new Dictionary<string, StageContribution>());
        var model = Parse(await write.Connection.QuerySingleAsync<ModelRow>(new CommandDefinition(
            $"select {ModelColumns} from stage_model for share",
            transaction: write.Transaction, cancellationToken: ct))).Model;
        await ValueStore.LockAsync(write, customers, ct);
        var current = (await write.Connection.QueryAsync<string>(new CommandDefinition(
            "select customer_id from stage_customers where customer_id = any(@customers) and model_version = @version",
            new { customers = customers.Distinct().ToArray(), version = model.Version }, write.Transaction, cancellationToken: ct))).ToList();
        var histories = await HistoriesAsync(write.Connection, write.Transaction, current, ct);
        return new StageSnapshot(model, customers.Distinct().ToDictionary(c => c,
            c => histories.TryGetValue(c, out var h) ? StageContribution.Of(model, h) : new StageContribution()));
    }

    /// <summary>Adds every snapshot customer's (part now − part before) to the sums and records them as computed under the model.</summary>
    public static async Task AfterAsync(WriteScope write, StageSnapshot snapshot, CancellationToken ct)
    {
        if (snapshot.Before.Count == 0) return;
        var customers = snapshot.Before.Keys.ToList();
        var histories = await HistoriesAsync(write.Connection, write.Transaction, customers, ct);
        var moves = new Dictionary<(DateOnly, string, string), long>();
        var figures = new Dictionary<(DateOnly, string), StageMonth>();
        var experiences = new Dictionary<(DateOnly, string, string), (long, long)>();
        foreach (var customer in customers)
        {
            var after = histories.TryGetValue(customer, out var h) ? StageContribution.Of(snapshot.Model, h) : new StageContribution();
            var (m, f, e) = after.Minus(snapshot.Before[customer]);
            foreach (var (key, n) in m) moves[key] = moves.GetValueOrDefault(key) + n;
            foreach (var (key, s) in f) figures[key] = figures.GetValueOrDefault(key) + s;
            foreach (var (key, (n, up)) in e)
            {
                var (n0, up0) = experiences.GetValueOrDefault(key);
                experiences[key] = (n0 + n, up0 + up);
            }
        }
        await AddSumsAsync(write, moves, figures, experiences, ct);
        var known = customers.Order(StringComparer.Ordinal).ToArray();
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into stage_customers (customer_id, model_version) select unnest(@known), @version
            on conflict (customer_id) do update set model_version = excluded.model_version
            """, new { known, version = snapshot.Model.Version }, write.Transaction, cancellationToken: ct));
    }

    /// <summary>Adds touchpoints (by "journey|touchpoint") and referrals (referrer, referred, when) to the customers' histories.</summary>
    public static async Task AddHistoryAsync(WriteScope write, IReadOnlyList<(string CustomerId, DateOnly Month, string Touchpoint)> touchpoints,
        IReadOnlyList<(string Referrer, string Referred, DateOnly Month)> referrals, CancellationToken ct)
    {
        var counts = touchpoints.GroupBy(t => t).Select(g => (g.Key.CustomerId, g.Key.Month, g.Key.Touchpoint, Count: g.Count()))
            .OrderBy(t => t.CustomerId, StringComparer.Ordinal).ThenBy(t => t.Month).ThenBy(t => t.Touchpoint, StringComparer.Ordinal).ToList();
        if (counts.Count > 0)
        {
            await write.Connection.ExecuteAsync(new CommandDefinition(
                """
                insert into customer_touchpoints as t (customer_id, month, touchpoint, touchpoints)
                select * from unnest(@customers, @months, @touchpoints, @counts)
                on conflict (customer_id, month, touchpoint) do update set touchpoints = t.touchpoints + excluded.touchpoints
                """,
                new
                {
                    customers = counts.Select(c => c.CustomerId).ToArray(),
                    months = counts.Select(c => c.Month).ToArray(),
                    touchpoints = counts.Select(c => c.Touchpoint).ToArray(),
                    counts = counts.Select(c => c.Count).ToArray(),
                }, write.Transaction, cancellationToken: ct));
        }
        var firsts = referrals.GroupBy(r => (r.Referrer, r.Referred)).Select(g => (g.Key.Referrer, g.Key.Referred, Month: g.Min(r => r.Month)))
            .OrderBy(r => r.Referrer, StringComparer.Ordinal).ThenBy(r => r.Referred, StringComparer.Ordinal).ToList();
        if (firsts.Count > 0)
        {
            await write.Connection.ExecuteAsync(new CommandDefinition(
                """
                insert into customer_referrals as r (referrer_id, referred_id, month)
                select * from unnest(@referrers, @referred, @months)
                on conflict (referrer_id, referred_id) do update set month = least(r.month, excluded.month)
                """,
                new
                {
                    referrers = firsts.Select(r => r.Referrer).ToArray(),
                    referred = firsts.Select(r => r.Referred).ToArray(),
                    months = firsts.Select(r => r.Month).ToArray(),
                }, write.Transaction, cancellationToken: ct));
        }
    }

    /// <summary>
    /// The customer's own history goes; a referral they made for someone else stays credited to that someone under a
    /// random pseudonym. Their part in the sums is anonymous and stays, as scores do.
    /// </summary>
    public static async Task<int> EraseAsync(WriteScope write, string customerId, CancellationToken ct)
    {
        var touchpoints = await write.Connection.ExecuteAsync(new CommandDefinition(
            "delete from customer_touchpoints where customer_id = @customerId", new { customerId }, write.Transaction, cancellationToken: ct));
        var referrals = await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            with mine as (delete from customer_referrals where referrer_id = @customerId returning 1),
                 theirs as (update customer_referrals set referred_id = 'erased-' || gen_random_uuid()::text where referred_id = @customerId returning 1)
            select (select count(*) from mine) + (select count(*) from theirs)
            """, new { customerId }, write.Transaction, cancellationToken: ct));
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "delete from stage_customers where customer_id = @customerId", new { customerId }, write.Transaction, cancellationToken: ct));
        return touchpoints + referrals;
    }

    /// <summary>
    /// Customers whose part was computed under an older model, a page at a time. Not row-locked: the rebuild takes the
    /// customers' own locks (as every write does), and one already brought up to date meanwhile changes by zero.
    /// </summary>
    public static async Task<IReadOnlyList<string>> StaleAsync(WriteScope write, int version, int limit, CancellationToken ct) =>
        (await write.Connection.QueryAsync<string>(new CommandDefinition(
            "select customer_id from stage_customers where model_version < @version order by customer_id limit @limit",
            new { version, limit }, write.Transaction, cancellationToken: ct))).ToList();

    /// <summary>The model's version and the version every customer was last found rebuilt to.</summary>
    public static Task<(int Version, int RebuiltVersion)> VersionsAsync(WriteScope write, CancellationToken ct) =>
        write.Connection.QuerySingleAsync<(int, int)>(new CommandDefinition(
            "select version, rebuilt_version from stage_model", transaction: write.Transaction, cancellationToken: ct));

    /// <summary>Records that no customer is left under an older model than <paramref name="version"/> (unless the model changed meanwhile).</summary>
    public static Task MarkRebuiltAsync(WriteScope write, int version, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            "update stage_model set rebuilt_version = @version where version = @version", new { version }, write.Transaction, cancellationToken: ct));

    /// <summary>Every stage move up to <paramref name="to"/>, by month: a few rows per month, however many customers.</summary>
    public async Task<IReadOnlyList<(DateOnly Month, string From, string To, long Customers)>> MovesAsync(DateOnly to, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<MoveRow>(new CommandDefinition(
            "select month, from_stage as FromStage, to_stage as ToStage, customers from stage_moves where month <= @to and customers <> 0",
            new { to }, cancellationToken: ct))).Select(r => (r.Month, r.FromStage, r.ToStage, r.Customers)).ToList();
    }

    public async Task<IReadOnlyDictionary<string, StageMonth>> FiguresAsync(DateOnly from, DateOnly to, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<FigureRow>(new CommandDefinition(
            """
            select stage, sum(customers)::bigint as customers, sum(retained)::bigint as retained, sum(purchasing)::bigint as purchasing,
                   sum(revenue) as revenue, sum(revenue_squares) as RevenueSquares, sum(cost) as cost, sum(cost_squares) as CostSquares,
                   sum(promoters)::bigint as promoters, sum(passives)::bigint as passives, sum(detractors)::bigint as detractors
            from stage_figures where month between @from and @to group by stage
            """, new { from, to }, cancellationToken: ct)))
            .ToDictionary(r => r.Stage, r => new StageMonth(
                new NextMonth(r.Customers, r.Retained, r.Purchasing, r.Revenue, r.RevenueSquares, r.Cost, r.CostSquares),
                new NpsTally(r.Promoters, r.Passives, r.Detractors)));
    }

    public async Task<IReadOnlyDictionary<string, (long Customers, long MovedUp)>> ExperiencesAsync(string stage, DateOnly from, DateOnly to, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string Experience, long Customers, long MovedUp)>(new CommandDefinition(
            """
            select experience, sum(customers)::bigint, sum(moved_up)::bigint from stage_experiences
            where from_stage = @stage and month between @from and @to group by experience
            """, new { stage, from, to }, cancellationToken: ct)))
            .ToDictionary(r => r.Experience, r => (r.Customers, r.MovedUp), StringComparer.Ordinal);
    }

    /// <summary>One customer's history, read outside a write.</summary>
    public async Task<IReadOnlyList<HistoryMonth>> HistoryAsync(string customerId, CancellationToken ct)
    {
        // A read: no write transaction (and no outbox) for it.
        await using var connection = await database.OpenConnectionAsync(ct);
        var history = await HistoriesAsync(connection, null, [customerId], ct);
        return history.GetValueOrDefault(customerId) ?? [];
    }

    /// <summary>The customers' histories by month: activity, touchpoints by key, referrals credited, last NPS answer.</summary>
    private static async Task<Dictionary<string, List<HistoryMonth>>> HistoriesAsync(Npgsql.NpgsqlConnection connection, Npgsql.NpgsqlTransaction? transaction,
        IReadOnlyCollection<string> customers, CancellationToken ct)
    {
        if (customers.Count == 0) return [];
        var ids = customers.ToArray();
        var grid = await connection.QueryMultipleAsync(new CommandDefinition(
            """
            select customer_id as CustomerId, month, touchpoints, purchases, revenue, cost from value_outcomes where customer_id = any(@ids);
            select customer_id as CustomerId, month, touchpoint as Key, touchpoints as Count from customer_touchpoints where customer_id = any(@ids);
            select referrer_id as CustomerId, month, '' as Key, count(*)::int as Count from customer_referrals where referrer_id = any(@ids) group by referrer_id, month;
            select customer_id as CustomerId, month, '' as Key, rating::int as Count from value_answers where customer_id = any(@ids) and basis = 'all';
            """, new { ids }, transaction, cancellationToken: ct));
        var outcomes = (await grid.ReadAsync<OutcomeRow>()).ToDictionary(o => (o.CustomerId, o.Month));
        var touchpoints = (await grid.ReadAsync<CountRow>()).ToLookup(t => (t.CustomerId, t.Month));
        var referrals = (await grid.ReadAsync<CountRow>()).ToDictionary(r => (r.CustomerId, r.Month), r => r.Count);
        var ratings = (await grid.ReadAsync<CountRow>()).ToDictionary(r => (r.CustomerId, r.Month), r => r.Count);
        var months = outcomes.Keys.Concat(touchpoints.Select(t => t.Key)).Concat(referrals.Keys).Concat(ratings.Keys).Distinct();
        var result = new Dictionary<string, List<HistoryMonth>>(StringComparer.Ordinal);
        foreach (var (customer, month) in months)
        {
            if (!result.TryGetValue(customer, out var list)) result[customer] = list = [];
            var o = outcomes.GetValueOrDefault((customer, month));
            list.Add(new HistoryMonth(month,
                o is null ? default : new CustomerMonth(o.Touchpoints, o.Purchases, o.Revenue, o.Cost),
                referrals.GetValueOrDefault((customer, month)),
                ratings.TryGetValue((customer, month), out var rating) ? rating : null,
                touchpoints[(customer, month)].ToDictionary(t => t.Key, t => t.Count, StringComparer.Ordinal)));
        }
        return result;
    }

    private static async Task AddSumsAsync(WriteScope write, Dictionary<(DateOnly, string, string), long> moves, Dictionary<(DateOnly, string), StageMonth> figures,
        Dictionary<(DateOnly, string, string), (long, long)> experiences, CancellationToken ct)
    {
        // Sorted so that concurrent transactions lock rows in the same order and cannot deadlock.
        var m = moves.OrderBy(x => x.Key.Item1).ThenBy(x => x.Key.Item2, StringComparer.Ordinal).ThenBy(x => x.Key.Item3, StringComparer.Ordinal).ToList();
        if (m.Count > 0)
        {
            await write.Connection.ExecuteAsync(new CommandDefinition(
                """
                insert into stage_moves as s (month, from_stage, to_stage, customers) select * from unnest(@months, @froms, @tos, @customers)
                on conflict (month, from_stage, to_stage) do update set customers = s.customers + excluded.customers
                """,
                new
                {
                    months = m.Select(x => x.Key.Item1).ToArray(),
                    froms = m.Select(x => x.Key.Item2).ToArray(),
                    tos = m.Select(x => x.Key.Item3).ToArray(),
                    customers = m.Select(x => x.Value).ToArray(),
                }, write.Transaction, cancellationToken: ct));
        }
        var f = figures.OrderBy(x => x.Key.Item1).ThenBy(x => x.Key.Item2, StringComparer.Ordinal).ToList();
        if (f.Count > 0)
        {
            await write.Connection.ExecuteAsync(new CommandDefinition(
                """
                insert into stage_figures as s (month, stage, customers, retained, purchasing, revenue, revenue_squares, cost, cost_squares,
                                                promoters, passives, detractors)
                select * from unnest(@months, @stages, @customers, @retained, @purchasing, @revenue, @revenueSquares, @cost, @costSquares,
                                     @promoters, @passives, @detractors)
                on conflict (month, stage) do update set
                    customers = s.customers + excluded.customers, retained = s.retained + excluded.retained,
                    purchasing = s.purchasing + excluded.purchasing, revenue = s.revenue + excluded.revenue,
                    revenue_squares = s.revenue_squares + excluded.revenue_squares, cost = s.cost + excluded.cost,
                    cost_squares = s.cost_squares + excluded.cost_squares, promoters = s.promoters + excluded.promoters,
                    passives = s.passives + excluded.passives, detractors = s.detractors + excluded.detractors
                """,
                new
                {
                    months = f.Select(x => x.Key.Item1).ToArray(),
                    stages = f.Select(x => x.Key.Item2).ToArray(),
                    customers = f.Select(x => x.Value.Active.Customers).ToArray(),
                    retained = f.Select(x => x.Value.Active.Retained).ToArray(),
                    purchasing = f.Select(x => x.Value.Active.Purchasing).ToArray(),
                    revenue = f.Select(x => x.Value.Active.Revenue).ToArray(),
                    revenueSquares = f.Select(x => x.Value.Active.RevenueSquares).ToArray(),
                    cost = f.Select(x => x.Value.Active.Cost).ToArray(),
                    costSquares = f.Select(x => x.Value.Active.CostSquares).ToArray(),
                    promoters = f.Select(x => x.Value.Answers.Promoters).ToArray(),
                    passives = f.Select(x => x.Value.Answers.Passives).ToArray(),
                    detractors = f.Select(x => x.Value.Answers.Detractors).ToArray(),
                }, write.Transaction, cancellationToken: ct));
        }
        var e = experiences.OrderBy(x => x.Key.Item2, StringComparer.Ordinal).ThenBy(x => x.Key.Item1).ThenBy(x => x.Key.Item3, StringComparer.Ordinal).ToList();
        if (e.Count > 0)
        {
            await write.Connection.ExecuteAsync(new CommandDefinition(
                """
                insert into stage_experiences as s (month, from_stage, experience, customers, moved_up)
                select * from unnest(@months, @froms, @experiences, @customers, @moved)
                on conflict (from_stage, month, experience) do update set customers = s.customers + excluded.customers, moved_up = s.moved_up + excluded.moved_up
                """,
                new
                {
                    months = e.Select(x => x.Key.Item1).ToArray(),
                    froms = e.Select(x => x.Key.Item2).ToArray(),
                    experiences = e.Select(x => x.Key.Item3).ToArray(),
                    customers = e.Select(x => x.Value.Item1).ToArray(),
                    moved = e.Select(x => x.Value.Item2).ToArray(),
                }, write.Transaction, cancellationToken: ct));
        }
    }
}
