using CxMesh.Journey.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Journey.Tests;

public sealed class RecordingTests(HostFixture fixture) : IAsyncLifetime, IClassFixture<HostFixture>
{
    private readonly JourneyService.JourneyServiceClient _app = fixture.Host.Client(Roles.App);
    private static readonly DateTime Now = DateTime.UtcNow;

    public async Task InitializeAsync()
    {
        var admin = fixture.Host.Client();
        try
        {
            await admin.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = JourneyApi.Coffee() });
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
        {
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private ServiceDatabase Db => fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("journey");

    public static TheoryData<string, string> BadEvents => new()
    {
        { "no idempotency key", "touchpoint.idempotency_key" },
        { "no customer", "touchpoint.customer_id" },
        { "email as customer", "touchpoint.customer_id" },
        { "bad journey key", "touchpoint.journey_key" },
        { "touchpoint not in journey", "touchpoint.touchpoint_key" },
        { "no occurred_at", "touchpoint.occurred_at" },
        { "far future", "touchpoint.occurred_at" },
        { "too old", "touchpoint.occurred_at" },
        { "too many attributes", "touchpoint.attributes" },
        { "oversized attribute", "touchpoint.attributes" },
        { "negative revenue", "touchpoint.revenue" },
        { "revenue not a number", "touchpoint.revenue" },
        { "infinite cost", "touchpoint.cost_to_serve" },
        { "cost beyond a billion", "touchpoint.cost_to_serve" },
    };

    private static TouchpointEvent Break(string how)
    {
        var e = JourneyApi.Touchpoint("cust-bad", "order-placed", Now);
        switch (how)
        {
            case "no idempotency key": e.IdempotencyKey = ""; break;
            case "no customer": e.CustomerId = ""; break;
            case "email as customer": e.CustomerId = "jane@example.com"; break;
            case "bad journey key": e.JourneyKey = "Coffee!"; break;
            case "touchpoint not in journey": e.TouchpointKey = "teleported"; break;
            case "no occurred_at": e.OccurredAt = null; break;
            case "far future": e.OccurredAt = Timestamp.FromDateTime(Now.AddDays(2)); break;
            case "too old": e.OccurredAt = Timestamp.FromDateTime(Now.AddYears(-2)); break;
            case "too many attributes": foreach (var i in Enumerable.Range(0, 21)) e.Attributes[$"a{i}"] = "x"; break;
            case "oversized attribute": e.Attributes["segment"] = new string('s', 300); break;
            case "negative revenue": e.Revenue = -0.01; break;
            case "revenue not a number": e.Revenue = double.NaN; break;
            case "infinite cost": e.CostToServe = double.PositiveInfinity; break;
            case "cost beyond a billion": e.CostToServe = 1_000_000_000.01; break;
            default: throw new ArgumentOutOfRangeException(nameof(how));
        }
        return e;
    }

    [Theory]
    [MemberData(nameof(BadEvents))]
    public async Task A_bad_touchpoint_is_INVALID_ARGUMENT_naming_the_field_and_nothing_is_stored(string how, string field)
    {
        var before = await CountAsync();
        await RpcAssert.InvalidArgumentAsync(() => _app.RecordTouchpointAsync(new RecordTouchpointRequest { Touchpoint = Break(how) }).ResponseAsync, field);
        Assert.Equal(before, await CountAsync());
    }

    [Fact]
    public async Task An_unknown_journey_is_NOT_FOUND()
    {
        var e = JourneyApi.Touchpoint("cust-1", "order-placed", Now, journey: "no-such-journey");
        var ex = await RpcAssert.StatusAsync(() => _app.RecordTouchpointAsync(new RecordTouchpointRequest { Touchpoint = e }).ResponseAsync, StatusCode.NotFound);
        Assert.Equal("no-such-journey", ex.GetRpcStatus()?.GetDetail<ResourceInfo>()?.ResourceName);
    }

    [Fact]
    public async Task A_retry_returns_the_first_result_and_a_reused_key_is_FAILED_PRECONDITION()
    {
        var e = JourneyApi.Touchpoint("cust-retry", "order-placed", Now.AddMinutes(-5), segment: "gold");
        var first = await _app.RecordTouchpointAsync(new RecordTouchpointRequest { Touchpoint = e });
        var again = await _app.RecordTouchpointAsync(new RecordTouchpointRequest { Touchpoint = e.Clone() });
        Assert.Equal(RecordStatus.Recorded, first.Status);
        Assert.Equal(RecordStatus.Replayed, again.Status);
        Assert.Equal(first.TouchpointEventId, again.TouchpointEventId);

        var other = e.Clone();
        other.TouchpointKey = "roasted";
        var ex = await RpcAssert.StatusAsync(() => _app.RecordTouchpointAsync(new RecordTouchpointRequest { Touchpoint = other }).ResponseAsync, StatusCode.FailedPrecondition);
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", ex.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
    }

    [Fact]
    public async Task A_retry_with_its_attributes_in_another_order_is_the_same_event_and_a_changed_attribute_is_not()
    {
        var sorted = JourneyApi.Touchpoint("cust-attrs", "order-placed", Now.AddMinutes(-4), segment: "gold");
        sorted.Attributes["store"] = "lisbon-1";
        // The same map, inserted (and so sent on the wire) in the other order.
        var unsorted = sorted.Clone();
        unsorted.Attributes.Clear();
        unsorted.Attributes["store"] = "lisbon-1";
        unsorted.Attributes["segment"] = "gold";
        Assert.NotEqual(sorted.ToByteArray(), unsorted.ToByteArray());

        var first = await _app.RecordTouchpointAsync(new RecordTouchpointRequest { Touchpoint = unsorted });
        var again = await _app.RecordTouchpointAsync(new RecordTouchpointRequest { Touchpoint = sorted });
        Assert.Equal((RecordStatus.Recorded, RecordStatus.Replayed), (first.Status, again.Status));
        Assert.Equal(first.TouchpointEventId, again.TouchpointEventId);

        var changed = sorted.Clone();
        changed.Attributes["store"] = "porto-2";
        await RpcAssert.StatusAsync(() => _app.RecordTouchpointAsync(new RecordTouchpointRequest { Touchpoint = changed }).ResponseAsync, StatusCode.FailedPrecondition);
    }

    [Fact]
    public async Task A_batch_stores_its_good_items_and_reports_each_bad_one()
    {
        var good1 = JourneyApi.Touchpoint("cust-batch", "order-placed", Now.AddHours(-3));
        var bad = JourneyApi.Touchpoint("cust-batch", "teleported", Now.AddHours(-2));
        var good2 = JourneyApi.Touchpoint("cust-batch", "roasted", Now.AddHours(-1));
        var unknown = JourneyApi.Touchpoint("cust-batch", "order-placed", Now, journey: "nope");
        var before = await CountAsync();

        var response = await _app.RecordAllAsync([good1, bad, good2, good1.Clone(), unknown, new TouchpointEvent()]);

        Assert.Equal(2, response.Recorded);
        Assert.Equal(1, response.Replayed);
        Assert.Equal(3, response.Rejected);
        Assert.Equal(Enumerable.Range(0, 6), response.Results.Select(r => r.Index));
        Assert.Equal("touchpoint.touchpoint_key", response.Results[1].Error.Field);
        Assert.Equal((int)Code.InvalidArgument, response.Results[1].Error.Code);
        Assert.Equal(response.Results[0].TouchpointEventId, response.Results[3].TouchpointEventId);
        Assert.Equal((int)Code.NotFound, response.Results[4].Error.Code);
        Assert.Equal("touchpoint.idempotency_key", response.Results[5].Error.Field);
        Assert.Equal(before + 2, await CountAsync());
    }

    [Fact]
    public async Task Touchpoints_sent_out_of_order_build_one_instance_ordered_by_when_they_happened()
    {
        var customer = $"cust-{Guid.NewGuid():N}"[..16];
        var t = Now.AddDays(-3);
        var response = await _app.RecordAllAsync(
        [
            JourneyApi.Touchpoint(customer, "delivered", t.AddHours(40)),
            JourneyApi.Touchpoint(customer, "reviewed", t.AddHours(50)),
            JourneyApi.Touchpoint(customer, "roasted", t.AddHours(5)),
            With(JourneyApi.Touchpoint(customer, "order-placed", t, segment: "gold"), revenue: 42.123456, cost: 1.5),
            JourneyApi.Touchpoint(customer, "shipped", t.AddHours(10)),
        ]);
        Assert.Equal(5, response.Recorded);

        var instance = await Eventually.Until(
            async () => (await _app.GetCustomerJourneysAsync(new GetCustomerJourneysRequest { CustomerId = customer })).Instances,
            i => i.Count == 1 && i[0].State == InstanceState.Completed, because: "the projector built the instance").ContinueWith(r => r.Result[0]);
        Assert.Equal(["order-placed", "roasted", "shipped", "delivered", "reviewed"], instance.Timeline.Select(e => e.TouchpointKey));
        Assert.Equal(["order", "roast", "ship", "deliver", "review"], instance.Timeline.Select(e => e.StageKey));
        Assert.Equal("gold", instance.Segment);
        Assert.Equal("review", instance.CurrentStageKey);
        Assert.Equal(t, instance.StartedAt.ToDateTime(), TimeSpan.FromMilliseconds(1));
        // Revenue and cost to serve are kept to four decimals, shown on the timeline and published with the touchpoint.
        Assert.Equal((42.1235, 1.5), (instance.Timeline[0].Revenue, instance.Timeline[0].CostToServe));
        Assert.Equal((0.0, 0.0), (instance.Timeline[1].Revenue, instance.Timeline[1].CostToServe));

        await using var connection = await Db.OpenConnectionAsync();
        var events = (await connection.QueryAsync<(string Topic, string Payload)>(
            "select topic, payload from outbox where payload like @customer", new { customer = $"%{customer}%" })).ToList();
        Assert.Equal(5, events.Count(e => e.Topic == "journey.touchpoint.recorded.v1"));
        Assert.Single(events, e => e.Topic == "journey.touchpoint.recorded.v1" && e.Payload.Replace(" ", "").Contains("\"revenue\":42.1235")
            && e.Payload.Replace(" ", "").Contains("\"costToServe\":1.5"));
        Assert.Single(events, e => e.Topic == "journey.completed.v1");
    }

    [Fact]
    public async Task An_instance_idle_past_its_timeout_is_abandoned_once()
    {
        var admin = fixture.Host.Client();
        var key = $"short-{Guid.NewGuid():N}"[..16];
        await admin.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = JourneyApi.Coffee(key, TimeSpan.FromMinutes(1)) });
        var customer = $"idle-{Guid.NewGuid():N}"[..16];
        await _app.RecordAllAsync(
        [
            JourneyApi.Touchpoint(customer, "order-placed", Now.AddMinutes(-30), journey: key),
            JourneyApi.Touchpoint(customer, "roasted", Now.AddMinutes(-29.5), journey: key),
        ]);

        var instance = (await Eventually.Until(
            async () => (await _app.GetCustomerJourneysAsync(new GetCustomerJourneysRequest { CustomerId = customer })).Instances,
            i => i.Count == 1 && i[0].State == InstanceState.Abandoned, because: "the instance is abandoned"))[0];
        // Abandoned when the timeout ran out after the last touchpoint, not when the sweeper noticed.
        Assert.Equal(Now.AddMinutes(-28.5), instance.EndedAt.ToDateTime(), TimeSpan.FromSeconds(1));
        Assert.Equal("roast", instance.CurrentStageKey);

        // Projecting the pair again (a sweep, a late event) publishes nothing new.
        await using var connection = await Db.OpenConnectionAsync();
        await connection.ExecuteAsync("insert into pending_projections (customer_id, journey_key) values (@customer, @key) on conflict do nothing", new { customer, key });
        await Eventually.Until(() => connection.ExecuteScalarAsync<long>("select count(*) from pending_projections where customer_id = @customer", new { customer }),
            n => n == 0, because: "projected again");
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>(
            "select count(*) from outbox where topic = 'journey.abandoned.v1' and payload like @customer", new { customer = $"%{customer}%" }));
    }

    private async Task<long> CountAsync()
    {
        await using var connection = await Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("select count(*) from touchpoints");
    }

    private static TouchpointEvent With(TouchpointEvent e, double revenue, double cost)
    {
        e.Revenue = revenue;
        e.CostToServe = cost;
        return e;
    }
}
