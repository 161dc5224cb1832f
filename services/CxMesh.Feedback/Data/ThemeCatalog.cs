using CxMesh.Feedback.Domain.Text;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Data;

/// <summary>
/// The theme taxonomy, from Postgres, cached in memory and reloaded every 30 seconds (or at once after a change
/// made through this replica). The default CX drivers are added on first use without overwriting edits.
/// </summary>
public sealed class ThemeCatalog([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database, TimeProvider clock)
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _loading = new(1, 1);
    private IReadOnlyList<Theme>? _themes;
    private DateTimeOffset _loadedAt;
    private bool _seeded;

    public async Task<IReadOnlyList<Theme>> CurrentAsync(CancellationToken ct)
    {
        if (_themes is { } themes && clock.GetUtcNow() - _loadedAt < RefreshEvery) return themes;
        await _loading.WaitAsync(ct);
        try
        {
            if (_themes is { } fresh && clock.GetUtcNow() - _loadedAt < RefreshEvery) return fresh;
            await using var connection = await database.OpenConnectionAsync(ct);
            if (!_seeded)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    insert into themes (key, name, keywords, phrases)
                    select k, n, string_to_array(kw, chr(31)), string_to_array(ph, chr(31))
                    from unnest(@keys, @names, @keywords, @phrases) as t(k, n, kw, ph)
                    on conflict (key) do nothing
                    """,
                    new
                    {
                        keys = DefaultTaxonomy.Themes.Select(t => t.Key).ToArray(),
                        names = DefaultTaxonomy.Themes.Select(t => t.Name).ToArray(),
                        keywords = DefaultTaxonomy.Themes.Select(t => string.Join('\u001f', t.Keywords)).ToArray(),
                        phrases = DefaultTaxonomy.Themes.Select(t => string.Join('\u001f', t.Phrases)).ToArray(),
                    }, cancellationToken: ct));
                _seeded = true;
            }
            var rows = await connection.QueryAsync<Row>(new CommandDefinition(
                "select key, name, keywords, phrases from themes order by key", cancellationToken: ct));
            _themes = rows.Select(r => new Theme(r.Key, r.Name, r.Keywords, r.Phrases)).ToList();
            _loadedAt = clock.GetUtcNow();
            return _themes;
        }
        finally
        {
            _loading.Release();
        }
    }

    public async Task<Theme> SaveAsync(Theme theme, bool create, CancellationToken ct)
    {
        await CurrentAsync(ct); // defaults first, so "create" of a default key conflicts as it should
        await using var connection = await database.OpenConnectionAsync(ct);
        var changed = create
            ? await connection.ExecuteAsync(new CommandDefinition(
                "insert into themes (key, name, keywords, phrases) values (@Key, @Name, @keywords, @phrases) on conflict (key) do nothing",
                new { theme.Key, theme.Name, keywords = theme.Keywords.ToArray(), phrases = theme.Phrases.ToArray() }, cancellationToken: ct))
            : await connection.ExecuteAsync(new CommandDefinition(
                "update themes set name = @Name, keywords = @keywords, phrases = @phrases, updated_at = now() where key = @Key",
                new { theme.Key, theme.Name, keywords = theme.Keywords.ToArray(), phrases = theme.Phrases.ToArray() }, cancellationToken: ct));
        if (changed == 0)
        {
            throw create ? new AlreadyExistsException($"Theme '{theme.Key}' exists already; update it instead.") : new NotFoundException("theme", theme.Key);
        }
        _themes = null; // reload on next use
        return theme;
    }

    // Setters, not a record constructor: Dapper fills text[] columns into properties.
    private sealed class Row
    {
        public string Key { get; set; } = "";
        public string Name { get; set; } = "";
        public string[] Keywords { get; set; } = [];
        public string[] Phrases { get; set; } = [];
    }
}
