using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Data;

/// <summary>One taxonomy version and the re-tag of stored items to it (migration 0013).</summary>
public sealed record RetagJobRow(
    long Version, string Change, DateTime ChangedAt, string State, Guid? CursorId, long ItemsTotal, long ItemsScanned, long ItemsChanged, DateTime? FinishedAt);

/// <summary>A stored item as the re-tag reads it.</summary>
public sealed record RetagItem(Guid Id, string? RedactedVerbatim, string? Language, string Themes, long TaxonomyVersion, bool Erased, bool Duplicate);

/// <summary>Taxonomy versions and their re-tags: started with the change, advanced batch by batch in the write that re-tags the items.</summary>
public sealed class RetagStore([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database)
{
    private const string Columns =
        """
        version as Version, change as Change, changed_at as ChangedAt, state as State, cursor_id as CursorId, items_total as ItemsTotal,
        items_scanned as ItemsScanned, items_changed as ItemsChanged, finished_at as FinishedAt
        """;

    /// <summary>Taxonomy changes one at a time, so versions follow each other in the order the changes commit.</summary>
    public static Task LockTaxonomyAsync(WriteScope write, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            "select pg_advisory_xact_lock(hashtext('cxmesh.feedback.taxonomy'))", transaction: write.Transaction, cancellationToken: ct));

    /// <summary>
    /// A new version and its re-tag, from the oldest item; a re-tag still running is superseded (the new one covers
    /// every item). Waits for a batch of the superseded re-tag in progress to commit.
    /// </summary>
    public static async Task<RetagJobRow> StartAsync(WriteScope write, string change, CancellationToken ct)
    {
        var now = write.Now.UtcDateTime;
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "update taxonomy_versions set state = 'superseded', finished_at = @now where state = 'running'", new { now }, write.Transaction, cancellationToken: ct));
        return await write.Connection.QuerySingleAsync<RetagJobRow>(new CommandDefinition(
            $"""
            insert into taxonomy_versions (version, change, changed_at, items_total)
            select coalesce(max(version), 0) + 1, @change, @now, (select count(*) from feedback_items) from taxonomy_versions
            returning {Columns}
            """, new { change, now }, write.Transaction, cancellationToken: ct));
    }

    /// <summary>The taxonomy as this write sees it.</summary>
    public static Task<Taxonomy> TaxonomyAsync(WriteScope write, CancellationToken ct) => ThemeCatalog.LoadAsync(write.Connection, write.Transaction, ct);

    /// <summary>The running re-tag, locked for this write; null when none runs or another replica is at a batch of it.</summary>
    public static Task<RetagJobRow?> LockRunningAsync(WriteScope write, CancellationToken ct) =>
        write.Connection.QuerySingleOrDefaultAsync<RetagJobRow?>(new CommandDefinition(
            $"select {Columns} from taxonomy_versions where state = 'running' order by version desc limit 1 for update skip locked",
            transaction: write.Transaction, cancellationToken: ct));

    /// <summary>The next items after <paramref name="after"/> and before <paramref name="before"/>, in id (arrival) order.</summary>
    public static async Task<IReadOnlyList<RetagItem>> NextItemsAsync(WriteScope write, Guid after, Guid before, int limit, CancellationToken ct) =>
        (await write.Connection.QueryAsync<RetagItem>(new CommandDefinition(
            """
            select id as Id, redacted_verbatim as RedactedVerbatim, language as Language, themes::text as Themes,
                   taxonomy_version as TaxonomyVersion, erased_at is not null as Erased, duplicate_of is not null as Duplicate
            from feedback_items where id > @after and id < @before order by id limit @limit
            """, new { after, before, limit }, write.Transaction, cancellationToken: ct))).AsList();

    /// <summary>
    /// Records the version on every item from <paramref name="after"/> to <paramref name="last"/>, with the new themes of
    /// those that changed. An item erased meanwhile keeps no themes of its words.
    /// </summary>
    public static async Task ApplyAsync(WriteScope write, long version, Guid after, Guid last, IReadOnlyList<(Guid Id, string Themes)> changed, CancellationToken ct)
    {
        if (changed.Count > 0)
        {
            await write.Connection.ExecuteAsync(new CommandDefinition(
                """
                update feedback_items i set themes = u.themes::jsonb, taxonomy_version = @version
                from unnest(@ids, @themes) as u(id, themes)
                where i.id = u.id and i.erased_at is null
                """, new { version, ids = changed.Select(c => c.Id).ToArray(), themes = changed.Select(c => c.Themes).ToArray() }, write.Transaction, cancellationToken: ct));
        }
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "update feedback_items set taxonomy_version = @version where id > @after and id <= @last and taxonomy_version < @version",
            new { version, after, last }, write.Transaction, cancellationToken: ct));
    }

    public static Task AdvanceAsync(WriteScope write, long version, Guid cursor, int scanned, int changed, bool finished, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            update taxonomy_versions set cursor_id = @cursor, items_scanned = items_scanned + @scanned, items_changed = items_changed + @changed,
                state = case when @finished then 'finished' else state end, finished_at = case when @finished then @now else finished_at end
            where version = @version
            """, new { version, cursor, scanned, changed, finished, now = write.Now.UtcDateTime }, write.Transaction, cancellationToken: ct));

    /// <summary>One version's re-tag, or the latest's (<paramref name="version"/> 0); null when there is no such version.</summary>
    public async Task<RetagJobRow?> GetAsync(long version, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<RetagJobRow?>(new CommandDefinition(
            $"select {Columns} from taxonomy_versions where version = @version or (@version = 0 and version = (select max(version) from taxonomy_versions))",
            new { version }, cancellationToken: ct));
    }
}
