using CxMesh.Journey.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Journey.Tests;

public sealed class RelationshipMetricsTests
{
    [Fact]
    public async Task Repeat_retention_and_referral_rates_follow_their_definitions()
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = "journey");
        await host.Client().CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = JourneyApi.Coffee() });
        var now = DateTime.UtcNow;
        TouchpointEvent Tp(string customer, string key, double daysAgo, string? segment = null) =>
            JourneyApi.Touchpoint(customer, key, now.AddDays(-daysAgo), segment: segment);

        await host.Client(Roles.App).RecordAllAsync(
        [
            // a: completes twice in the window.
            Tp("a", "order-placed", 8), Tp("a", "reviewed", 7.5), Tp("a", "order-placed", 3), Tp("a", "reviewed", 2),
            // b (gold): active in both windows, completes in this one.
            Tp("b", "order-placed", 15, "gold"), Tp("b", "roasted", 14), Tp("b", "order-placed", 4, "gold"), Tp("b", "reviewed", 1),
            // c: active only in the previous window.
            Tp("c", "order-placed", 16),
            // d: comes through a referral in this window, naming a as the friend who referred them; e names d themself
            // (not a referral), f names someone never seen here.
            Referred(Tp("d", "referral-used", 2), "a"), Tp("d", "roasted", 1),
            Referred(Tp("e", "referral-used", 12), "a"),
            Referred(Tp("f", "referral-used", 3), "f"),
        ]);
        var db = host.Services.GetRequiredKeyedService<ServiceDatabase>("journey");
        await Eventually.Until(async () =>
        {
            await using var c = await db.OpenConnectionAsync();
            return await c.ExecuteScalarAsync<long>("select (select count(*) from pending_projections) + (select count(*) from touchpoints where not applied)");
        }, n => n == 0, because: "projected");

        var analyst = host.Client(Roles.Analyst);
        var today = DateOnly.FromDateTime(now);
        var request = new GetRelationshipMetricsRequest
        {
            JourneyKey = "coffee-subscription",
            StartDate = today.AddDays(-9).ToString("yyyy-MM-dd"),
            EndDate = today.ToString("yyyy-MM-dd"),
        };
        var all = await analyst.GetRelationshipMetricsAsync(request);
        Assert.Equal(today.AddDays(-19).ToString("yyyy-MM-dd"), all.PreviousStartDate);
        Assert.Equal((4L, 2L, 1L), (all.ActiveCustomers, all.CompletingCustomers, all.RepeatCustomers));
        Assert.Equal(0.5, all.RepeatRate);
        Assert.Equal((3L, 1L), (all.PreviousActiveCustomers, all.RetainedCustomers));
        Assert.Equal(1.0 / 3, all.RetentionRate, 9);
        // The referred newcomers (d, f) and the one who referred (a, once, and active here); f naming themself credits nobody.
        Assert.Equal((2L, 0.5), (all.ReferredCustomers, all.ReferredRate));
        Assert.Equal((1L, 1L), (all.Referrers, all.ActiveReferrers));
#pragma warning disable CS0612
        Assert.Equal((all.ReferredCustomers, all.ReferredRate), (all.ReferringCustomers, all.ReferralRate));
#pragma warning restore CS0612

        request.Segment = "gold";
        var gold = await analyst.GetRelationshipMetricsAsync(request);
        Assert.Equal((1L, 1L, 0L), (gold.ActiveCustomers, gold.CompletingCustomers, gold.RepeatCustomers));
        Assert.Equal((1L, 1L), (gold.PreviousActiveCustomers, gold.RetainedCustomers));
        Assert.Equal((0L, 0L), (gold.ReferredCustomers, gold.Referrers));

        await RpcAssert.InvalidArgumentAsync(() => analyst.GetRelationshipMetricsAsync(new GetRelationshipMetricsRequest
        {
            JourneyKey = "coffee-subscription",
            StartDate = "2026-11-10",
            EndDate = "2026-11-01",
        }).ResponseAsync, "end_date");
        await RpcAssert.StatusAsync(() => analyst.GetRelationshipMetricsAsync(new GetRelationshipMetricsRequest { JourneyKey = "unknown" }).ResponseAsync,
            Grpc.Core.StatusCode.NotFound);
    }

    private static TouchpointEvent Referred(TouchpointEvent e, string by)
    {
        e.Attributes["referred_by"] = by;
        return e;
    }
}
