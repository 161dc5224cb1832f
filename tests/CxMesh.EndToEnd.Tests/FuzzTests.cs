using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using CxMesh.TestKit.Fuzzing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace CxMesh.EndToEnd.Tests;

/// <summary>
/// The proto-generated fuzzer over every RPC of every service (#14), seeded so that a run is repeatable: every reply
/// is deliberate, the host stays live, and what the accepted requests published is delivered (nothing parked, no
/// handler dead-lettering what a service let in). The long run is the benchmark <c>fuzz</c>.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    public const int Seed = 20261130;
    private CxMeshTestHost host = null!;

    public async Task InitializeAsync() => host = await CxMeshTestHost.StartAsync(s => s.LiftCallerLimits());

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Every_RPC_answers_hostile_and_malformed_requests_deliberately()
    {
        var fuzzer = new ProtoFuzzer(host, Seed);
        var cases = fuzzer.Cases(perMethod: 60);
        Assert.True(cases.Select(c => c.Rpc).Distinct().Count() > 80, "the fuzzer found too few RPCs in the contracts");

        var report = await fuzzer.RunAsync(cases);

        output.WriteLine($"{report.Cases} cases in {report.Elapsed.TotalSeconds:F1} s ({report.CasesPerSecond:F0}/s): " +
            string.Join(", ", report.Replies.OrderByDescending(r => r.Value).Select(r => $"{r.Key} {r.Value}")));
        Assert.True(report.Findings.Count == 0, $"{report.Findings.Count} of {report.Cases} replies were not deliberate:\n" +
            string.Join('\n', report.Findings.Take(60).Select(f => $"{f.Case}: {f.Problem}")));

        foreach (var service in CxMeshTestHost.MigrationAssemblies.Keys)
        {
            var database = host.Services.GetRequiredKeyedService<ServiceDatabase>(service);
            var (parked, pending) = await Eventually.Until(async () =>
            {
                await using var connection = await database.OpenConnectionAsync();
                return await connection.QuerySingleAsync<(long, long)>(
                    "select count(*) filter (where parked_at is not null), count(*) filter (where sent_at is null and parked_at is null) from outbox");
            }, c => c.Item2 == 0, TimeSpan.FromMinutes(2), $"{service}'s outbox drains");
            Assert.Equal(0, parked);
            await using var conn = await database.OpenConnectionAsync();
            var dead = (await conn.QueryAsync<string>("select handler || ' on ' || coalesce(event_type, topic) || ': ' || left(error, 300) from dead_letters limit 10")).ToList();
            Assert.True(dead.Count == 0, $"{service} dead-lettered events the services accepted:\n{string.Join('\n', dead)}");
        }
    }
}
