using System.Collections.Concurrent;
using CxMesh.Journey.Domain;
using CxMesh.Journey.V1;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Journey.Data;

public sealed record CurrentJourney(JourneyDefinition Definition, JourneySpec Spec, bool Archived);

public sealed class DefinitionStore([FromKeyedServices(JourneyModule.Name)] ServiceDatabase database)
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default);
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    // Versions never change once written, so they can be cached for the life of the process.
    private readonly ConcurrentDictionary<(string Key, int Version), JourneyDefinition> _versions = new();

    public async Task<JourneyDefinition> CreateAsync(JourneyDefinition definition, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var created = await write.Connection.ExecuteAsync(new CommandDefinition(
            "insert into journeys (key, current_version) values (@key, 1) on conflict do nothing",
            new { key = definition.Key }, write.Transaction, cancellationToken: ct));
        if (created == 0) throw new AlreadyExistsException($"Journey '{definition.Key}' exists already; update it to create a new version.");
        var stored = await InsertVersionAsync(write, definition, 1, ct);
        await write.CommitAsync(ct);
        return stored;
    }

    public async Task<JourneyDefinition> UpdateAsync(JourneyDefinition definition, int expectedVersion, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var head = await write.Connection.QuerySingleOrDefaultAsync<(int Current, DateTime? ArchivedAt)?>(new CommandDefinition(
            "select current_version, archived_at from journeys where key = @key for update",
            new { key = definition.Key }, write.Transaction, cancellationToken: ct))
            ?? throw new NotFoundException("journey", definition.Key);
        if (head.ArchivedAt is not null)
        {
            throw new PreconditionFailedException("JOURNEY_ARCHIVED", $"Journey '{definition.Key}' is archived and cannot change.", "definition.key");
        }
        if (expectedVersion != 0 && expectedVersion != head.Current)
        {
            throw new PreconditionFailedException("VERSION_MISMATCH",
                $"Journey '{definition.Key}' is at version {head.Current}, not {expectedVersion}; reload it and apply the change again.",
                "expected_version", new Dictionary<string, string> { ["current_version"] = head.Current.ToString() });
        }
        var next = head.Current + 1;
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "update journeys set current_version = @next, updated_at = now() where key = @key",
            new { next, key = definition.Key }, write.Transaction, cancellationToken: ct));
        var stored = await InsertVersionAsync(write, definition, next, ct);
        await write.CommitAsync(ct);
        return stored;
    }

    public async Task<JourneyDefinition> ArchiveAsync(string key, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var archived = await connection.ExecuteAsync(new CommandDefinition(
            "update journeys set archived_at = coalesce(archived_at, now()), updated_at = now() where key = @key",
            new { key }, cancellationToken: ct));
        if (archived == 0) throw new NotFoundException("journey", key);
        return await GetAsync(key, 0, ct) ?? throw new NotFoundException("journey", key);
    }

    internal const string CurrentDefinitionSql = """
        select d.definition::text as Json, d.version, d.created_at as CreatedAt, j.archived_at is not null as Archived
        from journeys j join journey_definitions d on d.key = j.key and d.version = j.current_version
        where j.key = @journeyKey
        """;

    /// <summary>Version 0 means the current one.</summary>
    public async Task<JourneyDefinition?> GetAsync(string key, int version, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<DefinitionRow>(new CommandDefinition(
            """
            select d.definition::text as Json, d.version, d.created_at as CreatedAt, j.archived_at is not null as Archived
            from journeys j join journey_definitions d on d.key = j.key
            where j.key = @key and d.version = case when @version = 0 then j.current_version else @version end
            """, new { key, version }, cancellationToken: ct));
        return row?.ToProto();
    }

    public async Task<(IReadOnlyList<JourneyDefinition> Page, string? NextAfter)> ListAsync(string? after, int pageSize, bool includeArchived, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = (await connection.QueryAsync<DefinitionRow>(new CommandDefinition(
            """
            select d.definition::text as Json, d.version, d.created_at as CreatedAt, j.archived_at is not null as Archived
            from journeys j join journey_definitions d on d.key = j.key and d.version = j.current_version
            where (@after::text is null or j.key > @after) and (@includeArchived or j.archived_at is null)
            order by j.key
            limit @limit
            """, new { after, includeArchived, limit = pageSize + 1 }, cancellationToken: ct))).ToList();
        var page = rows.Take(pageSize).Select(r => r.ToProto()).ToList();
        return (page, rows.Count > pageSize ? page[^1].Key : null);
    }

    /// <summary>The current definitions of the given journeys, for checking touchpoints on ingest.</summary>
    public async Task<IReadOnlyDictionary<string, CurrentJourney>> CurrentAsync(IReadOnlyCollection<string> keys, CancellationToken ct)
    {
        if (keys.Count == 0) return new Dictionary<string, CurrentJourney>();
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<DefinitionRow>(new CommandDefinition(
            """
            select d.definition::text as Json, d.version, d.created_at as CreatedAt, j.archived_at is not null as Archived
            from journeys j join journey_definitions d on d.key = j.key and d.version = j.current_version
            where j.key = any(@keys)
            """, new { keys = keys.ToArray() }, cancellationToken: ct));
        return rows.Select(r => r.ToProto()).ToDictionary(d => d.Key, d => new CurrentJourney(d, ToSpec(d), d.Archived));
    }

    /// <summary>A specific version, cached; null when it does not exist.</summary>
    public async Task<JourneyDefinition?> VersionAsync(string key, int version, CancellationToken ct)
    {
        if (_versions.TryGetValue((key, version), out var cached)) return cached;
        var definition = await GetAsync(key, version, ct);
        if (definition is null) return null;
        definition.Archived = false;
        _versions[(key, version)] = definition;
        return definition;
    }

    /// <summary>A specific version, cached, read on the caller's connection (inside its transaction).</summary>
    public async Task<JourneyDefinition> VersionAsync(WriteScope write, string key, int version, CancellationToken ct)
    {
        if (_versions.TryGetValue((key, version), out var cached)) return cached;
        var row = await write.Connection.QuerySingleAsync<DefinitionRow>(new CommandDefinition(
            """
            select d.definition::text as Json, d.version, d.created_at as CreatedAt, false as Archived
            from journey_definitions d where d.key = @key and d.version = @version
            """, new { key, version }, write.Transaction, cancellationToken: ct));
        var definition = row.ToProto();
        definition.Archived = false;
        _versions[(key, version)] = definition;
        return definition;
    }

    public static JourneySpec ToSpec(JourneyDefinition d) => new(
        d.Key,
        d.Version,
        d.Stages.Select(s => new StageSpec(s.Key, s.Touchpoints.Select(t => new TouchpointSpec(t.Key, t.StartsJourney, t.EndsJourney, t.IsReferral)).ToList())).ToList(),
        d.InactivityTimeout.ToTimeSpan(),
        d.SegmentAttributes.FirstOrDefault() ?? "segment");

    private static async Task<JourneyDefinition> InsertVersionAsync(WriteScope write, JourneyDefinition definition, int version, CancellationToken ct)
    {
        var stored = definition.Clone();
        stored.Version = version;
        stored.Archived = false;
        stored.CreatedAt = null;
        var createdAt = await write.Connection.ExecuteScalarAsync<DateTime>(new CommandDefinition(
            "insert into journey_definitions (key, version, definition) values (@key, @version, @json::jsonb) returning created_at",
            new { key = definition.Key, version, json = Formatter.Format(stored) }, write.Transaction, cancellationToken: ct));
        stored.CreatedAt = Timestamp.FromDateTime(createdAt);
        return stored;
    }

    internal sealed record DefinitionRow(string Json, int Version, DateTime CreatedAt, bool Archived)
    {
        public JourneyDefinition ToProto()
        {
            var d = Parser.Parse<JourneyDefinition>(Json);
            d.Version = Version;
            d.Archived = Archived;
            d.CreatedAt = Timestamp.FromDateTime(CreatedAt);
            return d;
        }
    }
}
