using CxMesh.Feedback.Domain.Text;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CxMesh.Feedback.Data;

/// <summary>The themes of one taxonomy version.</summary>
public sealed record Taxonomy(long Version, IReadOnlyList<Theme> Themes);

/// <summary>
/// The theme taxonomy, from Postgres, cached in memory and reloaded every <c>Feedback:Retag:TaxonomyRefresh</c> (or at
/// once after a change made through this replica). Every change is a new version, recorded with the re-tag of the stored
/// items it starts (<see cref="RetagStore"/>), in one write. The default CX drivers are added on first use of a database
/// whose taxonomy was never changed, without overwriting edits.
/// </summary>
public sealed class ThemeCatalog([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database, TimeProvider clock, IOptions<FeedbackOptions> options)
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private Taxonomy? _taxonomy;
    private DateTimeOffset _loadedAt;
    private bool _seeded;

    /// <summary>Raised after a change committed through this replica (the re-tag worker wakes on it).</summary>
    public event Action? Changed;

    public async Task<IReadOnlyList<Theme>> CurrentAsync(CancellationToken ct) => (await CurrentTaxonomyAsync(ct)).Themes;

    public async Task<Taxonomy> CurrentTaxonomyAsync(CancellationToken ct)
    {
        var refresh = options.Value.Retag.TaxonomyRefresh;
        if (_taxonomy is { } taxonomy && clock.GetUtcNow() - _loadedAt < refresh) return taxonomy;
        await _loading.WaitAsync(ct);
        try
        {
            if (_taxonomy is { } fresh && clock.GetUtcNow() - _loadedAt < refresh) return fresh;
            await using var connection = await database.OpenConnectionAsync(ct);
            if (!_seeded)
            {
                // Only while the taxonomy was never changed: a deleted default stays deleted.
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    insert into themes (key, name, keywords, phrases, generic_keywords, generic_phrases)
                    select k, n, string_to_array(kw, chr(31)), string_to_array(ph, chr(31)), string_to_array(gk, chr(31)), string_to_array(gp, chr(31))
                    from unnest(@keys, @names, @keywords, @phrases, @genericKeywords, @genericPhrases) as t(k, n, kw, ph, gk, gp)
                    where not exists (select 1 from taxonomy_versions where version > 1)
                    on conflict (key) do nothing
                    """,
                    new
                    {
                        keys = DefaultTaxonomy.Themes.Select(t => t.Key).ToArray(),
                        names = DefaultTaxonomy.Themes.Select(t => t.Name).ToArray(),
                        keywords = DefaultTaxonomy.Themes.Select(t => Joined(t.Keywords)).ToArray(),
                        phrases = DefaultTaxonomy.Themes.Select(t => Joined(t.Phrases)).ToArray(),
                        genericKeywords = DefaultTaxonomy.Themes.Select(t => Joined(t.GenericKeywords)).ToArray(),
                        genericPhrases = DefaultTaxonomy.Themes.Select(t => Joined(t.GenericPhrases)).ToArray(),
                    }, cancellationToken: ct));
                await UpgradeShippedDefaultsAsync(ct);
                _seeded = true;
            }
            _taxonomy = await LoadAsync(connection, null, ct);
            _loadedAt = clock.GetUtcNow();
            return _taxonomy;
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Postgres arrays travel as U+001F-joined text through unnest (Npgsql has no array of arrays).</summary>
    private static string Joined(IReadOnlyList<string> values) => string.Join('\u001f', values);

    /// <summary>
    /// Brings stored default themes that are still exactly as an earlier release shipped them (never edited) up to the
    /// current defaults, as one taxonomy change with its re-tag of history. Edited or deleted defaults are left alone;
    /// a second replica finds nothing left to upgrade and changes nothing.
    /// </summary>
    private async Task UpgradeShippedDefaultsAsync(CancellationToken ct)
    {
        var current = DefaultTaxonomy.Themes.ToDictionary(t => t.Key);
        var upgrades = ShippedDefaults.Previous.Where(p => current.ContainsKey(p.Key)).ToList();
        await using var write = await database.BeginWriteAsync(ct);
        await RetagStore.LockTaxonomyAsync(write, ct);
        var changed = await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            update themes s set keywords = string_to_array(u.kw, chr(31)), phrases = string_to_array(u.ph, chr(31)),
                   generic_keywords = string_to_array(u.gk, chr(31)), generic_phrases = string_to_array(u.gp, chr(31)), updated_at = now()
            from unnest(@keys, @keywords, @phrases, @genericKeywords, @genericPhrases, @oldKeywords, @oldPhrases) as u(k, kw, ph, gk, gp, okw, oph)
            where s.key = u.k and s.keywords = string_to_array(u.okw, chr(31)) and s.phrases = string_to_array(u.oph, chr(31))
              and s.generic_keywords = '{}' and s.generic_phrases = '{}'
            """,
            new
            {
                keys = upgrades.Select(p => p.Key).ToArray(),
                keywords = upgrades.Select(p => Joined(current[p.Key].Keywords)).ToArray(),
                phrases = upgrades.Select(p => Joined(current[p.Key].Phrases)).ToArray(),
                genericKeywords = upgrades.Select(p => Joined(current[p.Key].GenericKeywords)).ToArray(),
                genericPhrases = upgrades.Select(p => Joined(current[p.Key].GenericPhrases)).ToArray(),
                oldKeywords = upgrades.Select(p => Joined(p.Keywords)).ToArray(),
                oldPhrases = upgrades.Select(p => Joined(p.Phrases)).ToArray(),
            }, write.Transaction, cancellationToken: ct));
        if (changed == 0) return; // not committed: nothing changed, nothing to re-tag
        await RetagStore.StartAsync(write, $"upgraded {changed} unedited default themes to this release's vocabulary", ct);
        await write.CommitAsync(ct);
        Changed?.Invoke();
    }

    /// <summary>
    /// The taxonomy as stored. The version is read first: should a change commit between the two reads, items matched
    /// against the newer themes are labelled with the older version, and the change's re-tag matches them again.
    /// </summary>
    public static async Task<Taxonomy> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken ct)
    {
        var version = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select coalesce(max(version), 0) from taxonomy_versions", transaction: transaction, cancellationToken: ct));
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            "select key, name, keywords, phrases, generic_keywords as GenericKeywords, generic_phrases as GenericPhrases from themes order by key",
            transaction: transaction, cancellationToken: ct));
        return new Taxonomy(version, rows.Select(r => new Theme(r.Key, r.Name, r.Keywords, r.Phrases) { GenericKeywords = r.GenericKeywords, GenericPhrases = r.GenericPhrases }).ToList());
    }

    /// <summary>Creates or replaces a theme; returns the re-tag the new version starts.</summary>
    public async Task<RetagJobRow> SaveAsync(Theme theme, bool create, CancellationToken ct)
    {
        await CurrentAsync(ct); // defaults first, so "create" of a default key conflicts as it should
        return await ChangeAsync($"{(create ? "created" : "updated")} theme {theme.Key}", async write =>
        {
            var changed = create
                ? await write.Connection.ExecuteAsync(new CommandDefinition(
                    """
                    insert into themes (key, name, keywords, phrases, generic_keywords, generic_phrases)
                    values (@Key, @Name, @keywords, @phrases, @genericKeywords, @genericPhrases) on conflict (key) do nothing
                    """,
                    Parameters(theme), write.Transaction, cancellationToken: ct))
                : await write.Connection.ExecuteAsync(new CommandDefinition(
                    """
                    update themes set name = @Name, keywords = @keywords, phrases = @phrases, generic_keywords = @genericKeywords,
                           generic_phrases = @genericPhrases, updated_at = now()
                    where key = @Key
                    """,
                    Parameters(theme), write.Transaction, cancellationToken: ct));
            if (changed == 0)
            {
                throw create ? new AlreadyExistsException($"Theme '{theme.Key}' exists already; update it instead.") : new NotFoundException("theme", theme.Key);
            }
        }, ct);
    }

    private static object Parameters(Theme theme) => new
    {
        theme.Key,
        theme.Name,
        keywords = theme.Keywords.ToArray(),
        phrases = theme.Phrases.ToArray(),
        genericKeywords = theme.GenericKeywords.ToArray(),
        genericPhrases = theme.GenericPhrases.ToArray(),
    };

    /// <summary>Removes a theme; returns the re-tag the new version starts.</summary>
    public async Task<RetagJobRow> DeleteAsync(string key, CancellationToken ct)
    {
        await CurrentAsync(ct);
        return await ChangeAsync($"deleted theme {key}", async write =>
        {
            var deleted = await write.Connection.ExecuteAsync(new CommandDefinition(
                "delete from themes where key = @key", new { key }, write.Transaction, cancellationToken: ct));
            if (deleted == 0) throw new NotFoundException("theme", key);
        }, ct);
    }

    private async Task<RetagJobRow> ChangeAsync(string change, Func<WriteScope, Task> apply, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        await RetagStore.LockTaxonomyAsync(write, ct);
        await apply(write);
        var job = await RetagStore.StartAsync(write, change, ct);
        write.AfterCommit(_ =>
        {
            _taxonomy = null; // reload on next use
            Changed?.Invoke();
            return Task.CompletedTask;
        });
        await write.CommitAsync(ct);
        return job;
    }

    // Setters, not a record constructor: Dapper fills text[] columns into properties.
    private sealed class Row
    {
        public string Key { get; set; } = "";
        public string Name { get; set; } = "";
        public string[] Keywords { get; set; } = [];
        public string[] Phrases { get; set; } = [];
        public string[] GenericKeywords { get; set; } = [];
        public string[] GenericPhrases { get; set; } = [];
    }
}
