using System.Net;
using CxMesh.TestKit;
using Grpc.Health.V1;

namespace CxMesh.Platform.Tests;

public sealed class HealthTests
{
    [Fact]
    public async Task Liveness_checks_nothing_external_while_readiness_follows_Postgres()
    {
        await using var database = await FaultyDatabase.CreateAsync("scoring");
        var proxy = database.Proxy;
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "scoring";
            s.Databases["scoring"] = database.ProxiedConnectionString;
        });
        var http = host.Http();
        var health = new Health.HealthClient(host.Channel(role: null));

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/ready")).StatusCode);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);

        proxy.GoDown();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/live")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/healthz/ready")).StatusCode);
        await Eventually.Until(async () => (await health.CheckAsync(new HealthCheckRequest())).Status,
            s => s == HealthCheckResponse.Types.ServingStatus.NotServing, because: "gRPC health follows readiness");
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new HealthCheckRequest { Service = "liveness" })).Status);

        proxy.ComeBack();
        await Eventually.Until(async () => (await http.GetAsync("/healthz/ready")).StatusCode, c => c == HttpStatusCode.OK, because: "ready again");
    }

    [Fact]
    public async Task Redis_down_degrades_readiness_without_failing_it()
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Redis = $"127.0.0.1:{Ports.Free()}");
        var response = await host.Http().GetAsync("/healthz/ready");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("Degraded", body);
    }
}
