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

    private static readonly string[] Verbatims =
    [
        "The beans were fresh and the roast was perfect.",
        "Delivery was two days late and nobody told me.",
        "Easy to pause my subscription from the app.",
        "The grinder setting advice on the bag helped a lot.",
        "Returned a damaged bag; the refund took ages.",
        "",
        "",
    ];

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
            yield return new SubmitFeedbackRequest
            {
                IdempotencyKey = $"demo-{anchor:yyyyMMdd}-{i:D5}",
                Channel = channel,
                JourneyId = random.NextDouble() < 0.9 ? journey : "",
                Ratings = { new Rating { QuestionId = "nps", Value = rating } },
                Verbatim = Verbatims[random.Next(Verbatims.Length)],
                // Spread over the 30 days before the anchor day, all in the past.
                GivenAt = Timestamp.FromDateTime(anchorTime.AddDays(-random.Next(1, 30)).AddMinutes(random.Next(0, 24 * 60))),
            };
        }
    }
}
