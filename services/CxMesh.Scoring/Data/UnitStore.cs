using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Data;

/// <summary>A unit as the events described it.</summary>
public sealed record UnitRow(string Key, string Kind, string Name, string? ParentKey);

/// <summary>
/// The units scoring has heard of and the praise they got, from feedback.received alone (never feedback's tables): each
/// event carries the item's unit with the units above it and the units its words praise.
/// </summary>
public sealed class UnitStore([FromKeyedServices(ScoringModule.Name)] ServiceDatabase database)
{
    /// <summary>Keeps each unit's newest description and adds the praise counts, in the write that scores the events.</summary>
    public static async Task RecordAsync(WriteScope write, IReadOnlyCollection<(UnitRow Unit, DateTime DescribedAt)> units,
        IReadOnlyDictionary<(string Unit, DateOnly Day), long> praise, CancellationToken ct)
    {
        // Sorted, so concurrent consumers lock rows in one order.
        var latest = units.GroupBy(u => u.Unit.Key).Select(g => g.MaxBy(u => u.DescribedAt)).OrderBy(u => u.Unit.Key, StringComparer.Ordinal).ToList();
        if (latest.Count > 0)
        {
            await write.Connection.ExecuteAsync(new CommandDefinition(
                """
                insert into units as u (key, kind, name, parent_key, described_at)
                select * from unnest(@keys, @kinds, @names, @parents, @ats)
                on conflict (key) do update set kind = excluded.kind, name = excluded.name, parent_key = excluded.parent_key, described_at = excluded.described_at
                where excluded.described_at >= u.described_at
                """,
                new
                {
                    keys = latest.Select(u => u.Unit.Key).ToArray(),
                    kinds = latest.Select(u => u.Unit.Kind).ToArray(),
                    names = latest.Select(u => u.Unit.Name).ToArray(),
                    parents = latest.Select(u => u.Unit.ParentKey).ToArray(),
                    ats = latest.Select(u => u.DescribedAt).ToArray(),
                }, write.Transaction, cancellationToken: ct));
        }
        if (praise.Count == 0) return;
        var rows = praise.OrderBy(p => p.Key.Unit, StringComparer.Ordinal).ThenBy(p => p.Key.Day).ToList();
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into unit_praise as p (unit_key, day, praise)
            select * from unnest(@units, @days, @counts)
            on conflict (unit_key, day) do update set praise = p.praise + excluded.praise
            """,
            new { units = rows.Select(r => r.Key.Unit).ToArray(), days = rows.Select(r => r.Key.Day).ToArray(), counts = rows.Select(r => r.Value).ToArray() },
            write.Transaction, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<UnitRow>> AllAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<UnitRow>(new CommandDefinition(
            "select key, kind, name, parent_key as ParentKey from units order by key", cancellationToken: ct))).ToList();
    }

    public async Task<long> PraiseAsync(IReadOnlyCollection<string> units, DateOnly start, DateOnly end, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select coalesce(sum(praise), 0)::bigint from unit_praise where unit_key = any(@units) and day between @start and @end",
            new { units = units.ToArray(), start, end }, cancellationToken: ct));
    }
}
