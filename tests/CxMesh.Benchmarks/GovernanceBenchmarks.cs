using System.Diagnostics;
using CxMesh.Governance.Domain;
using CxMesh.Governance.V1;
using CxMesh.Platform.Auth;
using Npgsql;
using NpgsqlTypes;

namespace CxMesh.Benchmarks;

internal static class GovernanceBenchmarks
{
    /// <summary>
    /// The audit log's two costs: VerifyAuditLog over a long chain against a plain streaming read of the same rows (the
    /// hashing is the difference), and audited changes (one chain, one advisory lock) against unaudited ones of the same
    /// shape from the same concurrent writers. The chain is loaded with COPY, hashed exactly as the service hashes it.
    /// </summary>
    public static async Task AuditAsync(int entries, int writers, int changes)
    {
        Console.WriteLine($"# Governance audit log: verify {entries:N0} entries; {changes:N0} changes from {writers} writers, audited vs not");
        await using var host = await BenchHost.StartAsync("governance", new Dictionary<string, string?> { ["CxMesh:Delivery"] = "InProcess" });
        var database = host.Databases["governance"];

        var load = Stopwatch.StartNew();
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var writer = await connection.BeginBinaryImportAsync(
                "copy audit_log (sequence, occurred_at, kind, subject, actor, details, previous_hash, hash) from stdin (format binary)");
            var previous = AuditChain.Genesis;
            var at = AuditChain.ToStoredPrecision(DateTime.UtcNow.AddDays(-30));
            for (long i = 1; i <= entries; i++)
            {
                var time = at.AddTicks(i * 10);
                var details = $$"""{"partnerId":"farm-{{i % 50}}","approved":true,"reason":"bench","fields":["ratings","themes"]}""";
                var hash = AuditChain.Hash(i, time, "sharing.decided", $"agreement/{i}/v1", "bench-admin", details, previous);
                await writer.StartRowAsync();
                await writer.WriteAsync(i, NpgsqlDbType.Bigint);
                await writer.WriteAsync(time, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync("sharing.decided", NpgsqlDbType.Text);
                await writer.WriteAsync($"agreement/{i}/v1", NpgsqlDbType.Text);
                await writer.WriteAsync("bench-admin", NpgsqlDbType.Text);
                await writer.WriteAsync(details, NpgsqlDbType.Text);
                await writer.WriteAsync(previous, NpgsqlDbType.Text);
                await writer.WriteAsync(hash, NpgsqlDbType.Text);
                previous = hash;
            }
            await writer.CompleteAsync();
        }
        Console.WriteLine($"loaded {entries:N0} chained entries with COPY in {load.Elapsed.TotalSeconds:0.0} s");

        var raw = Stopwatch.StartNew();
        long read = 0;
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("select sequence, occurred_at, kind, subject, actor, details, previous_hash, hash from audit_log order by sequence", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                _ = reader.GetString(5);
                read++;
            }
        }
        raw.Stop();

        var admin = new GovernanceService.GovernanceServiceClient(host.Channel(Roles.Admin));
        using var process = Process.GetCurrentProcess();
        GC.Collect();
        var before = GC.GetTotalMemory(true);
        var verify = Stopwatch.StartNew();
        var verdict = await admin.VerifyAuditLogAsync(new VerifyAuditLogRequest(), deadline: DateTime.UtcNow.AddMinutes(30));
        verify.Stop();
        var heapAfter = GC.GetTotalMemory(false);
        if (!verdict.Intact || verdict.Entries != entries) throw new InvalidOperationException($"verification: {verdict}");
        Console.WriteLine($"raw streaming read     {read / raw.Elapsed.TotalSeconds,12:N0} entries/s");
        Console.WriteLine($"VerifyAuditLog         {entries / verify.Elapsed.TotalSeconds,12:N0} entries/s  ({verify.Elapsed.TotalSeconds:0.00} s, intact)  " +
            $"ratio {raw.Elapsed.TotalSeconds / verify.Elapsed.TotalSeconds:0.00}x of the raw read; managed heap +{Math.Max(0, heapAfter - before) / 1048576.0:0} MiB");

        // Writers: each change assigns a journey's sponsor and owner (two audit entries, history) or saves a member
        // (same store, same transaction shape, not audited).
        await admin.CreateTeamAsync(new CreateTeamRequest { Team = new Team { Id = "bench", Name = "Bench" } });
        for (var m = 0; m < 4; m++) await admin.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = $"m{m}", Name = $"M{m}", TeamId = "bench" } });
        var clients = Enumerable.Range(0, writers).Select(_ => new GovernanceService.GovernanceServiceClient(host.Channel(Roles.Admin))).ToList();

        async Task<double> RateAsync(Func<GovernanceService.GovernanceServiceClient, int, Task> change)
        {
            var next = -1;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(clients.Select(async client =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < changes) await change(client, i);
            }));
            return changes / watch.Elapsed.TotalSeconds;
        }

        var unaudited = await RateAsync((c, i) => c.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = $"w{i}", Name = $"W{i}", TeamId = "bench" } }).ResponseAsync);
        var audited = await RateAsync((c, i) => c.AssignJourneyOwnersAsync(new AssignJourneyOwnersRequest
        {
            JourneyKey = $"j{i % 200}",
            SponsorId = $"m{i % 4}",
            OwnerId = $"m{(i + 1 + i / 200) % 4}",
            Reason = "bench",
        }).ResponseAsync);
        Console.WriteLine($"unaudited changes      {unaudited,12:N0} /s");
        Console.WriteLine($"audited changes        {audited,12:N0} /s  ratio {audited / unaudited:0.00}x (each writes 1-2 chained entries under the chain's lock)");
        var after = await admin.VerifyAuditLogAsync(new VerifyAuditLogRequest(), deadline: DateTime.UtcNow.AddMinutes(30));
        Console.WriteLine($"chain after the writers: {(after.Intact ? "intact" : "BROKEN")}, {after.Entries:N0} entries");
    }
}
