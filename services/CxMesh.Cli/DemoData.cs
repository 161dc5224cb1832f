using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Cli;

/// <summary>
/// A small, repeatable demo set: NPS survey answers, complaints and reviews across the coffee-subscription
/// journeys of the last 30 days. Keys and contents depend only on the anchor day, so seeding twice on one
/// day is a no-op (every call replays).
/// </summary>
internal static class DemoData
{
    private static readonly (string Journey, double PromoterShare, double DetractorShare)[] Journeys =
    [
        ("coffee-subscription", 0.55, 0.15),
        ("order", 0.60, 0.10),
        ("delivery", 0.35, 0.35),
        ("returns", 0.30, 0.40),
    ];

    // What customers say follows how they rate: key-driver analysis of the demo finds delivery and freshness.
    private static readonly string[] Praise =
    [
        "The beans were fresh and the roast was perfect.",
        "Easy to pause my subscription from the app.",
        "The grinder setting advice on the bag helped a lot.",
        "Delivery was quick and the courier was friendly.",
        "豆子很新鲜，味道很好。",
        "",
    ];

    private static readonly string[] Complaints =
    [
        "Delivery was two days late and nobody told me.",
        "Returned a damaged bag; the refund took ages.",
        "The coffee tasted stale, the roast date was weeks old.",
        "快递太慢了，包装也破损了。",
        "Support was slow to respond to my complaint.",
        "",
    ];

    private static readonly (string Product, string[] Lots)[] Products =
    [
        ("sku-ethiopia-250", ["lot-eth-2611", "lot-eth-2612"]),
        ("sku-colombia-250", ["lot-col-2609"]),
        ("sku-house-blend-1kg", ["lot-hb-2610", "lot-hb-2611"]),
    ];

    /// <summary>Which bag (product and lot) the feedback is about; delivery feedback names the delivery touchpoint.</summary>
    private static Links DemoLinks(Random random, string journey)
    {
        var (product, lots) = Products[random.Next(Products.Length)];
        return new Links { ProductId = product, LotId = lots[random.Next(lots.Length)], TouchpointKey = journey == "delivery" ? "delivered" : "" };
    }

    /// <summary>The survey's attribute questions, registered as drivers of NPS: `cxmesh drivers --kind attribute` ranks them.</summary>
    public static readonly Question[] AttributeQuestions =
    [
        Attribute("delivery-speed", "How satisfied are you with the speed of delivery?"),
        Attribute("bean-freshness", "How satisfied are you with the freshness of the beans?"),
        Attribute("app-ease", "How easy is it to manage your subscription in the app?"),
    ];

    private static Question Attribute(string id, string text) =>
        new() { Id = id, Text = text, Metric = Metric.Custom, ScaleMin = 1, ScaleMax = 5, HigherIsBetter = true, TopBoxValues = { 4, 5 }, DriverOf = "nps" };

    public static IEnumerable<SubmitFeedbackRequest> Generate(DateOnly anchor, int count)
    {
        var random = new Random(anchor.DayNumber);
        var anchorTime = anchor.ToDateTime(new TimeOnly(0, 0), DateTimeKind.Utc);
        for (var i = 0; i < count; i++)
        {
            var (journey, promoters, detractors) = Journeys[random.Next(Journeys.Length)];
            var roll = random.NextDouble();
            var rating = roll < promoters ? random.Next(9, 11) : roll < promoters + detractors ? random.Next(0, 7) : random.Next(7, 9);
            var channel = rating <= 4 && random.NextDouble() < 0.3 ? Channel.Complaint : random.NextDouble() < 0.2 ? Channel.Review : Channel.Survey;
            var said = rating >= 9 || rating >= 7 && random.NextDouble() < 0.5 ? Praise : Complaints;
            var item = new SubmitFeedbackRequest
            {
                IdempotencyKey = $"demo-v4-{anchor:yyyyMMdd}-{i:D5}", // v4: with customers, products, lots, touchpoints, CSAT and attribute ratings
                Channel = channel,
                Journey = random.NextDouble() < 0.9 ? journey : "",
                Ratings = { new Rating { QuestionId = "nps", Value = rating } },
                Verbatim = said[random.Next(said.Length)],
                CustomerId = $"demo-customer-{random.Next(1, 3001):D4}",
                Links = DemoLinks(random, journey),
                // Spread over the 30 days before the anchor day, all in the past.
                GivenAt = Timestamp.FromDateTime(anchorTime.AddDays(-random.Next(1, 30)).AddMinutes(random.Next(0, 24 * 60))),
            };
            if (i % 3 == 0) item.Ratings.Add(new Rating { QuestionId = "csat", Value = Math.Clamp(rating / 2, 1, 5) });
            // Survey answers rate the attributes (the app one is optional); delivery speed follows the rating most closely.
            if (channel == Channel.Survey)
            {
                int Near(double center, double spread) => Math.Clamp((int)Math.Round(center + spread * (random.NextDouble() * 2 - 1)), 1, 5);
                item.Ratings.Add(new Rating { QuestionId = "delivery-speed", Value = Near(1 + rating * 0.4, 0.8) });
                item.Ratings.Add(new Rating { QuestionId = "bean-freshness", Value = Near(2 + rating * 0.25, 1.5) });
                if (random.NextDouble() < 0.6) item.Ratings.Add(new Rating { QuestionId = "app-ease", Value = Near(3.5, 1.5) });
            }
            yield return item;
        }
    }
}
