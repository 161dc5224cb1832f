using CxMesh.Governance.Domain;

namespace CxMesh.Governance.Tests;

public sealed class GovernanceDomainTests
{
    private static List<AuditChain.Entry> Chain(int count)
    {
        var entries = new List<AuditChain.Entry>();
        var previous = AuditChain.Genesis;
        var at = new DateTime(2026, 11, 1, 8, 0, 0, DateTimeKind.Utc);
        for (var i = 1; i <= count; i++)
        {
            var details = $$"""{"n":{{i}}}""";
            var hash = AuditChain.Hash(i, at.AddMinutes(i), "cx-code.changed", $"cx-code/v{i}", "admin", details, previous);
            entries.Add(new AuditChain.Entry(i, at.AddMinutes(i), "cx-code.changed", $"cx-code/v{i}", "admin", details, previous, hash));
            previous = hash;
        }
        return entries;
    }

    private static AuditChain.Verdict Verify(IEnumerable<AuditChain.Entry> entries)
    {
        var verifier = new AuditChain.Verifier();
        foreach (var e in entries)
        {
            if (!verifier.Check(e)) break;
        }
        return verifier.Result();
    }

    [Fact]
    public void An_untouched_chain_verifies_and_reports_its_head()
    {
        var chain = Chain(5);
        var verdict = Verify(chain);
        Assert.True(verdict.Intact);
        Assert.Equal(5, verdict.Entries);
        Assert.Equal(chain[^1].Hash, verdict.HeadHash);
        Assert.Equal(AuditChain.Genesis, Verify([]).HeadHash);
    }

    [Fact]
    public void Changed_removed_or_reordered_entries_break_the_chain_where_they_are()
    {
        var changed = Chain(5);
        changed[2] = changed[2] with { Details = """{"n":99}""" };
        Assert.Equal((false, 3L), (Verify(changed).Intact, Verify(changed).FirstBrokenSequence));

        var removed = Chain(5);
        removed.RemoveAt(1);
        Assert.Equal((false, 2L), (Verify(removed).Intact, Verify(removed).FirstBrokenSequence));

        var rehashed = Chain(5);
        // Rewriting an entry and its own hash still breaks the link from the next one.
        var e = rehashed[1] with { Actor = "someone-else" };
        rehashed[1] = e with { Hash = AuditChain.Hash(e.Sequence, e.OccurredAt, e.Kind, e.Subject, e.Actor, e.Details, e.PreviousHash) };
        Assert.Equal((false, 3L), (Verify(rehashed).Intact, Verify(rehashed).FirstBrokenSequence));

        var swapped = Chain(4);
        (swapped[1], swapped[2]) = (swapped[2], swapped[1]);
        Assert.False(Verify(swapped).Intact);
    }

    [Fact]
    public void Hashes_use_the_microseconds_postgres_keeps()
    {
        var t = new DateTime(2026, 11, 1, 8, 0, 0, DateTimeKind.Utc).AddTicks(1234567);
        Assert.Equal(AuditChain.Hash(1, AuditChain.ToStoredPrecision(t), "k", "s", "a", "{}", AuditChain.Genesis),
            AuditChain.Hash(1, t.AddTicks(-(t.Ticks % 10)), "k", "s", "a", "{}", AuditChain.Genesis));
        Assert.Equal(0, AuditChain.ToStoredPrecision(t).Ticks % 10);
    }

    [Theory]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(5, true)]
    [InlineData(6, false)]
    public void A_cx_code_has_three_to_five_drivers(int count, bool allowed) =>
        Assert.Equal(allowed, CxCodeRules.DriverCountProblem(count) is null);

    [Fact]
    public void A_sprint_is_twelve_weeks_with_four_to_six_priorities()
    {
        var start = new DateOnly(2026, 1, 5);
        Assert.Null(SprintRules.LengthProblem(start, new DateOnly(2026, 3, 29)));
        Assert.Equal(new DateOnly(2026, 3, 29), SprintRules.EndFor(start));
        Assert.Contains("70 days", SprintRules.LengthProblem(start, start.AddDays(69)));
        Assert.NotNull(SprintRules.PriorityCountProblem(3));
        Assert.Null(SprintRules.PriorityCountProblem(6));
        Assert.NotNull(SprintRules.PriorityCountProblem(7));
        Assert.Equal(0, SprintRules.DaysElapsed(start, start.AddDays(-1)));
        Assert.Equal(1, SprintRules.DaysElapsed(start, start));
        Assert.Equal(84, SprintRules.DaysElapsed(start, start.AddDays(200)));
        Assert.True(SprintRules.TargetMet(6, 5));
        Assert.False(SprintRules.TargetMet(4.9, 5));
        Assert.True(SprintRules.TargetMet(-0.4, -0.3)); // lower is better: effort down by 0.3 or more
        Assert.False(SprintRules.TargetMet(0.1, -0.3));
    }

    [Fact]
    public void Actions_and_ideas_move_only_forward()
    {
        Assert.True(ActionFlow.CanMove(ActionFlow.Open, ActionFlow.InProgress));
        Assert.True(ActionFlow.CanMove(ActionFlow.Open, ActionFlow.Closed));
        Assert.True(ActionFlow.CanMove(ActionFlow.InProgress, ActionFlow.Resolved));
        Assert.False(ActionFlow.CanMove(ActionFlow.Resolved, ActionFlow.InProgress));
        Assert.False(ActionFlow.CanMove(ActionFlow.Closed, ActionFlow.Resolved));
        Assert.False(ActionFlow.CanMove(ActionFlow.InProgress, ActionFlow.InProgress));
        Assert.True(IdeaFlow.CanMove(IdeaFlow.Proposed, IdeaFlow.Accepted));
        Assert.False(IdeaFlow.CanMove(IdeaFlow.Proposed, IdeaFlow.Implemented));
        Assert.False(IdeaFlow.CanMove(IdeaFlow.Rejected, IdeaFlow.Accepted));
        Assert.True(IdeaFlow.CanMove(IdeaFlow.Implemented, IdeaFlow.Measured));
    }

    [Fact]
    public void Stable_drivers_rank_above_equally_important_flighty_ones()
    {
        var whole = new List<DriverSuggestion.Candidate>
        {
            new("delivery", 30, true, -0.4, 40, 500),
            new("freshness", 30, true, -0.3, 20, 400),
            new("price-value", 10, false, -0.1, 10, 100),
        };
        var parts = new List<IReadOnlyDictionary<string, double>>
        {
            new Dictionary<string, double> { ["delivery"] = 30, ["freshness"] = 55, ["price-value"] = 10 },
            new Dictionary<string, double> { ["delivery"] = 29, ["freshness"] = 5, ["price-value"] = 10 },
            new Dictionary<string, double> { ["delivery"] = 31, ["freshness"] = 30 },
        };
        var ranked = DriverSuggestion.Rank(whole, parts);
        Assert.Equal(["delivery", "freshness", "price-value"], ranked.Select(r => r.Driver.ThemeKey));
        Assert.True(ranked[0].Stability > 0.9);
        Assert.True(ranked[1].Stability < 0.5);
        Assert.Equal(0, ranked[2].Stability); // missing from a third: not stable
        Assert.Equal(3, DriverSuggestion.SuggestedCount(ranked)); // two significant, filled up to three
        Assert.Equal(1, DriverSuggestion.Stability([10, 10, 10]));
    }

    [Theory]
    [InlineData("2026-Q3", 2026, 7)]
    [InlineData("2026-Q1", 2026, 1)]
    [InlineData("2026-11", 2026, 11)]
    public void Culture_periods_are_quarters_or_months(string period, int year, int month)
    {
        Assert.True(CultureScorecard.TryParsePeriod(period, out var start));
        Assert.Equal(new DateOnly(year, month, 1), start);
    }

    [Theory]
    [InlineData("2026-Q5")]
    [InlineData("2026-13")]
    [InlineData("26-Q1")]
    [InlineData("2026Q1")]
    [InlineData("")]
    public void Other_periods_are_refused(string period) => Assert.False(CultureScorecard.TryParsePeriod(period, out _));

    [Fact]
    public void The_weakest_c_is_the_lowest_and_among_equals_the_one_that_fell_most()
    {
        Assert.Equal("communication", CultureScorecard.MostRoomToGrow(new(4, 2, 3, 4), null));
        Assert.Equal("consistency", CultureScorecard.MostRoomToGrow(new(4, 2, 2, 4), new(4, 2, 4, 4)));
    }

    [Fact]
    public void Sla_share_counts_finished_actions_and_those_still_open_past_due()
    {
        var now = new DateTime(2026, 11, 23, 12, 0, 0, DateTimeKind.Utc);
        var created = now.AddHours(-48);
        var summary = ActionMetrics.Summarise(
        [
            new(created, created.AddHours(24), created.AddHours(2), created.AddHours(10), null, ActionFlow.Resolved), // on time
            new(created, created.AddHours(24), created.AddHours(4), created.AddHours(30), null, ActionFlow.Resolved), // late
            new(created, created.AddHours(24), null, null, null, ActionFlow.Open), // open, past due
            new(created, now.AddHours(24), null, null, null, ActionFlow.Open), // open, not yet due: undecided
            new(created, created.AddHours(24), null, null, created.AddHours(1), ActionFlow.Closed), // closed on time
        ], now);
        Assert.Equal(4, summary.SlaDecided);
        Assert.Equal(50, summary.WithinSlaPercent);
        Assert.Equal(3, summary.MedianHoursToFirstResponse);
        Assert.Equal(20, summary.MeanHoursToResolve);
    }

    [Fact]
    public void Scope_keys_name_their_dimensions()
    {
        Assert.Equal("coffee", ScopeKeys.Value("journey=coffee|touchpoint=delivered", "journey"));
        Assert.Equal("delivered", ScopeKeys.Value("journey=coffee|touchpoint=delivered", "touchpoint"));
        Assert.Null(ScopeKeys.Value("channel=survey", "journey"));
    }
}
