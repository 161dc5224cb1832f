using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CxMesh.Feedback.V1;
using Google.Protobuf;

namespace CxMesh.Cli;

/// <summary>
/// How far an import of one file got, kept on this machine (~/.local/share/cxmesh/imports/), so that running the same
/// command again after the client or the server was cut off resumes after the last row the server reported done
/// (<c>resume_after_rows</c>) instead of reading and checking every row again. The record is for this file as it is
/// (path, size, last write) with these options against this server; any change starts from the first row.
/// </summary>
internal sealed class ImportResume
{
    private static readonly TimeSpan SaveEvery = TimeSpan.FromSeconds(1);
    private readonly string _path;
    private readonly string _file;
    private DateTime _savedAt = DateTime.MinValue;

    private ImportResume(string path, string file)
    {
        _path = path;
        _file = file;
    }

    public static ImportResume For(FileInfo file, CsvImportOptions options, string server)
    {
        var key = new StringBuilder()
            .Append(file.FullName).Append('\n').Append(file.Length).Append('\n').Append(file.LastWriteTimeUtc.Ticks).Append('\n').Append(server).Append('\n')
            .Append(Convert.ToBase64String(options.ToByteArray()));
        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())))[..32];
        var folder = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "cxmesh", "imports");
        return new ImportResume(Path.Combine(folder, name + ".json"), file.FullName);
    }

    /// <summary>The rows an earlier run of this import got through, or 0.</summary>
    public long RowsDone()
    {
        try
        {
            return File.Exists(_path) ? JsonSerializer.Deserialize<Record>(File.ReadAllText(_path))?.RowsRead ?? 0 : 0;
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return 0; // an unreadable record: start from the first row (nothing is stored twice either way)
        }
    }

    /// <summary>Records progress (at most once a second unless <paramref name="now"/>).</summary>
    public void Save(long rowsRead, bool now = false)
    {
        if (!now && DateTime.UtcNow - _savedAt < SaveEvery) return;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            var temporary = _path + ".tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(new Record(_file, rowsRead, DateTime.UtcNow)));
            File.Move(temporary, _path, overwrite: true);
            _savedAt = DateTime.UtcNow;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Without a record a re-run reads from the first row: slower, never wrong.
        }
    }

    /// <summary>The import finished: the next run of the same command reads the whole file again.</summary>
    public void Forget()
    {
        try
        {
            File.Delete(_path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind: the next run resumes, and every row it passes over is stored already.
        }
    }

    private sealed record Record(string File, long RowsRead, DateTime UpdatedAt);
}
