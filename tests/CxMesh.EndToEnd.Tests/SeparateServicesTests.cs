using CxMesh.Cli;
using CxMesh.Governance.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Microsoft.AspNetCore.Builder;

namespace CxMesh.EndToEnd.Tests;

/// <summary>
/// The five services as the Helm chart runs them: one per host, each with its own database, events through Dapr
/// (a fake broker speaking Dapr's publish API and the apps' subscription endpoints), and governance reading scoring,
/// feedback and journey over gRPC. The smoke client the kind pipeline runs passes against it.
/// </summary>
public sealed class SeparateServicesTests : IAsyncLifetime
{
    private readonly Dictionary<string, CxMeshTestHost> _hosts = new();
    private FakeDaprBroker _broker = null!;
    private WebApplication _brokerApp = null!;

    public async Task InitializeAsync()
    {
        _broker = new FakeDaprBroker();
        var (_, app, server) = await FakeDaprSidecar.StartAsync(_broker);
        _brokerApp = app;
        foreach (var name in new[] { "journey", "feedback", "scoring", "partner" })
        {
            _hosts[name] = await CxMeshTestHost.StartAsync(s =>
            {
                s.Services = name;
                s.ConfigureServices = services => FakeDaprSidecar.Use(services, server.CreateHandler());
            });
        }
        _hosts["governance"] = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "governance";
            foreach (var other in new[] { "scoring", "feedback", "journey" }) s.Settings[$"CxMesh:Endpoints:{other}"] = _hosts[other].Address;
            s.ConfigureServices = services => FakeDaprSidecar.Use(services, server.CreateHandler());
        });
        foreach (var (name, host) in _hosts) await _broker.SubscribeAsync(name, host.SidecarHttp());
    }

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts.Values) await host.DisposeAsync();
        await _brokerApp.DisposeAsync();
    }

    [Fact]
    public async Task The_smoke_client_sees_feedback_flow_to_scoring_and_become_a_governance_action()
    {
        var output = new StringWriter();
        await new SmokeTest(service => _hosts[service].Channel(Roles.Admin), output, TimeSpan.FromSeconds(60)).RunAsync(default);
        Assert.Contains("smoke test passed", output.ToString());
        Assert.Contains(_broker.Published, p => p.Topic == "feedback.received.v1");
        Assert.Contains(_broker.Published, p => p.Topic == "alert.raised.v1");
        Assert.Empty(_broker.DeadLettered);
    }

    [Fact]
    public async Task Governance_reads_the_other_services_over_grpc_for_a_case_study()
    {
        var output = new StringWriter();
        await new SmokeTest(service => _hosts[service].Channel(Roles.Admin), output, TimeSpan.FromSeconds(60)).RunAsync(default);
        var governance = _hosts["governance"].Client<GovernanceService.GovernanceServiceClient>();
        var action = (await governance.ListActionsAsync(new ListActionsRequest { JourneyKey = SmokeTest.JourneyKey })).Actions[0];
        var study = (await governance.CreateCaseStudyFromFeedbackAsync(new CreateCaseStudyFromFeedbackRequest { FeedbackId = action.FeedbackId })).CaseStudy;
        Assert.Equal(SmokeTest.JourneyKey, study.JourneyKey);
        Assert.Equal("Smoke test: the page never loaded.", study.RedactedVerbatim);
        Assert.Contains(study.Timeline, t => t.TouchpointKey == "visited");
    }
}
