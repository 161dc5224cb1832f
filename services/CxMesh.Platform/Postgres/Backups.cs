using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace CxMesh.Platform.Postgres;

/// <summary>A backup or restore that cannot go on; the message says why and what to do, the exit code follows sysexits.</summary>
public sealed class BackupException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>What a backup folder holds: one pg_dump per service database, and when the set was begun.</summary>
public sealed record BackupManifest(int Format, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, IReadOnlyList<BackupFile> Databases);

public sealed record BackupFile(string Service, string File, long Bytes, string Sha256);

/// <summary>
/// Backs up and restores the services' databases with Postgres's own tools (<c>pg_dump --format=custom</c>,
/// <c>pg_restore --single-transaction</c>), as <c>cxmesh-server backup</c> and <c>restore</c> run them. Each dump is a
/// consistent snapshot of its database, but the services' databases are dumped one after another while events flow
/// between them: a consumer dumped early lacks events its producer, dumped later, had already sent. A restore therefore
/// sends again every event any restored service had sent since the backup began (less a margin for the databases'
/// clocks); consumers keep the ids of the events they applied (their inbox), so what they had is skipped and what
/// they lacked is applied: nothing is lost and nothing counted twice. Events still in an outbox at backup time are
/// simply sent after the restore.
/// </summary>
public static class Backups
{
    public const string ManifestFile = "cxmesh-backup.json";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static async Task<BackupManifest> BackupAsync(IReadOnlyList<ServiceDatabase> databases, string directory, string pgDump, TextWriter log, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        if (Directory.EnumerateFileSystemEntries(directory).Any())
        {
            throw new BackupException($"{directory} is not empty: a backup goes into a folder of its own.", 73);
        }
        // The set begins by the first database's clock: a restore sends again what any service sent from then on.
        var startedAt = await NowAsync(databases[0], ct);
        var files = new List<BackupFile>();
        foreach (var database in databases)
        {
            var file = $"{database.Service}.dump";
            var path = Path.Combine(directory, file);
            await RunAsync(pgDump, ["--format=custom", "--no-owner", "--no-privileges", "--file", path], database, null, ct);
            var (bytes, sha) = await DigestAsync(path, ct);
            files.Add(new BackupFile(database.Service, file, bytes, sha));
            await log.WriteLineAsync($"{database.Service}: {file} ({bytes:N0} bytes)");
        }
        var manifest = new BackupManifest(1, startedAt, await NowAsync(databases[0], ct), files);
        await File.WriteAllTextAsync(Path.Combine(directory, ManifestFile), JsonSerializer.Serialize(manifest, Json), ct);
        return manifest;
    }

    /// <summary>
    /// Restores each given database from the folder: every one must be in the manifest, match its checksum and be empty
    /// (no tables), all checked before anything is written. Returns how many sent events each service will send again.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, long>> RestoreAsync(IReadOnlyList<ServiceDatabase> databases, string directory, string pgRestore,
        TimeSpan clockMargin, TextWriter log, CancellationToken ct)
    {
        var manifestPath = Path.Combine(directory, ManifestFile);
        if (!File.Exists(manifestPath)) throw new BackupException($"{directory} holds no {ManifestFile}: it is not a cxmesh-server backup.", 66);
        BackupManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<BackupManifest>(await File.ReadAllTextAsync(manifestPath, ct), Json)
                ?? throw new JsonException("empty");
        }
        catch (JsonException ex)
        {
            throw new BackupException($"{manifestPath} cannot be read ({ex.Message}).", 65);
        }
        if (manifest.Format != 1) throw new BackupException($"{manifestPath} is of format {manifest.Format}; this cxmesh-server reads format 1.", 65);

        var plan = new List<(ServiceDatabase Database, string Path)>();
        foreach (var database in databases)
        {
            var entry = manifest.Databases.FirstOrDefault(d => d.Service == database.Service)
                ?? throw new BackupException($"the backup holds no {database.Service} database (it has {string.Join(", ", manifest.Databases.Select(d => d.Service))}); choose the services to restore with --services.", 66);
            var path = Path.Combine(directory, Path.GetFileName(entry.File));
            if (!File.Exists(path)) throw new BackupException($"{path} is missing from the backup.", 66);
            if ((await DigestAsync(path, ct)).Sha256 != entry.Sha256) throw new BackupException($"{path} does not match the checksum in {ManifestFile}: the file is damaged.", 65);
            await using var connection = await database.OpenConnectionAsync(ct);
            var tables = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')", cancellationToken: ct));
            if (tables > 0)
            {
                throw new BackupException($"the {database.Service} database ({connection.Database}) already has {tables} tables: a restore goes into an empty database (create a new one and point ConnectionStrings:{database.Service} at it).", 73);
            }
            plan.Add((database, path));
        }

        var since = manifest.StartedAt - clockMargin;
        var resent = new Dictionary<string, long>();
        foreach (var (database, path) in plan)
        {
            await RunAsync(pgRestore, ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"], database, path, ct);
            resent[database.Service] = await ResendAsync(database, since, ct);
            await log.WriteLineAsync($"{database.Service}: restored from {Path.GetFileName(path)} (backup begun {manifest.StartedAt:u}); {resent[database.Service]:N0} events sent since {since:u} will be sent again (consumers skip those they had).");
        }
        return resent;
    }

    /// <summary>
    /// Marks the events a service sent since <paramref name="since"/> as unsent: its relay sends them again and each
    /// consumer's inbox skips those it had. After one service is restored to an earlier point, its producers resend
    /// what it consumed since then (as far back as <c>Messaging:SentRetention</c> keeps sent rows).
    /// </summary>
    public static async Task<long> ResendAsync(ServiceDatabase database, DateTimeOffset since, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            update outbox set sent_at = null, attempts = 0, next_attempt_at = now(), last_error = null
            where sent_at >= @since and parked_at is null
            """, new { since = since.UtcDateTime }, cancellationToken: ct));
    }

    private static async Task<DateTimeOffset> NowAsync(ServiceDatabase database, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var now = await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition("select now()", cancellationToken: ct));
        return new DateTimeOffset(DateTime.SpecifyKind(now, DateTimeKind.Utc));
    }

    private static async Task<(long Bytes, string Sha256)> DigestAsync(string path, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        return (stream.Length, Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct)));
    }

    /// <summary>Runs pg_dump or pg_restore against the database: connection settings in libpq's environment, never on the command line.</summary>
    private static async Task RunAsync(string tool, string[] args, ServiceDatabase database, string? input, CancellationToken ct)
    {
        var settings = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        var info = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        if (input is not null)
        {
            info.ArgumentList.Add("--dbname");
            info.ArgumentList.Add(settings.Database ?? "");
            info.ArgumentList.Add(input);
        }
        info.Environment["PGHOST"] = settings.Host ?? "localhost";
        info.Environment["PGPORT"] = settings.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["PGDATABASE"] = settings.Database ?? "";
        info.Environment["PGUSER"] = settings.Username ?? "";
        if (settings.Password is { Length: > 0 } password) info.Environment["PGPASSWORD"] = password;
        info.Environment["PGSSLMODE"] = settings.SslMode switch
        {
            SslMode.Disable => "disable",
            SslMode.Allow => "allow",
            SslMode.Require => "require",
            SslMode.VerifyCA => "verify-ca",
            SslMode.VerifyFull => "verify-full",
            _ => "prefer",
        };
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new BackupException($"{tool} could not be started ({ex.Message}): install the PostgreSQL client tools (e.g. apt-get install postgresql-client, of the server's major version or newer) or set Backup:{(input is null ? "PgDump" : "PgRestore")} to its path.", 69);
        }
        using (process)
        {
            var errors = process.StandardError.ReadToEndAsync(ct);
            _ = process.StandardOutput.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            if (process.ExitCode != 0)
            {
                throw new BackupException($"{Path.GetFileName(tool)} failed for the {database.Service} database (exit {process.ExitCode}): {(await errors).Trim()}", 74);
            }
        }
    }
}
