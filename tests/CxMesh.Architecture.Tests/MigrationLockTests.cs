using System.Security.Cryptography;
using System.Text;
using CxMesh.TestKit;

namespace CxMesh.Architecture.Tests;

/// <summary>
/// A released migration never changes: databases that ran it will not run it again, so a change to it reaches only new
/// databases (scoring's 0008 once gained a column in place, and every database migrated before lacked it). Every
/// migration's SHA-256 is in services/migrations.lock; a new migration adds its line, an old one keeps its own.
/// </summary>
public sealed class MigrationLockTests
{
    private const string LockFile = "services/migrations.lock";

    private static IEnumerable<string> Migrations() =>
        Directory.EnumerateFiles(Path.Combine(RepoFiles.Root, "services"), "*.sql", SearchOption.AllDirectories)
            .Where(p => p.Replace('\\', '/').Contains("/Migrations/", StringComparison.Ordinal) && !p.Contains("/bin/", StringComparison.Ordinal) && !p.Contains("/obj/", StringComparison.Ordinal))
            .Select(p => Path.GetRelativePath(RepoFiles.Root, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);

    // Line endings do not change what a script does: hashed with \n.
    private static string Hash(string path) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(RepoFiles.Root, path)).ReplaceLineEndings("\n"))));

    [Fact]
    public void No_released_migration_has_changed_and_every_migration_is_locked()
    {
        var locked = File.ReadAllLines(Path.Combine(RepoFiles.Root, LockFile))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split("  ", 2))
            .ToDictionary(p => p[1], p => p[0]);
        var problems = new List<string>();
        foreach (var path in Migrations())
        {
            var hash = Hash(path);
            if (!locked.TryGetValue(path, out var expected))
            {
                problems.Add($"{path} is not in {LockFile}: a new migration appends its line ({hash}  {path}).");
            }
            else if (expected != hash)
            {
                problems.Add($"{path} changed after it was released: databases that ran it will not run it again. Put the change in a new migration.");
            }
        }
        problems.AddRange(locked.Keys.Except(Migrations()).Select(p => $"{p} is in {LockFile} but gone: a released migration is never removed."));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
