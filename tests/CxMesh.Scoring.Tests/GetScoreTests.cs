using CxMesh.Common.V1;
using CxMesh.Platform.Auth;
using CxMesh.Scoring.V1;
using CxMesh.TestKit;
using Grpc.Core;

namespace CxMesh.Scoring.Tests;

public sealed class GetScoreTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly ScoringService.ScoringServiceClient _client = fixture.Host.Client<ScoringService.ScoringServiceClient>(Roles.Analyst);

    private static GetScoreRequest Valid() => new()
    {
        Metric = Metric.Nps,
        Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Journey, Value = "coffee" } } },
        Window = new Window { LastDays = 7 },
    };

    public static TheoryData<string, string> BadRequests => new()
    {
        { "no metric", "metric" },
        { "custom metric without a question", "question_id" },
        { "segment without an attribute", "scope.dimensions[0].attribute" },
        { "attribute on a journey", "scope.dimensions[0].attribute" },
        { "three dimensions", "scope.dimensions" },
        { "end in the future", "window.range.end_date" },
        { "older than retained", "window.range.start_date" },
        { "unspecified dimension kind", "scope.dimensions[0].kind" },
        { "unknown dimension kind", "scope.dimensions[0].kind" },
        { "empty dimension value", "scope.dimensions[0].value" },
        { "oversized dimension value", "scope.dimensions[0].value" },
        { "two dimensions of one kind", "scope.dimensions" },
        { "zero days", "window.last_days" },
        { "too many days", "window.last_days" },
        { "malformed start date", "window.range.start_date" },
        { "malformed end date", "window.range.end_date" },
        { "end before start", "window.range" },
    };

    private static string Day(int offset) => DateOnly.FromDateTime(DateTime.UtcNow).AddDays(offset).ToString("yyyy-MM-dd");

    private static GetScoreRequest Break(string how)
    {
        var r = Valid();
        switch (how)
        {
            case "no metric": r.Metric = Metric.Unspecified; break;
            case "custom metric without a question": r.Metric = Metric.Custom; break;
            case "segment without an attribute": r.Scope.Dimensions[0].Kind = DimensionKind.Segment; break;
            case "attribute on a journey": r.Scope.Dimensions[0].Attribute = "plan"; break;
            case "three dimensions":
                r.Scope.Dimensions.Add(new Dimension { Kind = DimensionKind.Channel, Value = "web" });
                r.Scope.Dimensions.Add(new Dimension { Kind = DimensionKind.Product, Value = "sku-1" });
                break;
            case "end in the future": r.Window.Range = new DateRange { StartDate = Day(-3), EndDate = Day(1) }; break;
            case "older than retained": r.Window.Range = new DateRange { StartDate = Day(-3800), EndDate = Day(-3750) }; break;
            case "unspecified dimension kind": r.Scope.Dimensions[0].Kind = DimensionKind.Unspecified; break;
            case "unknown dimension kind": r.Scope.Dimensions[0].Kind = (DimensionKind)77; break;
            case "empty dimension value": r.Scope.Dimensions[0].Value = ""; break;
            case "oversized dimension value": r.Scope.Dimensions[0].Value = new string('j', 257); break;
            case "two dimensions of one kind": r.Scope.Dimensions.Add(new Dimension { Kind = DimensionKind.Journey, Value = "x" }); break;
            case "zero days": r.Window.LastDays = 0; break;
            case "too many days": r.Window.LastDays = 3701; break;
            case "malformed start date": r.Window.Range = new DateRange { StartDate = "2026-13-01", EndDate = Day(-1) }; break;
            case "malformed end date": r.Window.Range = new DateRange { StartDate = Day(-9), EndDate = "1 Nov" }; break;
            case "end before start": r.Window.Range = new DateRange { StartDate = Day(-1), EndDate = Day(-10) }; break;
            default: throw new ArgumentOutOfRangeException(nameof(how));
        }
        return r;
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_is_INVALID_ARGUMENT_naming_the_field(string how, string field) =>
        await RpcAssert.InvalidArgumentAsync(() => _client.GetScoreAsync(Break(how)).ResponseAsync, field);

    [Fact]
    public async Task A_scope_without_responses_scores_zero_with_n_zero()
    {
        var score = (await _client.GetScoreAsync(Valid())).Score;
        Assert.Equal(0, score.N);
        Assert.Equal(0, score.Value);
        Assert.Equal(0, score.MarginOfError);
    }

    [Fact]
    public async Task The_window_defaults_to_the_last_30_days_and_an_explicit_range_is_honoured()
    {
        var hot = (await _client.GetScoreAsync(new GetScoreRequest { Metric = Metric.Nps })).Score;
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        Assert.Equal(today.ToString("yyyy-MM-dd"), hot.EndDate);
        Assert.Equal(today.AddDays(-29).ToString("yyyy-MM-dd"), hot.StartDate);

        var range = (await _client.GetScoreAsync(new GetScoreRequest
        {
            Metric = Metric.Nps,
            Window = new Window { Range = new DateRange { StartDate = Day(-60), EndDate = Day(-31) } },
        })).Score;
        Assert.Equal(Day(-60), range.StartDate);
        Assert.Equal(Day(-31), range.EndDate);
        Assert.Equal("store", range.Source);
    }

    [Fact]
    public async Task Partners_may_not_read_internal_scores()
    {
        var partner = fixture.Host.Client<ScoringService.ScoringServiceClient>(Roles.Partner);
        await RpcAssert.StatusAsync(() => partner.GetScoreAsync(Valid()).ResponseAsync, StatusCode.PermissionDenied);
    }
}
