using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Domain;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CxMesh.Scoring.Data;

public sealed record StoredTally(NpsTally Tally, long Version);

public sealed class ScoreStore([FromKeyedServices(ScoringModule.Name)] ServiceDatabase database)
{
    public const string NpsMetric = "nps";

    /// <summary>Adds NPS responses of one day to each scope, inside the handler's transaction.</summary>
    public static async Task AddNpsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<string> scopeKeys,
        DateOnly day, NpsTally delta, double sumValue, double sumSquares, CancellationToken ct)
    {
        // Sorted so that concurrent transactions lock rows in the same order and cannot deadlock.
        var keys = scopeKeys.Distinct().Order(StringComparer.Ordinal).ToArray();
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into score_daily as s (scope_key, metric, day, n, promoters, passives, detractors, sum_value, sum_squares)
            select k, @metric, @day, @n, @promoters, @passives, @detractors, @sumValue, @sumSquares from unnest(@keys) as k
            on conflict (scope_key, metric, day) do update set
                n = s.n + excluded.n,
                promoters = s.promoters + excluded.promoters,
                passives = s.passives + excluded.passives,
                detractors = s.detractors + excluded.detractors,
                sum_value = s.sum_value + excluded.sum_value,
                sum_squares = s.sum_squares + excluded.sum_squares
            """,
            new
            {
                keys,
                metric = NpsMetric,
                day,
                n = delta.N,
                promoters = delta.Promoters,
                passives = delta.Passives,
                detractors = delta.Detractors,
                sumValue,
                sumSquares,
            }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into scope_versions as v (scope_key, version) select k, 1 from unnest(@keys) as k
            on conflict (scope_key) do update set version = v.version + 1
            """, new { keys }, tx, cancellationToken: ct));
    }

    /// <summary>Sums a window of daily tallies, with the scope's version read in the same snapshot.</summary>
    public async Task<StoredTally> SumNpsAsync(string scopeKey, DayWindow window, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleAsync<(long Promoters, long Passives, long Detractors, long Version)>(new CommandDefinition(
            """
            select coalesce(sum(promoters), 0)::bigint, coalesce(sum(passives), 0)::bigint, coalesce(sum(detractors), 0)::bigint,
                   coalesce((select version from scope_versions where scope_key = @scopeKey), 0)
            from score_daily
            where scope_key = @scopeKey and metric = @metric and day between @start and @end
            """, new { scopeKey, metric = NpsMetric, start = window.Start, end = window.End }, cancellationToken: ct));
        return new StoredTally(new NpsTally(row.Promoters, row.Passives, row.Detractors), row.Version);
    }
}
