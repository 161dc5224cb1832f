using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Platform.Tests;

/// <summary>
/// Every host in a test process serves the instruments of every meter named CxMesh.*; these tests run alone so that the
/// exposition they read is their host's.
/// </summary>
[CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
public sealed class MetricsCollection;

[Collection(nameof(MetricsTests))]
public sealed class MetricsTests
{
    [Fact]
    public async Task The_metrics_endpoint_shows_the_outbox_backlog_while_publishing_fails_then_the_parked_rows_and_their_replay()
    {
        var (sidecar, sidecarApp, sidecarServer) = await FakeDaprSidecar.StartAsync();
        await using var _ = sidecarApp;
        sidecar.Failing = true;
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "feedback";
            s.Settings["Messaging:MaxAttempts"] = "2";
            s.Settings["Messaging:InitialBackoff"] = "00:00:01.500";
            s.Settings["Messaging:PollInterval"] = "00:00:00.200";
            s.Settings["Telemetry:SampleInterval"] = "00:00:00.100";
            s.ConfigureServices = services => FakeDaprSidecar.Use(services, sidecarServer.CreateHandler());
        });
        var http = host.Http();
        var before = await Eventually.Until(() => PrometheusText.ScrapeAsync(http),
            text => PrometheusText.Value(text, "cxmesh_outbox_pending", ("service", "feedback")) is not null, because: "the gauges are read once at start");
        Assert.Equal(0, PrometheusText.Value(before, "cxmesh_outbox_pending", ("service", "feedback")));
        Assert.Equal(0, PrometheusText.Value(before, "cxmesh_outbox_parked_rows", ("service", "feedback")));
        Assert.Equal(0, PrometheusText.Value(before, "cxmesh_inbox_dead_letters", ("service", "feedback")));
        var storedBefore = PrometheusText.Value(before, "cxmesh_feedback_stored_total") ?? 0;

        var feedback = host.Client<FeedbackService.FeedbackServiceClient>();
        for (var i = 0; i < 3; i++)
        {
            await feedback.SubmitFeedbackAsync(new SubmitFeedbackRequest
            {
                IdempotencyKey = $"metrics-park-{i}",
                Channel = Channel.Web,
                Ratings = { new Rating { QuestionId = "nps", Value = 9 } },
            });
        }

        // While the first attempt has failed and the second waits for its backoff, the rows are pending and ageing.
        var backlog = await Eventually.Until(() => PrometheusText.ScrapeAsync(http),
            text => PrometheusText.Value(text, "cxmesh_outbox_pending", ("service", "feedback")) == 3
                && PrometheusText.Value(text, "cxmesh_outbox_oldest_pending_age_seconds", ("service", "feedback")) > 0,
            because: "the backlog gauge counts the unpublished events");
        Assert.True(PrometheusText.Value(backlog, "cxmesh_feedback_stored_total") >= storedBefore + 3);
        Assert.True(PrometheusText.Value(backlog, "cxmesh_outbox_publish_failures_total") >= 1);

        var parked = await Eventually.Until(() => PrometheusText.ScrapeAsync(http),
            text => PrometheusText.Value(text, "cxmesh_outbox_parked_rows", ("service", "feedback")) == 3,
            because: "the parked-rows gauge counts the events given up on");
        Assert.Equal(0, PrometheusText.Value(parked, "cxmesh_outbox_pending", ("service", "feedback")));
        Assert.Equal(0, PrometheusText.Value(parked, "cxmesh_outbox_oldest_pending_age_seconds", ("service", "feedback")));

        sidecar.Failing = false;
        var db = host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        Assert.Equal(3, await ParkedEvents.ReplayAsync(db.DataSource, default));
        await Eventually.Until(() => PrometheusText.ScrapeAsync(http),
            text => PrometheusText.Value(text, "cxmesh_outbox_parked_rows", ("service", "feedback")) == 0
                && PrometheusText.Value(text, "cxmesh_outbox_pending", ("service", "feedback")) == 0,
            because: "a replay empties the parked rows and the backlog");
    }

    [Fact]
    public async Task The_all_in_one_host_serves_runtime_http_grpc_and_every_service_s_pipeline_gauges_and_the_freshness_histogram()
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Settings["Telemetry:SampleInterval"] = "00:00:00.100");
        var http = host.Http();
        await host.Client<FeedbackService.FeedbackServiceClient>().SubmitFeedbackAsync(new SubmitFeedbackRequest
        {
            IdempotencyKey = "metrics-fresh-1",
            Channel = Channel.Web,
            Ratings = { new Rating { QuestionId = "nps", Value = 3 } },
        });
        var text = await Eventually.Until(() => PrometheusText.ScrapeAsync(http),
            t => PrometheusText.Value(t, "cxmesh_scoring_freshness_seconds_count") >= 1,
            because: "the freshness histogram records the item once its hot scores are refreshed");
        foreach (var service in new[] { "journey", "feedback", "scoring", "partner", "governance", "notifications" })
        {
            Assert.NotNull(PrometheusText.Value(text, "cxmesh_outbox_pending", ("service", service)));
            Assert.NotNull(PrometheusText.Value(text, "cxmesh_outbox_parked_rows", ("service", service)));
        }
        foreach (var gauge in new[]
        {
            "cxmesh_journey_projection_lag_seconds", "cxmesh_governance_overdue_actions", "cxmesh_partner_webhooks_retrying",
            "cxmesh_notifications_retrying", "cxmesh_scoring_hot_refresh_pending_age_seconds",
        })
        {
            Assert.True(PrometheusText.Value(text, gauge) is not null, $"{gauge} is served");
        }
        // The detractor raised an alert, and the alert an action.
        await Eventually.Until(() => PrometheusText.ScrapeAsync(http),
            t => PrometheusText.Value(t, "cxmesh_scoring_alerts_raised_total") >= 1 && PrometheusText.Value(t, "cxmesh_governance_actions_created_total") >= 1,
            because: "alerts and actions are counted");
        // The runtime, every call (gRPC ones with their method as the route) and Npgsql.
        Assert.Contains("dotnet_gc_collections_total", text);
        Assert.Contains("http_server_request_duration_seconds_bucket{", text);
        Assert.Contains("http_route=\"/cxmesh.feedback.v1.FeedbackService/SubmitFeedback\"", text);
        Assert.Contains("db_client_operation_duration_seconds_bucket{", text);
    }

    [Fact]
    public async Task Every_error_carries_a_stable_reason_and_the_trace_id_the_response_header_names_over_grpc_and_json()
    {
        await using var host = await CxMeshTestHost.StartAsync(s => s.Services = "feedback");
        var missing = Guid.NewGuid().ToString();
        using var call = host.Client<FeedbackService.FeedbackServiceClient>().GetFeedbackAsync(new GetFeedbackRequest { Id = missing });
        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => call.ResponseAsync);
        var headers = await call.ResponseHeadersAsync;
        var traceId = headers.GetValue("x-trace-id");
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        var info = error.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>();
        Assert.Equal(("NOT_FOUND", "cxmesh.io", traceId), (info.Reason, info.Domain, info.Metadata["trace_id"]));

        var bad = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => host.Client<FeedbackService.FeedbackServiceClient>()
            .GetFeedbackAsync(new GetFeedbackRequest { Id = "not a uuid" }).ResponseAsync);
        Assert.Equal("INVALID_FIELD", RpcErrors.Reason(bad));
        Assert.Equal(["id"], RpcErrors.Fields(bad));

        var http = host.Http();
        http.DefaultRequestHeaders.Authorization = new("Bearer", host.Token(Auth.Roles.Admin));
        using var response = await http.GetAsync($"/v1/feedback/{missing}");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        var httpTrace = Assert.Single(response.Headers.GetValues("x-trace-id"));
        Assert.Contains($"\"trace_id\": \"{httpTrace}\"", body.Replace("\":\"", "\": \""));
        Assert.Contains("NOT_FOUND", body);
    }
}
