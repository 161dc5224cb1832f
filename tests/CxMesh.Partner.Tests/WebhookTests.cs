using System.Collections.Concurrent;
using CxMesh.Partner.Data;
using CxMesh.Partner.Domain;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CxMesh.Partner.Tests;

/// <summary>A partner's webhook endpoint on real loopback HTTP: fails the way it is told to, then verifies and accepts.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failuresLeft;

    public sealed record Received(string Body, string? Signature, string? DeliveryId, DateTimeOffset At);

    private WebhookReceiver(WebApplication app, int port)
    {
        _app = app;
        Url = $"http://127.0.0.1:{port}/hooks/cxmesh";
    }

    public string Url { get; }
    public string Mode { get; set; } = "ok";
    public ConcurrentQueue<Received> Requests { get; } = new();

    public void FailNext(string mode, int times)
    {
        Mode = mode;
        _failuresLeft = times;
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var port = Ports.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        app.MapPost("/hooks/cxmesh", async (HttpContext http) =>
        {
            var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
            receiver!.Requests.Enqueue(new Received(body, http.Request.Headers[WebhookSignature.Header], http.Request.Headers[WebhookSignature.DeliveryHeader], DateTimeOffset.UtcNow));
            if (Interlocked.Decrement(ref receiver._failuresLeft) >= 0)
            {
                switch (receiver.Mode)
                {
                    case "500":
                        return Results.StatusCode(500);
                    case "reset":
                        http.Abort();
                        return Results.Empty;
                    case "timeout":
                        await Task.Delay(TimeSpan.FromSeconds(8)); // past the sender's timeout (5 s here)
                        return Results.Ok();
                }
            }
            return Results.Ok();
        });
        await app.StartAsync();
        receiver = new WebhookReceiver(app, port);
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed class WebhookTests : IAsyncLifetime
{
    private CxMeshTestHost _host = null!;
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "partner,governance";
            s.Settings["CxMesh:Delivery"] = "InProcess";
            s.Settings["Partner:WebhookAllowList:0"] = "127.0.0.1";
            // Long enough that a loaded machine's slow "200" is never taken for a timeout (an extra attempt).
            s.Settings["Partner:Webhooks:Timeout"] = "00:00:05";
            s.Settings["Partner:Webhooks:InitialBackoff"] = "00:00:00.05";
            s.Settings["Partner:Webhooks:MaxBackoff"] = "00:00:00.2";
            s.Settings["Partner:Webhooks:PollInterval"] = "00:00:00.05";
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    /// <summary>A partner whose webhook is the receiver, with one published report; returns its id and webhook secret.</summary>
    private async Task<(string PartnerId, string Secret, string ReportId)> PublishAsync()
    {
        var admin = _host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);
        var partnerId = $"hook-{Guid.NewGuid():N}"[..16];
        var registered = await admin.RegisterPartnerAsync(new RegisterPartnerRequest
        {
            Partner = new V1.Partner { Id = partnerId, Name = "Courier", Kind = PartnerKind.Logistics, WebhookUrl = _receiver.Url },
        });
        await admin.AddMappingAsync(new AddMappingRequest { Mapping = new Mapping { PartnerId = partnerId, Kind = MappingKind.Touchpoint, Value = "delivered" } });
        var draft = (await admin.ProposeAgreementAsync(new ProposeAgreementRequest
        {
            Agreement = new Agreement
            {
                PartnerId = partnerId,
                Scope = { new Mapping { Kind = MappingKind.Touchpoint, Value = "delivered" } },
                Fields = { SharedField.Ratings },
                MinGroupSize = 2,
                Cadence = "0 6 * * 1",
                RetentionDays = 90,
            },
        })).Agreement;
        await admin.SubmitAgreementAsync(new SubmitAgreementRequest { AgreementId = draft.AgreementId, Version = 1 });
        await SharingApprovals.DecideAsync(_host, draft.AgreementId, 1);
        await Eventually.Until(async () => (await admin.GetAgreementAsync(new GetAgreementRequest { AgreementId = draft.AgreementId })).Agreement.State,
            s => s == AgreementState.Active);
        var today = DateTime.UtcNow.Date;
        var report = (await admin.PublishReportAsync(new PublishReportRequest
        {
            PartnerId = partnerId,
            StartDate = today.AddDays(-7).ToString("yyyy-MM-dd"),
            EndDate = today.ToString("yyyy-MM-dd"),
        })).Report;
        return (partnerId, registered.WebhookSecret, report.ReportId);
    }

    [Theory]
    [InlineData("500", 3)]
    [InlineData("reset", 2)]
    [InlineData("timeout", 1)]
    public async Task A_receiver_that_fails_N_times_gets_exactly_N_plus_1_attempts_and_verifies_the_signature(string mode, int failures)
    {
        _receiver.FailNext(mode, failures);
        var (partnerId, secret, reportId) = await PublishAsync();
        var admin = _host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);

        var delivery = await Eventually.Until(
            async () => (await admin.ListWebhookDeliveriesAsync(new ListWebhookDeliveriesRequest { PartnerId = partnerId })).Deliveries.SingleOrDefault(),
            d => d?.State == "delivered", TimeSpan.FromSeconds(30));
        Assert.Equal(failures + 1, delivery!.Attempts);
        Assert.Equal(reportId, delivery.ReportId);
        var requests = _receiver.Requests.Where(r => r.DeliveryId == delivery.DeliveryId).ToList();
        Assert.Equal(failures + 1, requests.Count);
        var last = requests[^1];
        Assert.True(WebhookSignature.Verify(last.Signature, secret, last.Body, DateTimeOffset.UtcNow));
        Assert.Contains(reportId, last.Body);
        Assert.DoesNotContain("nps", last.Body);
        // A captured request replayed much later is refused by the receiver's check.
        Assert.False(WebhookSignature.Verify(last.Signature, secret, last.Body, DateTimeOffset.UtcNow.AddMinutes(10)));
        Assert.False(WebhookSignature.Verify(last.Signature, "whsec_wrong", last.Body, DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task During_a_rotation_both_secrets_sign_and_a_delivery_can_be_sent_again()
    {
        var (partnerId, oldSecret, _) = await PublishAsync();
        var admin = _host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);
        var first = await Eventually.Until(
            async () => (await admin.ListWebhookDeliveriesAsync(new ListWebhookDeliveriesRequest { PartnerId = partnerId })).Deliveries.SingleOrDefault(),
            d => d?.State == "delivered");
        var rotated = await admin.RotateWebhookSecretAsync(new RotateWebhookSecretRequest { Id = partnerId });
        Assert.NotEqual(oldSecret, rotated.WebhookSecret);

        await admin.RedeliverWebhookAsync(new RedeliverWebhookRequest { DeliveryId = first!.DeliveryId });
        await Eventually.Until(() => Task.FromResult(_receiver.Requests.Count(r => r.DeliveryId == first.DeliveryId)), n => n == 2);
        var again = _receiver.Requests.Last(r => r.DeliveryId == first.DeliveryId);
        Assert.Equal(2, again.Signature!.Split(',').Count(p => p.StartsWith("v1=", StringComparison.Ordinal)));
        Assert.True(WebhookSignature.Verify(again.Signature, oldSecret, again.Body, DateTimeOffset.UtcNow));
        Assert.True(WebhookSignature.Verify(again.Signature, rotated.WebhookSecret, again.Body, DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task Signing_secrets_are_sealed_at_rest_and_plaintext_ones_from_before_are_sealed_at_start_and_still_sign()
    {
        var (partnerId, secret, _) = await PublishAsync();
        var database = _host.Services.GetRequiredKeyedService<ServiceDatabase>("partner");
        await using var connection = await database.OpenConnectionAsync();
        var stored = await connection.QuerySingleAsync<(string? Secret, string KeyId, byte[] Ciphertext)>(
            "select secret, key_id, ciphertext from webhook_secrets where partner_id = @partnerId", new { partnerId });
        Assert.Null(stored.Secret);
        Assert.Equal("test1", stored.KeyId);
        Assert.DoesNotContain(secret, System.Text.Encoding.UTF8.GetString(stored.Ciphertext));

        // A row as written before secrets were sealed: plaintext. It still signs, and the sender seals it.
        await connection.ExecuteAsync(
            "update webhook_secrets set secret = @secret, key_id = null, nonce = null, ciphertext = null, tag = null where partner_id = @partnerId",
            new { secret, partnerId });
        var store = _host.Services.GetRequiredService<WebhookStore>();
        Assert.True(await store.SealLegacySecretsAsync(default) >= 1);
        Assert.Null(await connection.ExecuteScalarAsync<string?>("select secret from webhook_secrets where partner_id = @partnerId", new { partnerId }));

        var admin = _host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);
        var first = await Eventually.Until(
            async () => (await admin.ListWebhookDeliveriesAsync(new ListWebhookDeliveriesRequest { PartnerId = partnerId })).Deliveries.SingleOrDefault(),
            d => d?.State == "delivered");
        await admin.RedeliverWebhookAsync(new RedeliverWebhookRequest { DeliveryId = first!.DeliveryId });
        await Eventually.Until(() => Task.FromResult(_receiver.Requests.Count(r => r.DeliveryId == first.DeliveryId)), n => n == 2);
        var again = _receiver.Requests.Last(r => r.DeliveryId == first.DeliveryId);
        Assert.True(WebhookSignature.Verify(again.Signature, secret, again.Body, DateTimeOffset.UtcNow));

    }

    [Fact]
    public async Task A_partner_s_admin_points_the_webhook_sends_a_test_event_and_reads_it_in_the_delivery_log()
    {
        var (partnerId, _, _) = await PublishAsync();
        var admin = _host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);
        await admin.AddPartnerUserAsync(new AddPartnerUserRequest { PartnerId = partnerId, User = new PartnerUser { Subject = "ops", Name = "Ops lead", Admin = true } });
        var partner = _host.ClientWithToken<PartnerService.PartnerServiceClient>(_host.Token(Roles.Partner, partnerId, "ops"));

        var internalAddress = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => partner.SetMyWebhookAsync(new SetMyWebhookRequest { WebhookUrl = "https://169.254.169.254/latest" }).ResponseAsync);
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, internalAddress.StatusCode);
        Assert.Equal(["webhook_url"], RpcErrors.Fields(internalAddress));

        await partner.SetMyWebhookAsync(new SetMyWebhookRequest());
        var none = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => partner.SendMyTestEventAsync(new SendMyTestEventRequest()).ResponseAsync);
        Assert.Equal("NO_WEBHOOK", RpcErrors.Reason(none));

        Assert.Equal(_receiver.Url, (await partner.SetMyWebhookAsync(new SetMyWebhookRequest { WebhookUrl = _receiver.Url })).Partner.WebhookUrl);
        var secret = (await partner.RotateMyWebhookSecretAsync(new RotateMyWebhookSecretRequest())).WebhookSecret;
        var test = (await partner.SendMyTestEventAsync(new SendMyTestEventRequest())).Delivery;
        Assert.Equal(("test", "", "pending"), (test.Type, test.ReportId, test.State));
        var delivered = await Eventually.Until(
            async () => (await partner.ListMyWebhookDeliveriesAsync(new ListMyWebhookDeliveriesRequest())).Deliveries.Single(d => d.DeliveryId == test.DeliveryId),
            d => d.State == "delivered", TimeSpan.FromSeconds(30));
        Assert.Equal(1, delivered.Attempts);
        var received = _receiver.Requests.Single(r => r.DeliveryId == test.DeliveryId);
        Assert.True(WebhookSignature.Verify(received.Signature, secret, received.Body, DateTimeOffset.UtcNow));
        Assert.Contains("\"type\":\"test\"", received.Body);
        // The report's own notification is in the log too, and another partner reads none of them.
        Assert.Contains((await partner.ListMyWebhookDeliveriesAsync(new ListMyWebhookDeliveriesRequest())).Deliveries, d => d.Type == "report.published");
        Assert.Empty((await _host.ClientWithToken<PartnerService.PartnerServiceClient>(_host.Token(Roles.Partner, "another", "x"))
            .ListMyWebhookDeliveriesAsync(new ListMyWebhookDeliveriesRequest())).Deliveries);
    }
}
