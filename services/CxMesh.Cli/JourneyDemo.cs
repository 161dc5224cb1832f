using CxMesh.Journey.V1;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Cli;

/// <summary>
/// The coffee-subscription journey (order → roast → ship → deliver → review) and synthetic customers moving
/// through it over the last 30 days: most finish, some stall and are abandoned after the 7-day timeout.
/// Deterministic per anchor day, so seeding twice on one day replays.
/// </summary>
internal static class JourneyDemo
{
    public const string Key = "coffee-subscription";

    public static JourneyDefinition Definition()
    {
        var d = new JourneyDefinition
        {
            Key = Key,
            Name = "Coffee subscription",
            Description = "From ordering beans to reviewing the cup: order, roast, ship, deliver, review.",
            InactivityTimeout = Duration.FromTimeSpan(TimeSpan.FromDays(7)),
            SegmentAttributes = { "segment" },
        };
        d.Stages.Add(Stage("order", "Order", ("order-placed", "Order placed", TouchpointChannel.Web, true, false, false),
            ("referral-order", "Order through a friend's referral", TouchpointChannel.App, true, false, true)));
        d.Stages.Add(Stage("roast", "Roast", ("roasted", "Beans roasted", TouchpointChannel.Partner, false, false, false)));
        d.Stages.Add(Stage("ship", "Ship", ("shipped", "Parcel shipped", TouchpointChannel.Partner, false, false, false)));
        d.Stages.Add(Stage("deliver", "Deliver", ("delivered", "Parcel delivered", TouchpointChannel.Partner, false, false, false),
            ("support-call", "Called support about the delivery", TouchpointChannel.ContactCentre, false, false, false)));
        d.Stages.Add(Stage("review", "Review", ("reviewed", "Reviewed the coffee", TouchpointChannel.App, false, true, false)));
        return d;
    }

    private static Stage Stage(string key, string name, params (string Key, string Name, TouchpointChannel Channel, bool Start, bool End, bool Referral)[] touchpoints)
    {
        var stage = new Stage { Key = key, Name = name };
        foreach (var t in touchpoints)
        {
            stage.Touchpoints.Add(new TouchpointDefinition
            {
                Key = t.Key,
                Name = t.Name,
                Channel = t.Channel,
                StartsJourney = t.Start,
                EndsJourney = t.End,
                IsReferral = t.Referral,
            });
        }
        return stage;
    }

    public static IEnumerable<TouchpointEvent> Touchpoints(DateOnly anchor, int customers)
    {
        var random = new Random(anchor.DayNumber * 31);
        var anchorTime = anchor.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        string[] segments = ["standard", "standard", "premium", "office"];
        string[] path = ["order-placed", "roasted", "shipped", "delivered", "reviewed"];
        for (var c = 0; c < customers; c++)
        {
            var customer = $"demo-cust-{c:D5}";
            var segment = segments[random.Next(segments.Length)];
            var at = anchorTime.AddDays(-random.Next(2, 30)).AddMinutes(random.Next(0, 24 * 60));
            // How far this customer gets: most finish; some stall (and are abandoned once 7 days pass).
            var reach = random.NextDouble() switch { < 0.62 => 5, < 0.72 => 4, < 0.82 => 3, < 0.9 => 2, _ => 1 };
            for (var step = 0; step < reach; step++)
            {
                var key = step == 0 && random.NextDouble() < 0.12 ? "referral-order" : path[step];
                var e = new TouchpointEvent
                {
                    IdempotencyKey = $"demo-{anchor:yyyyMMdd}-{c:D5}-{step}",
                    CustomerId = customer,
                    JourneyKey = Key,
                    TouchpointKey = key,
                    OccurredAt = Timestamp.FromDateTime(at),
                };
                if (step == 0) e.Attributes["segment"] = segment;
                yield return e;
                // Nothing after the anchor's midnight: run just after midnight UTC, a later time would be in the future.
                if (step == 3 && random.NextDouble() < 0.15 && at.AddHours(2) <= anchorTime)
                {
                    yield return new TouchpointEvent
                    {
                        IdempotencyKey = $"demo-{anchor:yyyyMMdd}-{c:D5}-support",
                        CustomerId = customer,
                        JourneyKey = Key,
                        TouchpointKey = "support-call",
                        OccurredAt = Timestamp.FromDateTime(at.AddHours(2)),
                    };
                }
                at = at.AddHours(step switch { 0 => random.Next(2, 30), 1 => random.Next(4, 24), 2 => random.Next(12, 72), _ => random.Next(24, 120) });
                if (at > anchorTime) break;
            }
        }
    }
}
