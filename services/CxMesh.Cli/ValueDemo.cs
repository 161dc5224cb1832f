using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Journey.V1;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Cli;

/// <summary>
/// The coffee club (a monthly box) over the six months before this one, with effects planted so that `cxmesh value`
/// and `cxmesh stages` have something true to find:
/// - promoters come back the month after 85 % of the time, passives 70 %, detractors 45 % (by their answer about the
///   whole journey), and promoters order bigger boxes (about 42 against 28);
/// - answers about single touchpoints (the delivery, a support call) follow the experience only loosely, so journey
///   answers predict coming back better than touchpoint answers;
/// - a tasting workshop makes an order that month far likelier (90 % against 35 %): it precedes moves up a stage;
/// - some orders come through a friend's referral and name the friend, who is credited (the advocate stage).
/// Deterministic per month, so seeding twice in one month replays.
/// </summary>
internal static class ValueDemo
{
    public const string Journey = "coffee-club";
    private const int Months = 6;

    public static JourneyDefinition Definition()
    {
        var d = new JourneyDefinition
        {
            Key = Journey,
            Name = "Coffee club",
            Description = "The monthly box: order (or a friend's referral), delivery, a tasting workshop or a support call, rating the box.",
            InactivityTimeout = Duration.FromTimeSpan(TimeSpan.FromDays(20)),
        };
        d.Stages.Add(new Stage
        {
            Key = "order",
            Name = "Order",
            Touchpoints =
            {
                new TouchpointDefinition { Key = "box-ordered", Name = "Box ordered", Channel = TouchpointChannel.Web, StartsJourney = true },
                new TouchpointDefinition { Key = "referral-order", Name = "Box ordered through a friend's referral", Channel = TouchpointChannel.App, StartsJourney = true, IsReferral = true },
            },
        });
        d.Stages.Add(new Stage
        {
            Key = "experience",
            Name = "Experience",
            Touchpoints =
            {
                new TouchpointDefinition { Key = "box-delivered", Name = "Box delivered", Channel = TouchpointChannel.Partner },
                new TouchpointDefinition { Key = "tasting-workshop", Name = "Joined a tasting workshop", Channel = TouchpointChannel.Store },
                new TouchpointDefinition { Key = "support-call", Name = "Called support", Channel = TouchpointChannel.ContactCentre },
            },
        });
        d.Stages.Add(new Stage
        {
            Key = "taste",
            Name = "Taste",
            Touchpoints = { new TouchpointDefinition { Key = "box-rated", Name = "Rated the box", Channel = TouchpointChannel.App, EndsJourney = true } },
        });
        return d;
    }

    private static string Class(int rating) => rating >= 9 ? "promoter" : rating >= 7 ? "passive" : "detractor";

    private static readonly Dictionary<string, double> ComesBack = new() { ["promoter"] = 0.85, ["passive"] = 0.7, ["detractor"] = 0.45 };
    private static readonly Dictionary<string, double> BoxSize = new() { ["promoter"] = 42, ["passive"] = 35, ["detractor"] = 28 };

    /// <summary>The touchpoints and NPS answers of <paramref name="customers"/> club members over the six months before <paramref name="today"/>'s.</summary>
    public static (List<TouchpointEvent> Touchpoints, List<SubmitFeedbackRequest> Answers) Generate(DateOnly today, int customers)
    {
        var thisMonth = new DateOnly(today.Year, today.Month, 1);
        var random = new Random(thisMonth.DayNumber * 7 + 11);
        var touchpoints = new List<TouchpointEvent>();
        var answers = new List<SubmitFeedbackRequest>();
        var tag = $"{thisMonth:yyyyMM}";
        for (var c = 0; c < customers; c++)
        {
            var customer = $"club-{c:D5}";
            var joined = random.Next(0, Months - 1);
            var satisfaction = 3 + random.NextDouble() * 7;
            var active = true;
            var n = 0;
            for (var m = joined; m < Months && active; m++)
            {
                var month = thisMonth.AddMonths(m - Months).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
                var day = month.AddDays(random.Next(0, 4)).AddHours(random.Next(8, 20));
                TouchpointEvent Tp(string key, DateTime at, double revenue = 0, double cost = 0) => new()
                {
                    IdempotencyKey = $"club-{tag}-{c:D5}-{n++}",
                    CustomerId = customer,
                    JourneyKey = Journey,
                    TouchpointKey = key,
                    OccurredAt = Timestamp.FromDateTime(at),
                    Revenue = revenue,
                    CostToServe = cost,
                };
                var rating = Math.Clamp((int)Math.Round(satisfaction + (random.NextDouble() - 0.5) * 2), 0, 10);
                var workshop = random.NextDouble() < 0.3;
                if (workshop) touchpoints.Add(Tp("tasting-workshop", day));
                if (random.NextDouble() < (workshop ? 0.9 : 0.35))
                {
                    var order = Tp("box-ordered", day.AddHours(2), Math.Round(BoxSize[Class(rating)] + (random.NextDouble() - 0.5) * 16, 2));
                    if (c > 10 && random.NextDouble() < 0.08)
                    {
                        order.TouchpointKey = "referral-order";
                        order.Attributes["referred_by"] = $"club-{random.Next(0, c):D5}";
                    }
                    touchpoints.Add(order);
                }
                else
                {
                    touchpoints.Add(Tp("box-ordered", day.AddHours(2)));
                }
                touchpoints.Add(Tp("box-delivered", day.AddDays(2)));
                if (rating <= 6 && random.NextDouble() < 0.6) touchpoints.Add(Tp("support-call", day.AddDays(3), cost: 6.5));
                touchpoints.Add(Tp("box-rated", day.AddDays(5)));

                // Answers a week or more after the box: old enough, when seeded, not to raise detractor alerts.
                if (random.NextDouble() < 0.85) answers.Add(Answer(customer, $"club-{tag}-{c:D5}-{m}-j", rating, "", day.AddDays(6 + random.Next(0, 8))));
                if (random.NextDouble() < 0.7)
                {
                    var loosely = Math.Clamp((int)Math.Round(satisfaction + (random.NextDouble() - 0.5) * 12), 0, 10);
                    var about = rating <= 6 && random.NextDouble() < 0.5 ? "support-call" : "box-delivered";
                    answers.Add(Answer(customer, $"club-{tag}-{c:D5}-{m}-t", loosely, about, day.AddDays(6 + random.Next(0, 8))));
                }
                satisfaction = Math.Clamp(satisfaction + (random.NextDouble() - 0.5) * 2, 0, 10);
                active = random.NextDouble() < ComesBack[Class(rating)];
            }
        }
        return (touchpoints, answers);
    }

    private static SubmitFeedbackRequest Answer(string customer, string key, int rating, string touchpoint, DateTime at) => new()
    {
        IdempotencyKey = key,
        Channel = Channel.Survey,
        Journey = Journey,
        Ratings = { new Rating { QuestionId = "nps", Value = rating } },
        CustomerId = customer,
        Links = new Links { TouchpointKey = touchpoint },
        GivenAt = Timestamp.FromDateTime(at),
    };
}
