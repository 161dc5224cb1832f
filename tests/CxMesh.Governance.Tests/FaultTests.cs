using CxMesh.Common.V1;
using CxMesh.Governance.UseCases;
using CxMesh.Governance.V1;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using static CxMesh.Governance.Tests.GovernanceTestKit;
using ScoringApi = CxMesh.Scoring.V1;

namespace CxMesh.Governance.Tests;

/// <summary>Governance on its own: another service out of reach, and overdue actions swept by several replicas.</summary>
public sealed class FaultTests
{
    [Fact]
    public async Task Scoring_out_of_reach_makes_sprint_progress_and_code_suggestions_unavailable_not_wrong()
    {
        var closed = Ports.Free();
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "governance";
            s.Settings["CxMesh:Endpoints:scoring"] = $"http://127.0.0.1:{closed}";
            s.Settings["CxMesh:Endpoints:feedback"] = $"http://127.0.0.1:{closed}";
        });
        var admin = host.Client<GovernanceService.GovernanceServiceClient>();
        var p = await PeopleAsync(admin);
        var start = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-5);
        var scope = new ScoringApi.Scope { Dimensions = { new ScoringApi.Dimension { Kind = ScoringApi.DimensionKind.Journey, Value = p.Journey } } };
        var sprint = (await admin.CreateSprintAsync(new CreateSprintRequest
        {
            Sprint = new Sprint
            {
                Name = "Offline",
                StartDate = start.ToString("yyyy-MM-dd"),
                EndDate = start.AddDays(83).ToString("yyyy-MM-dd"),
                Priorities = { Enumerable.Range(0, 4).Select(i => new Priority { Title = $"P{i}", OwnerId = p.Owner, Scope = scope, Metric = Metric.Nps, TargetChange = 5 }) },
            },
        })).Sprint;

        var progress = await RpcAssert.StatusAsync(() => admin.GetSprintProgressAsync(new GetSprintProgressRequest { SprintId = sprint.Id }).ResponseAsync, StatusCode.Unavailable);
        Assert.Contains("scoring service is unavailable", progress.Status.Detail);
        await RpcAssert.StatusAsync(() => admin.SuggestCxCodeAsync(new SuggestCxCodeRequest()).ResponseAsync, StatusCode.Unavailable);
        var caseStudy = await RpcAssert.StatusAsync(() => admin.CreateCaseStudyFromFeedbackAsync(new CreateCaseStudyFromFeedbackRequest { FeedbackId = Guid.NewGuid().ToString() }).ResponseAsync,
            StatusCode.Unavailable);
        Assert.Contains("feedback service", caseStudy.Status.Detail);
        // What governance keeps itself still answers.
        Assert.Equal(4, (await admin.GetSprintAsync(new GetSprintRequest { SprintId = sprint.Id })).Sprint.Priorities.Count);
    }

    [Fact]
    public async Task Overdue_actions_are_escalated_to_the_sponsor_once_however_many_replicas_sweep()
    {
        var clock = new ShiftableClock();
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "governance";
            s.Settings["CxMesh:Delivery"] = "InProcess";
            s.Settings["Governance:OverdueSweepInterval"] = "00:00:01";
            s.ConfigureServices = services => services.AddSingleton<TimeProvider>(clock);
        });
        var admin = host.Client<GovernanceService.GovernanceServiceClient>();
        var p = await PeopleAsync(admin);
        var ids = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            ids.Add((await admin.CreateActionAsync(new CreateActionRequest
            {
                Action = new Governance.V1.Action { Title = $"Call back {i}", JourneyKey = p.Journey, DueAt = Timestamp.FromDateTime(clock.GetUtcNow().UtcDateTime.AddHours(4)) },
            })).Action.Id);
        }
        var orphan = (await admin.CreateActionAsync(new CreateActionRequest
        {
            Action = new Governance.V1.Action { Title = "Nobody sponsors this", TeamId = p.Team, DueAt = Timestamp.FromDateTime(clock.GetUtcNow().UtcDateTime.AddHours(4)) },
        })).Action.Id;
        var resolved = ids[0];
        await admin.ResolveActionAsync(new ResolveActionRequest { ActionId = resolved, RootCause = "c", Resolution = "r" });

        // Five more "replicas" sweep at the same moment as the host's own sweeper.
        clock.Advance(TimeSpan.FromHours(5));
        var database = host.Services.GetRequiredKeyedService<ServiceDatabase>("governance");
        var replicas = Enumerable.Range(0, 5).Select(_ => new SweepOverdueActions(database)).ToList();
        await Task.WhenAll(replicas.Select(r => Task.Run(() => r.SweepAsync(7, default))));
        await Eventually.Until(async () => (await admin.ListActionsAsync(new ListActionsRequest { OverdueOnly = true, TeamId = p.Team, PageSize = 200 })).Actions.Count,
            n => n == 30, because: "every unresolved action past due is swept");

        var overdue = (await admin.ListActionsAsync(new ListActionsRequest { OverdueOnly = true, TeamId = p.Team, PageSize = 200 })).Actions;
        Assert.DoesNotContain(overdue, a => a.Id == resolved);
        Assert.All(overdue.Where(a => a.Id != orphan), a => Assert.Equal(p.Sponsor, a.EscalatedTo));
        Assert.Equal("", overdue.Single(a => a.Id == orphan).EscalatedTo);
        var detail = (await admin.GetActionAsync(new GetActionRequest { ActionId = ids[1] })).Action;
        Assert.Equal(1, detail.History.Count(h => h.Kind == "overdue"));
        Assert.Contains(p.Sponsor, detail.History.Single(h => h.Kind == "overdue").Detail);

        await using var connection = await database.OpenConnectionAsync();
        var events = await connection.QueryAsync<string>("select event_id from outbox where topic = 'action.overdue.v1'");
        Assert.Equal(30, events.Count());
        Assert.Equal(30, events.Distinct().Count());

        // Swept once: later rounds change nothing.
        clock.Advance(TimeSpan.FromHours(5));
        Assert.Equal(0, await replicas[0].SweepAsync(100, default));
    }
}
