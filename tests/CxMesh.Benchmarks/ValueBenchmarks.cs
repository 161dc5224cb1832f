using System.Diagnostics;
using CxMesh.Platform.Auth;
using CxMesh.Scoring.V1;
using HdrHistogram;
using Npgsql;

namespace CxMesh.Benchmarks;

internal static partial class ScoringBenchmarks
{
    /// <summary>
    /// GetValueOfExperience, GetRelationshipStages and GetStagePaths over twelve months, with 10,000 customers and with
    /// 10,000,000, each in a scoring database of its own. The per-customer tables (months, answers, stage versions) are
    /// filled to that many customers, and the monthly sums hold what those customers add up to (computed from the
    /// per-customer rows by SQL aggregation, as the write path keeps them): the reads must cost the same at both sizes,
    /// because they read the sums (rows per month, rating and stage) and never the customers.
    /// </summary>
    public static async Task ValueAsync(int[] sizes, int calls)
    {
        Console.WriteLine($"# value of experience and relationship stages, 12 months: {string.Join(" vs ", sizes.Select(s => s.ToString("N0")))} customers; {calls} calls each");
        foreach (var customers in sizes)
        {
            await using var host = await BenchHost.StartAsync("scoring");
            var load = Stopwatch.StartNew();
            await LoadCustomersAsync(host.Databases["scoring"], customers);
            Console.WriteLine($"{customers,12:N0} customers loaded in {load.Elapsed.TotalSeconds:0} s");
            var client = new ScoringService.ScoringServiceClient(host.Channel(Roles.Analyst));
            var thisMonth = new DateOnly(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1);
            var (from, to) = (thisMonth.AddMonths(-12).ToString("yyyy-MM"), thisMonth.AddMonths(-1).ToString("yyyy-MM"));
            var cases = new (string Name, Func<Task<string>> Call)[]
            {
                ("GetValueOfExperience, all", async () =>
                {
                    var v = await client.GetValueOfExperienceAsync(new GetValueOfExperienceRequest { StartMonth = from, EndMonth = to });
                    return $"{v.Classes.Sum(c => c.Customers):N0} customer-months, {v.Journeys.Count + v.Touchpoints.Count} predictors";
                }),
                ("GetValueOfExperience, journey", async () =>
                {
                    var v = await client.GetValueOfExperienceAsync(new GetValueOfExperienceRequest { StartMonth = from, EndMonth = to, Scope = JourneyScope("club") });
                    return $"{v.Classes.Sum(c => c.Customers):N0} customer-months";
                }),
                ("GetRelationshipStages", async () =>
                {
                    var s = await client.GetRelationshipStagesAsync(new GetRelationshipStagesRequest { StartMonth = from, EndMonth = to });
                    return $"{s.Stages.Sum(x => x.Customers):N0} customers in stages, {s.Transitions.Count} cells";
                }),
                ("GetStagePaths", async () =>
                {
                    var p = await client.GetStagePathsAsync(new GetStagePathsRequest { StageKey = "first-purchase", StartMonth = from, EndMonth = to });
                    return $"{p.Customers:N0} customer-months, {p.Steps.Count} steps";
                }),
            };
            foreach (var (name, call) in cases)
            {
                for (var i = 0; i < 30; i++) await call();
                var histogram = new LongHistogram(TimeStamp.Seconds(10), 3);
                var said = "";
                for (var i = 0; i < calls; i++)
                {
                    var start = Stopwatch.GetTimestamp();
                    said = await call();
                    histogram.RecordValue(Stopwatch.GetTimestamp() - start);
                }
                Console.WriteLine($"{customers,12:N0} customers  {name,-30} p50 {Ms(histogram.GetValueAtPercentile(50)),6:0.00} ms, p99 {Ms(histogram.GetValueAtPercentile(99)),6:0.00} ms  ({said})");
            }
        }
    }

    /// <summary>
    /// Customer i joins in month i mod 12 of the last twelve, answers NPS (i mod 11) that month about the journey, in
    /// "club" or (every third) about its "box" touchpoint, and comes back the next month, buying, when i mod 5 &lt; 3.
    /// Stages: customers arrive in prospect or first purchase and, coming back, move up one stage (workshop-goers, every
    /// third, more often). The per-customer rows and the sums are written with set-based SQL.
    /// </summary>
    private static async Task LoadCustomersAsync(string connectionString, int customers)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        async Task Run(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
            command.Parameters.AddWithValue("n", customers);
            await command.ExecuteNonQueryAsync();
        }
        const string Customers = """
            select i, 'c' || i as id, (date_trunc('month', now()) - make_interval(months => 12 - (i % 12)))::date as month,
                   i % 5 < 3 and i % 12 < 11 as back, (i % 11)::smallint as rating, i % 3 = 0 as workshop
            from generate_series(1, @n) as i
            """;
        await Run($"""
            insert into value_outcomes (customer_id, month, touchpoints, purchases, revenue, cost)
            select id, month, 2, 1, 20 + i % 40, 0 from ({Customers}) c
            union all
            select id, (month + interval '1 month')::date, 2, 1, 10 + i % 60, case when rating < 7 then 6.5 else 0 end from ({Customers}) c where back
            """);
        await Run($"""
            insert into value_answers (customer_id, month, basis, rating, given_at, feedback_id)
            select id, month, b.basis, rating, month + interval '10 days', gen_random_uuid()
            from ({Customers}) c
            cross join lateral (values ('all'), ('journey=club'),
                (case when i % 3 = 0 then 'predict.touchpoint:journey=club|touchpoint=box' else 'predict.journey:journey=club' end)) as b(basis)
            """);
        await Run("insert into stage_customers (customer_id, model_version) select 'c' || i, 1 from generate_series(1, @n) as i");
        await Run($"""
            insert into value_stats (basis, month, rating, customers, retained, purchasing, revenue, revenue_squares, cost, cost_squares)
            select b.basis, month, rating, count(*), count(*) filter (where back), count(*) filter (where back),
                   coalesce(sum(10 + i % 60) filter (where back), 0), coalesce(sum((10 + i % 60) ^ 2) filter (where back), 0),
                   coalesce(sum(6.5) filter (where back and rating < 7), 0), coalesce(sum(6.5 ^ 2) filter (where back and rating < 7), 0)
            from ({Customers}) c
            cross join lateral (values ('all'), ('journey=club'),
                (case when i % 3 = 0 then 'predict.touchpoint:journey=club|touchpoint=box' else 'predict.journey:journey=club' end)) as b(basis)
            group by 1, 2, 3
            """);
        await Run($"""
            with c as ({Customers}),
            s as (select *, case when i % 2 = 0 then 'prospect' else 'first-purchase' end as first,
                            case when i % 2 = 0 then 'first-purchase' else 'repeat' end as second from c)
            insert into stage_moves (month, from_stage, to_stage, customers)
            select month, '', first, count(*) from s group by 1, 2, 3
            union all
            select (month + interval '1 month')::date, first, second, count(*) from s where back and (workshop or i % 7 < 4) group by 1, 2, 3
            """);
        await Run($"""
            with c as ({Customers}),
            s as (select *, case when i % 2 = 0 then 'prospect' else 'first-purchase' end as first from c)
            insert into stage_figures (month, stage, customers, retained, purchasing, revenue, revenue_squares, cost, cost_squares, promoters, passives, detractors)
            select month, first, count(*), count(*) filter (where back), count(*) filter (where back),
                   coalesce(sum(10 + i % 60) filter (where back), 0), coalesce(sum((10 + i % 60) ^ 2) filter (where back), 0), 0, 0,
                   count(*) filter (where rating >= 9), count(*) filter (where rating between 7 and 8), count(*) filter (where rating < 7)
            from s group by 1, 2
            """);
        await Run($"""
            with c as ({Customers}),
            s as (select *, case when i % 2 = 0 then 'prospect' else 'first-purchase' end as first from c where back)
            insert into stage_experiences (month, from_stage, experience, customers, moved_up)
            select (month + interval '1 month')::date, first, e.experience, count(*), count(*) filter (where workshop or i % 7 < 4)
            from s cross join lateral (values (''), ('touchpoint:club|box-ordered'), (case when workshop then 'touchpoint:club|workshop' else 'touchpoint:club|browse' end)) as e(experience)
            group by 1, 2, 3
            """);
        await Run("analyze");
    }
}
