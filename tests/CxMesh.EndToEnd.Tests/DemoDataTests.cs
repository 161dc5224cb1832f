using CxMesh.Cli;

namespace CxMesh.EndToEnd.Tests;

/// <summary>The demo data ./run.sh loads must be valid whenever it is loaded, just after midnight UTC too.</summary>
public sealed class DemoDataTests
{
    [Fact]
    public void No_demo_touchpoint_is_after_the_midnight_it_is_anchored_to()
    {
        foreach (var anchor in Enumerable.Range(0, 20).Select(d => new DateOnly(2026, 11, 1).AddDays(d)))
        {
            var midnight = anchor.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            var late = JourneyDemo.Touchpoints(anchor, 3000).Where(t => t.OccurredAt.ToDateTime() > midnight).ToList();
            Assert.True(late.Count == 0, $"{late.Count} touchpoints after {midnight:u}, e.g. {late.FirstOrDefault()?.TouchpointKey} at {late.FirstOrDefault()?.OccurredAt}");
        }
    }
}
