using CxMesh.Journey.V1;
using CxMesh.TestKit;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Journey.Tests;

/// <summary>Builds requests for the journey API the way an internal app would.</summary>
internal static class JourneyApi
{
    public static JourneyDefinition Coffee(string key = "coffee-subscription", TimeSpan? timeout = null)
    {
        var d = new JourneyDefinition
        {
            Key = key,
            Name = "Coffee subscription",
            Description = "Order, roast, ship, deliver, review.",
            InactivityTimeout = Duration.FromTimeSpan(timeout ?? TimeSpan.FromDays(7)),
            SegmentAttributes = { "segment" },
        };
        d.Stages.Add(Stage("order", ("order-placed", true, false), ("referral-used", true, false)));
        d.Stages.Add(Stage("roast", ("roasted", false, false)));
        d.Stages.Add(Stage("ship", ("shipped", false, false)));
        d.Stages.Add(Stage("deliver", ("delivered", false, false)));
        d.Stages.Add(Stage("review", ("reviewed", false, true)));
        return d;
    }

    private static Stage Stage(string key, params (string Key, bool Start, bool End)[] touchpoints)
    {
        var stage = new Stage { Key = key, Name = key };
        foreach (var (k, start, end) in touchpoints)
        {
            stage.Touchpoints.Add(new TouchpointDefinition
            {
                Key = k,
                Name = k,
                Channel = TouchpointChannel.App,
                StartsJourney = start,
                EndsJourney = end,
                IsReferral = k.StartsWith("referral", StringComparison.Ordinal),
            });
        }
        return stage;
    }

    public static TouchpointEvent Touchpoint(string customer, string touchpoint, DateTime occurredAt, string journey = "coffee-subscription", string? segment = null, string? key = null)
    {
        var e = new TouchpointEvent
        {
            IdempotencyKey = key ?? $"tp-{Guid.NewGuid():N}",
            CustomerId = customer,
            JourneyKey = journey,
            TouchpointKey = touchpoint,
            OccurredAt = Timestamp.FromDateTime(occurredAt),
        };
        if (segment is not null) e.Attributes["segment"] = segment;
        return e;
    }

    public static JourneyService.JourneyServiceClient Client(this CxMeshTestHost host, string role = "admin") =>
        host.Client<JourneyService.JourneyServiceClient>(role);

    public static async Task<RecordTouchpointsResponse> RecordAllAsync(this JourneyService.JourneyServiceClient client, IEnumerable<TouchpointEvent> events)
    {
        using var call = client.RecordTouchpoints();
        foreach (var e in events) await call.RequestStream.WriteAsync(new RecordTouchpointsRequest { Touchpoint = e });
        await call.RequestStream.CompleteAsync();
        return await call.ResponseAsync;
    }
}
