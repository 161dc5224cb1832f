using CxMesh.Journey.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CxMesh.Journey.Tests;

public sealed class ProjectionTests
{
    private static async Task<long> PendingAsync(ServiceDatabase db)
    {
        await using var c = await db.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<long>("select (select count(*) from pending_projections) + (select count(*) from touchpoints where not applied)");
    }

    [Fact]
    public async Task The_sweeper_abandons_an_open_instance_once_its_timeout_runs_out()
    {
        var clock = new ShiftableClock();
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "journey";
            s.Settings["Journey:SweepInterval"] = "00:00:00.100";
            s.Settings["Journey:ProjectorPollInterval"] = "00:00:00.100";
            s.ConfigureServices = services => services.Replace(ServiceDescriptor.Singleton<TimeProvider>(clock));
        });
        await host.Client().CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = JourneyApi.Coffee(timeout: TimeSpan.FromHours(2)) });
        var app = host.Client(Roles.App);
        var now = DateTime.UtcNow;
        await app.RecordAllAsync([JourneyApi.Touchpoint("sleepy", "order-placed", now.AddMinutes(-10)), JourneyApi.Touchpoint("sleepy", "roasted", now.AddMinutes(-5))]);

        var open = await Eventually.Until(async () => (await app.GetCustomerJourneysAsync(new GetCustomerJourneysRequest { CustomerId = "sleepy" })).Instances,
            i => i.Count == 1, because: "projected");
        Assert.Equal(InstanceState.Open, open[0].State);

        clock.Advance(TimeSpan.FromHours(3));
        var abandoned = await Eventually.Until(async () => (await app.GetCustomerJourneysAsync(new GetCustomerJourneysRequest { CustomerId = "sleepy" })).Instances,
            i => i.Count == 1 && i[0].State == InstanceState.Abandoned, because: "the sweeper queued it and the projector abandoned it");
        Assert.Equal(open[0].Id, abandoned[0].Id);
        Assert.Equal(now.AddMinutes(-5).AddHours(2), abandoned[0].EndedAt.ToDateTime(), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Touchpoints_acknowledged_before_a_crash_are_projected_and_published_after_restart()
    {
        Dictionary<string, string> databases;
        await using (var first = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "journey";
            s.Settings["Journey:ProjectorEnabled"] = "false";
            s.Settings["Messaging:RelayEnabled"] = "false";
        }))
        {
            await first.Client().CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = JourneyApi.Coffee() });
            var now = DateTime.UtcNow.AddHours(-1);
            var result = await first.Client(Roles.App).RecordAllAsync(
                [JourneyApi.Touchpoint("crashy", "order-placed", now), JourneyApi.Touchpoint("crashy", "reviewed", now.AddMinutes(5))]);
            Assert.Equal(2, result.Recorded);
            databases = new Dictionary<string, string>(first.Settings.Databases);
        }

        await using var second = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "journey";
            s.Settings["CxMesh:Delivery"] = "InProcess";
            foreach (var (k, v) in databases) s.Databases[k] = v;
        });
        var db = second.Services.GetRequiredKeyedService<ServiceDatabase>("journey");
        await Eventually.Until(async () =>
        {
            await using var c = await db.OpenConnectionAsync();
            return await c.QueryAsync<(string Topic, bool Sent)>("select topic, sent_at is not null from outbox");
        }, rows => rows.Count(r => r.Sent) == 3, because: "two touchpoint events and one completion, published");
        var instance = Assert.Single((await second.Client().GetCustomerJourneysAsync(new GetCustomerJourneysRequest { CustomerId = "crashy" })).Instances);
        Assert.Equal(InstanceState.Completed, instance.State);
    }

    [Fact]
    public async Task The_funnel_equals_a_recount_of_the_instances_overall_and_per_segment()
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = "journey");
        await host.Client().CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = JourneyApi.Coffee() });
        var random = new Random(7);
        var keys = new[] { "order-placed", "roasted", "shipped", "delivered", "reviewed" };
        var events = new List<TouchpointEvent>();
        var start = DateTime.UtcNow.Date.AddDays(-20);
        for (var c = 0; c < 120; c++)
        {
            var reached = random.Next(1, 6);
            var at = start.AddDays(random.Next(0, 18)).AddMinutes(random.Next(0, 600));
            var segment = random.Next(3) == 0 ? "gold" : "standard";
            for (var s = 0; s < reached; s++)
            {
                events.Add(JourneyApi.Touchpoint($"f-{c}", keys[s], at, segment: s == 0 ? segment : null));
                at = at.AddHours(random.Next(1, 48));
            }
        }
        var recorded = await host.Client(Roles.App).RecordAllAsync(events.OrderBy(_ => random.Next()));
        Assert.Equal(events.Count, recorded.Recorded);

        var db = host.Services.GetRequiredKeyedService<ServiceDatabase>("journey");
        await Eventually.Until(() => PendingAsync(db), n => n == 0, because: "everything projected");

        await using var connection = await db.OpenConnectionAsync();
        var instances = (await connection.QueryAsync<(string State, int Furthest, string Segment)>(
            "select state, furthest_stage, segment from journey_instances")).ToList();
        var analyst = host.Client(Roles.Analyst);
        foreach (var segment in new[] { "", "gold" })
        {
            var mine = instances.Where(i => segment == "" || i.Segment == segment).ToList();
            var funnel = await analyst.GetFunnelAsync(new GetFunnelRequest
            {
                JourneyKey = "coffee-subscription",
                StartDate = start.ToString("yyyy-MM-dd"),
                EndDate = DateTime.UtcNow.ToString("yyyy-MM-dd"),
                Segment = segment,
            });
            Assert.Equal(mine.Count, funnel.Started);
            Assert.Equal(mine.Count(i => i.State == "completed"), funnel.Completed);
            Assert.Equal(mine.Count(i => i.State == "abandoned"), funnel.Abandoned);
            for (var s = 0; s < 5; s++)
            {
                Assert.Equal(mine.Count(i => i.Furthest >= s), funnel.Stages[s].Entered);
                Assert.Equal(mine.Count(i => i.Furthest > s || (i.Furthest == s && i.State == "completed")), funnel.Stages[s].Completed);
                Assert.Equal(mine.Count(i => i.Furthest == s && i.State == "abandoned"), funnel.Stages[s].Dropped);
            }
            Assert.Equal(1.0, funnel.Stages[0].ConversionFromStart);
            Assert.NotNull(funnel.Stages[0].MedianTimeInStage);
            Assert.True(funnel.Stages[0].P90TimeInStage.ToTimeSpan() >= funnel.Stages[0].MedianTimeInStage.ToTimeSpan());
        }
    }
}
