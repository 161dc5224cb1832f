using System.Text;
using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Partner.Tests;

/// <summary>What the partner tests set up: partners with approved agreements, feedback delivered as events, downloads.</summary>
public sealed class PartnerScenario(PartnerFixture fixture)
{
    private readonly PartnerService.PartnerServiceClient _admin = fixture.Host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);

    public static readonly DateTime Today = DateTime.UtcNow.Date;
    public static string Day(int offset) => Today.AddDays(offset).ToString("yyyy-MM-dd");

    public static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..20];

    public ServiceDatabase Database => fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("partner");

    public async Task DeliverAsync<TEvent>(EventTopic<TEvent> topic, string eventId, TEvent evt) where TEvent : IMessage<TEvent>, new()
    {
        var subscription = fixture.Host.Services.GetServices<EventSubscription>().Single(s => s.Service == "partner" && s.Topic.Name == topic.Name);
        var outcome = await fixture.Host.Services.GetRequiredService<EventDispatcher>()
            .DeliverAsync(subscription, new IncomingEvent(eventId, topic.Name, topic.EventType, EventJson.Format(evt), null), default);
        Assert.NotEqual(DeliveryOutcome.DeadLettered, outcome);
    }

    public static FeedbackReceived Feedback(string product, string lot, int nps, string verbatim = "", string customer = "", int daysAgo = 1, string touchpoint = "")
    {
        var evt = new FeedbackReceived
        {
            EventId = Guid.NewGuid().ToString(),
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
            FeedbackId = Guid.NewGuid().ToString(),
            Channel = Channel.Review,
            GivenAt = Timestamp.FromDateTime(Today.AddDays(-daysAgo).AddHours(10)),
            ProductId = product,
            LotId = lot,
            TouchpointKey = touchpoint,
            CustomerId = customer,
            RedactedVerbatim = verbatim,
            SentimentScore = nps >= 9 ? 0.6 : -0.6,
            Ratings = { new RatingValue { QuestionId = "nps", Metric = Metric.Nps, Value = nps, ScaleMin = 0, ScaleMax = 10, TopBoxValues = { 9, 10 } } },
        };
        if (verbatim.Length > 0) evt.Themes.Add(new ThemeMention { ThemeKey = "freshness", SentimentScore = evt.SentimentScore });
        return evt;
    }

    /// <summary>A partner with a product mapped and an approved agreement sharing ratings, verbatims and themes with k = 3.</summary>
    /// <summary>A partner mapped (by a product, or by what <paramref name="scope"/> says) to a new value; returns it.</summary>
    public async Task<(string PartnerId, string Product, Agreement Agreement)> ActivePartnerAsync(PartnerKind kind = PartnerKind.Producer, int k = 3,
        MappingKind scope = MappingKind.Product, string name = "Finca Test")
    {
        var partnerId = Unique("farm");
        var product = Unique(scope == MappingKind.Product ? "sku" : "tp");
        await _admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = new V1.Partner { Id = partnerId, Name = name, Kind = kind } });
        await _admin.AddMappingAsync(new AddMappingRequest { Mapping = new Mapping { PartnerId = partnerId, Kind = scope, Value = product } });
        var draft = (await _admin.ProposeAgreementAsync(new ProposeAgreementRequest
        {
            Agreement = new Agreement
            {
                PartnerId = partnerId,
                Scope = { new Mapping { Kind = scope, Value = product } },
                Fields = { SharedField.Ratings, SharedField.RedactedVerbatims, SharedField.Themes },
                MinGroupSize = k,
                Cadence = "0 6 1 * *",
                RetentionDays = 365,
            },
        })).Agreement;
        Assert.Equal(AgreementState.Draft, draft.State);
        await _admin.SubmitAgreementAsync(new SubmitAgreementRequest { AgreementId = draft.AgreementId, Version = 1 });
        await SharingApprovals.DecideAsync(fixture.Host, draft.AgreementId, 1);
        var active = await Eventually.Until(
            async () => (await _admin.GetAgreementAsync(new GetAgreementRequest { AgreementId = draft.AgreementId })).Agreement,
            a => a.State == AgreementState.Active, because: "the decision goes through governance.sharing.decided");
        return (partnerId, product, active);
    }

    public static async Task<string> DownloadAsync(PartnerService.PartnerServiceClient client, string reportId, ReportFormat format)
    {
        using var call = client.DownloadMyReport(new DownloadMyReportRequest { ReportId = reportId, Format = format });
        var bytes = new List<byte>();
        await foreach (var chunk in call.ResponseStream.ReadAllAsync()) bytes.AddRange(chunk.Chunk);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

}
