using CxMesh.Feedback.Domain;
using CxMesh.Platform.Postgres;
using CxMesh.Platform.Validation;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Data;

/// <summary>
/// Registered units. Every replica caches the whole tree (units are few) and reloads it when the newest save's version
/// moved, one indexed read before each chunk of feedback is checked; checks and praise of one chunk use one tree.
/// </summary>
public sealed class UnitRegistry([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database)
{
    private UnitTree _tree = UnitTree.Empty;
    private readonly SemaphoreSlim _loading = new(1, 1);

    private const string Columns =
        "key, kind, name, parent_key as ParentKey, aliases, recognition_member_id as RecognitionMemberId, recognition_team_id as RecognitionTeamId, updated_at as UpdatedAt, version";

    /// <summary>The tree last loaded: call <see cref="CurrentAsync"/> first where a save of another replica must be seen.</summary>
    public UnitTree Cached => _tree;

    /// <summary>The current tree, reloaded when a unit was saved since it was read.</summary>
    public async Task<UnitTree> CurrentAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var version = await connection.ExecuteScalarAsync<long>(new CommandDefinition("select coalesce(max(version), 0) from units", cancellationToken: ct));
        if (version == _tree.Version) return _tree;
        await _loading.WaitAsync(ct);
        try
        {
            if (version != _tree.Version) _tree = await LoadAsync(connection, null, ct);
            return _tree;
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>
    /// Creates or replaces a unit. Saves take turns (a table lock for the write), so two cannot make a clash the checks
    /// would have refused; the checks run against the tree as it is inside that turn. Bad units throw naming the field.
    /// </summary>
    public async Task<(Unit Unit, bool Created)> SaveAsync(Unit unit, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        await write.Connection.ExecuteAsync(new CommandDefinition("lock table units in share row exclusive mode", transaction: write.Transaction, cancellationToken: ct));
        var tree = await LoadAsync(write.Connection, write.Transaction, ct);
        var check = new Violations();
        foreach (var (field, problem) in UnitRules.Check(unit, tree)) check.Add(field, problem);
        check.ThrowIfAny();
        var saved = await write.Connection.QuerySingleAsync<Row>(new CommandDefinition(
            $"""
            insert into units as u (key, kind, name, parent_key, aliases, recognition_member_id, recognition_team_id, created_at, updated_at)
            values (@Key, @kind, @Name, @ParentKey, @aliases, @RecognitionMemberId, @RecognitionTeamId, @now, @now)
            on conflict (key) do update set name = excluded.name, parent_key = excluded.parent_key, aliases = excluded.aliases,
                recognition_member_id = excluded.recognition_member_id, recognition_team_id = excluded.recognition_team_id,
                updated_at = excluded.updated_at, version = nextval('unit_versions')
            returning {Columns}, (xmax = 0) as Created
            """,
            new
            {
                unit.Key,
                kind = Unit.KindName(unit.Kind),
                unit.Name,
                unit.ParentKey,
                aliases = unit.Aliases.ToArray(),
                unit.RecognitionMemberId,
                unit.RecognitionTeamId,
                now = write.Now.UtcDateTime,
            }, write.Transaction, cancellationToken: ct));
        await write.CommitAsync(ct);
        return (saved.ToUnit(), saved.Created);
    }

    private static async Task<UnitTree> LoadAsync(Npgsql.NpgsqlConnection connection, Npgsql.NpgsqlTransaction? transaction, CancellationToken ct)
    {
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition($"select {Columns}, false as Created from units", transaction: transaction, cancellationToken: ct))).ToList();
        return new UnitTree(rows.Select(r => r.ToUnit()), rows.Count == 0 ? 0 : rows.Max(r => r.Version));
    }

    // A class with setters: Dapper materialises text[] columns into properties, not into record constructors.
    private sealed class Row
    {
        public string Key { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Name { get; set; } = "";
        public string? ParentKey { get; set; }
        public string[] Aliases { get; set; } = [];
        public string? RecognitionMemberId { get; set; }
        public string? RecognitionTeamId { get; set; }
        public DateTime UpdatedAt { get; set; }
        public long Version { get; set; }
        public bool Created { get; set; }

        public Unit ToUnit() => new(Key, Unit.ParseKind(Kind), Name, ParentKey, Aliases, RecognitionMemberId, RecognitionTeamId, DateTime.SpecifyKind(UpdatedAt, DateTimeKind.Utc));
    }
}
