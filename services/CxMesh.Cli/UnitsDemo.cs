using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using Google.Protobuf.WellKnownTypes;
using Unit = CxMesh.Feedback.V1.Unit;

namespace CxMesh.Cli;

/// <summary>
/// Six coffee shops, each with a bar team and a service team of two baristas, a survey wave of one week to two months ago
/// (imported history: no alerts, and praise that old is listed, not sent), with effects planted
/// so that `cxmesh units` has something true to find:
/// - each shop has a staff mood (from clearly unhappy to clearly happy); its employees' eNPS follows it, and so (planted)
///   does how its customers are served: NPS per shop moves with eNPS, r well above 0.8 across the six shops;
/// - employees' eNPS is driven by how manageable their workload is (a strong driver), much less by their tools, not at
///   all by the rota app; their words name short staffing where the workload is heavy;
/// - customers name the barista who served them, mostly in praise where the mood is good (praise reaches the barista and
///   the shop's managers), now and then in complaint;
/// - one shop (Tianhe) has only three employees who answered: its eNPS is withheld.
/// Shop visits carry no customer id: they are walk-in customers, outside the coffee club's value and stage figures.
/// Deterministic per month, so seeding twice in one month replays.
/// </summary>
internal static class UnitsDemo
{
    private const int Days = 60;

    /// <summary>(key, name, mood -1..1, Chinese?)</summary>
    private static readonly (string Key, string Name, double Mood, bool Chinese)[] Shops =
    [
        ("shop-jingan", "Jing'an shop", 0.9, true),
        ("shop-xuhui", "Xuhui shop", 0.5, true),
        ("shop-pudong", "Pudong shop", 0.1, true),
        ("shop-soho", "Soho shop", -0.2, false),
        ("shop-camden", "Camden shop", -0.7, false),
        ("shop-tianhe", "Tianhe shop", 0.3, true),
    ];

    private static readonly string[][] Baristas =
    [
        ["Ana", "Kai", "Mia", "Leo"],
        ["小王", "小李", "小张", "小陈"],
        ["Wen", "Yan", "Bo", "Jun"],
        ["Tom", "Zoe", "Raj", "Ivy"],
        ["Sam", "Eli", "Noa", "Max"],
        ["小林", "小周", "小吴", "小郑"],
    ];

    public static readonly Question[] EmployeeQuestions =
    [
        Attribute("enps-workload", "How manageable is your workload?"),
        Attribute("enps-tools", "How well do your tools and equipment help you serve customers?"),
        Attribute("enps-rota", "How easy is the rota app to use?"),
    ];

    private static Question Attribute(string id, string text) => new()
    {
        Id = id,
        Text = text,
        Metric = Metric.Custom,
        ScaleMin = 1,
        ScaleMax = 5,
        HigherIsBetter = true,
        TopBoxValues = { 4, 5 },
        DriverOf = "enps",
        Audience = Audience.Employee,
    };

    public static IEnumerable<Unit> Units()
    {
        for (var s = 0; s < Shops.Length; s++)
        {
            var shop = Shops[s];
            yield return new Unit { Key = shop.Key, Kind = UnitKind.Store, Name = shop.Name, RecognitionTeamId = "cx" };
            for (var t = 0; t < 2; t++)
            {
                var team = $"{shop.Key}-{(t == 0 ? "bar" : "service")}";
                yield return new Unit { Key = team, Kind = UnitKind.Team, Name = $"{shop.Name}, {(t == 0 ? "bar" : "service")}", ParentKey = shop.Key };
                for (var a = 0; a < 2; a++)
                {
                    var name = Baristas[s][t * 2 + a];
                    yield return new Unit
                    {
                        Key = $"{team}-{a + 1}",
                        Kind = UnitKind.Agent,
                        Name = name,
                        ParentKey = team,
                        Aliases = { name },
                        RecognitionMemberId = $"barista.{shop.Key[5..]}.{t * 2 + a + 1}",
                    };
                }
            }
        }
    }

    private static readonly string[] Praise = ["{0} made my flat white perfectly, thank you!", "{0} was so friendly and remembered my order.", "Thanks to {0}, the queue moved fast."];
    private static readonly string[] PraiseZh = ["{0}服务很热情，咖啡也很好喝！", "谢谢{0}，非常耐心，推荐的豆子很棒。"];
    private static readonly string[] Complaint = ["{0} was rude when I asked for oat milk.", "Waited ages and {0} ignored me."];
    private static readonly string[] ComplaintZh = ["{0}态度很差，等了很久。"];
    private static readonly string[] Plain = ["Good coffee, a bit noisy.", "The cake was fine.", "Seats were hard to find."];
    private static readonly string[] EmployeeHeavy = ["We are short-staffed every weekend and the queue never ends.", "Too many shifts back to back, I am exhausted."];
    private static readonly string[] EmployeeLight = ["Great team, the manager listens to us.", "I like the new training sessions."];

    /// <summary>Customers' visits rated and described (by the barista who served them) and employees' pulse answers (by team or shop).</summary>
    public static IReadOnlyList<SubmitFeedbackRequest> Generate(DateOnly anchor)
    {
        var month = new DateOnly(anchor.Year, anchor.Month, 1);
        var random = new Random(month.DayNumber + 17);
        var end = anchor.ToDateTime(new TimeOnly(0, 0), DateTimeKind.Utc);
        var items = new List<SubmitFeedbackRequest>();
        // The shops' last survey wave, one week to two months back: imported history, so it raises no detractor alerts.
        DateTime When() => end.AddMinutes(-random.Next(8 * 24 * 60, Days * 24 * 60));
        int Clamp(double x, int min, int max) => Math.Clamp((int)Math.Round(x), min, max);
        for (var s = 0; s < Shops.Length; s++)
        {
            var (shop, _, mood, chinese) = Shops[s];
            for (var t = 0; t < 2; t++)
            {
                var team = $"{shop}-{(t == 0 ? "bar" : "service")}";
                for (var a = 0; a < 2; a++)
                {
                    var barista = Baristas[s][t * 2 + a];
                    for (var v = 0; v < 45; v++)
                    {
                        var nps = Clamp(7.2 + 2.6 * mood + (random.NextDouble() - 0.5) * 5, 0, 10);
                        var words = nps >= 9 && random.NextDouble() < 0.45 ? (chinese ? PraiseZh : Praise)
                            : nps <= 4 && random.NextDouble() < 0.5 ? (chinese ? ComplaintZh : Complaint)
                            : Plain;
                        var item = new SubmitFeedbackRequest
                        {
                            IdempotencyKey = $"demo-units-v1-{month:yyyyMM}-{items.Count:D5}",
                            Channel = Channel.Survey,
                            Ratings = { new Rating { QuestionId = "nps", Value = nps } },
                            Verbatim = string.Format(System.Globalization.CultureInfo.InvariantCulture, words[random.Next(words.Length)], barista),
                            Links = new Links { UnitKey = $"{team}-{a + 1}", StoreId = shop },
                            GivenAt = Timestamp.FromDateTime(When()),
                        };
                        if (random.NextDouble() < 0.5) item.Ratings.Add(new Rating { QuestionId = "csat", Value = Clamp(nps / 2.0, 1, 5) });
                        items.Add(item);
                    }
                }
                // Employees' pulse: a few per team (Tianhe: three people in all).
                var employees = shop == "shop-tianhe" ? (t == 0 ? 3 : 0) : 9;
                for (var e = 0; e < employees; e++)
                {
                    var workload = Clamp(3 + 1.6 * mood + (random.NextDouble() - 0.5) * 2.5, 1, 5);
                    var tools = Clamp(3.4 + (random.NextDouble() - 0.5) * 3, 1, 5);
                    var rota = random.Next(1, 6);
                    var enps = Clamp(1.7 * workload + 0.4 * tools - 0.2 + (random.NextDouble() - 0.5) * 2.5, 0, 10);
                    items.Add(new SubmitFeedbackRequest
                    {
                        IdempotencyKey = $"demo-units-v1-{month:yyyyMM}-{items.Count:D5}",
                        Channel = Channel.Survey,
                        Audience = Audience.Employee,
                        Ratings =
                        {
                            new Rating { QuestionId = "enps", Value = enps },
                            new Rating { QuestionId = "enps-workload", Value = workload },
                            new Rating { QuestionId = "enps-tools", Value = tools },
                            new Rating { QuestionId = "enps-rota", Value = rota },
                        },
                        Verbatim = workload <= 2 ? EmployeeHeavy[random.Next(EmployeeHeavy.Length)] : workload >= 4 ? EmployeeLight[random.Next(EmployeeLight.Length)] : "",
                        Links = new Links { UnitKey = e % 3 == 2 ? shop : team },
                        GivenAt = Timestamp.FromDateTime(When()),
                    });
                }
            }
        }
        return items;
    }
}
