using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CxMesh.Platform.Tests;

public sealed class RelayIdleTests
{
    [Fact]
    public async Task With_nothing_to_retry_the_relay_sleeps_its_poll_interval_and_wakes_for_the_next_retry()
    {
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "feedback";
            s.Settings["Messaging:PollInterval"] = "00:05:00";
        });
        var relay = host.Services.GetServices<IHostedService>().OfType<OutboxRelay>().Single();
        // Only its arithmetic is under test: a running relay would claim the overdue row below, fail to publish (no
        // sidecar here) and push it a few seconds into the future before the assertion reads it.
        await relay.StopAsync(default);

        // An empty outbox: the poll interval, never zero (zero made an idle relay spin).
        Assert.Equal(TimeSpan.FromMinutes(5), await relay.NextDueInAsync(default));

        var db = host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            insert into outbox (event_id, topic, event_type, payload, attempts, next_attempt_at)
            values ('retry-later', 'feedback.received.v1', 'x', '{}', 1, now() + interval '2 minutes'),
                   ('retry-overdue', 'feedback.received.v1', 'x', '{}', 2, now() - interval '1 minute')
            """);
        Assert.Equal(TimeSpan.Zero, await relay.NextDueInAsync(default));
        await connection.ExecuteAsync("update outbox set parked_at = now() where event_id = 'retry-overdue'");
        Assert.InRange(await relay.NextDueInAsync(default), TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(2));
    }
}
