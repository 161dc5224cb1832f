using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Data;

/// <summary>A stored import profile: its options as protobuf bytes (CsvImportOptions).</summary>
public sealed record StoredImportProfile(string Name, string Description, byte[] Options, DateTime UpdatedAt, string UpdatedBy);

/// <summary>The import_profiles table.</summary>
public sealed class ImportProfileStore([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database, TimeProvider clock)
{
    /// <summary>Creates or replaces; true when it was created.</summary>
    public async Task<(StoredImportProfile Profile, bool Created)> PutAsync(string name, string description, byte[] options, string updatedBy, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var at = clock.GetUtcNow().UtcDateTime;
        // xmax = 0 only for a row this statement inserted.
        var created = await connection.ExecuteScalarAsync<bool>(new CommandDefinition("""
            insert into import_profiles (name, description, options, updated_at, updated_by) values (@name, @description, @options, @at, @updatedBy)
            on conflict (name) do update set description = excluded.description, options = excluded.options, updated_at = excluded.updated_at, updated_by = excluded.updated_by
            returning xmax = 0
            """, new { name, description, options, at, updatedBy }, cancellationToken: ct));
        return (new StoredImportProfile(name, description, options, at, updatedBy), created);
    }

    public async Task<StoredImportProfile?> GetAsync(string name, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<StoredImportProfile>(new CommandDefinition(
            "select name, description, options, updated_at as UpdatedAt, updated_by as UpdatedBy from import_profiles where name = @name", new { name }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<StoredImportProfile>> ListAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<StoredImportProfile>(new CommandDefinition(
            "select name, description, options, updated_at as UpdatedAt, updated_by as UpdatedBy from import_profiles order by name", cancellationToken: ct))).AsList();
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("delete from import_profiles where name = @name", new { name }, cancellationToken: ct)) > 0;
    }
}
