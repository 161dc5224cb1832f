using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Governance.V1;
using CxMesh.Journey.V1;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.EndToEnd.Tests;

/// <summary>
/// One customer across all five services — touchpoints with attributes, feedback with contact details, a detractor
/// alert, its action, a case study, a partner report — erased; then every table of every service database is scanned
/// for the customer id and each of their contact strings.
/// </summary>
public sealed class ErasureScanTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private static readonly string[] Services = ["journey", "feedback", "scoring", "partner", "governance"];

    [Fact]
    public async Task After_an_erasure_no_table_of_any_service_holds_the_customer_or_their_contact_details()
    {
        var host = fixture.Host;
        var run = Guid.NewGuid().ToString("N")[..8];
        var customer = $"cust-{run}";
        const string name = "Quentin Blackwood";
        var email = $"quentin.{run}@example.org";
        const string phone = "+44 20 7946 0958";
        var journey = $"erasure-{run}";
        var product = $"sku-{run}";
        var partnerId = $"farm-{run}";

        // Journey: a definition and the customer's touchpoints, with attributes and keys that name them.
        var journeys = host.Client<JourneyService.JourneyServiceClient>();
        var definition = new JourneyDefinition
        {
            Key = journey,
            Name = "Erasure",
            InactivityTimeout = Duration.FromTimeSpan(TimeSpan.FromDays(7)),
            Stages =
            {
                new Stage { Key = "order", Name = "Order", Touchpoints = { new TouchpointDefinition { Key = "ordered", Name = "Ordered", Channel = TouchpointChannel.Web, StartsJourney = true } } },
                new Stage { Key = "deliver", Name = "Deliver", Touchpoints = { new TouchpointDefinition { Key = "delivered", Name = "Delivered", Channel = TouchpointChannel.Web, EndsJourney = true } } },
            },
        };
        await journeys.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = definition });
        foreach (var (touchpoint, hoursAgo) in new[] { ("ordered", 30), ("delivered", 5) })
        {
            await journeys.RecordTouchpointAsync(new RecordTouchpointRequest
            {
                Touchpoint = new TouchpointEvent
                {
                    IdempotencyKey = $"{customer}-{touchpoint}",
                    CustomerId = customer,
                    JourneyKey = journey,
                    TouchpointKey = touchpoint,
                    OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow.AddHours(-hoursAgo)),
                    Attributes = { ["contact"] = email },
                },
            });
        }

        // Partner: the product's farm, with an approved agreement sharing verbatims.
        var partners = host.Client<PartnerService.PartnerServiceClient>();
        await partners.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = new Partner.V1.Partner { Id = partnerId, Name = "Finca", Kind = PartnerKind.Producer } });
        await partners.AddMappingAsync(new AddMappingRequest { Mapping = new Mapping { PartnerId = partnerId, Kind = MappingKind.Product, Value = product } });
        var draft = (await partners.ProposeAgreementAsync(new ProposeAgreementRequest
        {
            Agreement = new Agreement
            {
                PartnerId = partnerId,
                Scope = { new Mapping { Kind = MappingKind.Product, Value = product } },
                Fields = { SharedField.Ratings, SharedField.RedactedVerbatims, SharedField.Themes, SharedField.Sentiment },
                MinGroupSize = 2,
                Cadence = "0 6 1 * *",
                RetentionDays = 365,
            },
        })).Agreement;
        await partners.SubmitAgreementAsync(new SubmitAgreementRequest { AgreementId = draft.AgreementId, Version = 1 });
        await SharingApprovals.DecideAsync(host, draft.AgreementId, 1);
        await Eventually.Until(async () => (await partners.GetAgreementAsync(new GetAgreementRequest { AgreementId = draft.AgreementId })).Agreement.State,
            s => s == AgreementState.Active, because: "the approval reaches the partner service");

        // Feedback: the customer's detractor review with contact details, a second item, and two other customers'.
        var feedback = host.Client<FeedbackService.FeedbackServiceClient>();
        SubmitFeedbackRequest Item(string key, string who, int nps, string verbatim, ContactDetails? contact = null) => new()
        {
            IdempotencyKey = key,
            Channel = Channel.Review,
            JourneyKey = journey,
            CustomerId = who,
            Ratings = { new Rating { QuestionId = "nps", Value = nps } },
            Verbatim = verbatim,
            Contact = contact,
            Links = new Links { TouchpointKey = "delivered", ProductId = product },
            GivenAt = Timestamp.FromDateTime(DateTime.UtcNow.AddHours(-2)),
        };
        var review = (await feedback.SubmitFeedbackAsync(Item($"{customer}-review", customer, 1,
            $"The parcel was three days late and the beans were stale. {name} here, write to {email} or call {phone}.",
            new ContactDetails { Name = name, Email = email, Phone = phone, Address = "12 Rue Erasure, Paris" }))).Item;
        await feedback.SubmitFeedbackAsync(Item($"{customer}-again", customer, 3, "Still stale the second time, it is me again."));
        await feedback.SubmitFeedbackAsync(Item($"other-a-{run}", $"other-a-{run}", 9, "Lovely fresh beans."));
        await feedback.SubmitFeedbackAsync(Item($"other-b-{run}", $"other-b-{run}", 10, "Arrived early, great taste."));

        // Governance: the detractor's action, and a case study from the review.
        var governance = host.Client<GovernanceService.GovernanceServiceClient>();
        // Both of the customer's detractor answers have become actions before the erasure (one still in flight would
        // arrive after it: see the closing note on events in flight).
        await Eventually.Until(async () => (await governance.ListActionsAsync(new ListActionsRequest { JourneyKey = journey })).Actions,
            a => a.Count == 2, because: "each detractor alert becomes an action");
        await governance.CreateCaseStudyFromFeedbackAsync(new CreateCaseStudyFromFeedbackRequest { FeedbackId = review.Id });
        // Partner: a report that disclosed the customer's words.
        await Eventually.Until(async () =>
        {
            await using var c = await Db("partner").OpenConnectionAsync();
            return await c.ExecuteScalarAsync<long>("select count(*) from partner_items where partner_id = @partnerId", new { partnerId });
        }, n => n == 4, because: "the items reach the partner's copies");
        var today = DateTime.UtcNow.Date;
        var report = (await partners.PublishReportAsync(new PublishReportRequest
        {
            PartnerId = partnerId,
            StartDate = today.AddDays(-1).ToString("yyyy-MM-dd"),
            EndDate = today.ToString("yyyy-MM-dd"),
        })).Report;
        Assert.Contains(report.SampleVerbatims, v => v.Contains("stale", StringComparison.Ordinal));
        Assert.NotEmpty(await FindAsync(customer));

        // Erase, and wait for every service's part of the receipt.
        var erased = await feedback.EraseCustomerAsync(new EraseCustomerRequest { CustomerId = customer, WaitSeconds = 20 });
        Assert.True(erased.Receipt.Complete, $"pending: {string.Join(", ", erased.Receipt.Pending)}");
        Assert.Equal(["feedback", "governance", "journey", "partner", "scoring"], erased.Receipt.Services.Select(s => s.Service).Order());
        var parts = erased.Receipt.Services.ToDictionary(s => s.Service, s => s.Removed);
        Assert.Equal(2, parts["journey"]["touchpoints"]);
        Assert.Equal(2, parts["feedback"]["items_pseudonymised"]);
        Assert.Equal(2, parts["partner"]["partner_copies"]);
        Assert.Equal(1, parts["partner"]["published_reports"]);
        Assert.Equal(2, parts["governance"]["actions"]);
        Assert.Equal(1, parts["governance"]["case_studies"]);
        Assert.Equal(erased.Receipt, (await feedback.GetErasureReceiptAsync(new GetErasureReceiptRequest { ErasureId = erased.ErasureEventId })).Receipt);

        // Nothing left to deliver anywhere, then nothing left anywhere.
        await Eventually.Until(async () =>
        {
            var pending = 0L;
            foreach (var service in Services)
            {
                await using var c = await Db(service).OpenConnectionAsync();
                pending += await c.ExecuteScalarAsync<long>("select count(*) from outbox where sent_at is null and parked_at is null");
            }
            return pending;
        }, p => p == 0, because: "every outbox drains");
        var leftovers = new List<string>();
        // The phone as written and as digits (E.164): eight digits, which no event id or hash holds by chance (four did,
        // once in a few hundred runs: "7946" inside a UUIDv7).
        foreach (var needle in new[] { customer, "Quentin", "Blackwood", email, "7946 0958", "79460958", "Rue Erasure" }) leftovers.AddRange(await FindAsync(needle));
        Assert.Empty(leftovers);

        // The partner's report in every format has lost the words; its figures stay.
        var asPartner = host.PartnerClient<PartnerService.PartnerServiceClient>(partnerId);
        var stored = (await asPartner.GetMyReportAsync(new GetMyReportRequest { ReportId = report.ReportId })).Report;
        Assert.DoesNotContain(stored.SampleVerbatims, v => v.Contains("late", StringComparison.Ordinal));
        Assert.Equal(report.Items, stored.Items);
    }

    [Fact]
    public async Task A_name_given_once_is_hidden_from_every_item_of_that_customer_before_and_after_and_in_every_service()
    {
        var host = fixture.Host;
        var run = Guid.NewGuid().ToString("N")[..8];
        var customer = $"named-{run}";
        var journey = $"named-{run}";
        var feedback = host.Client<FeedbackService.FeedbackServiceClient>();
        var analyst = host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);
        SubmitFeedbackRequest Item(string key, string verbatim, ContactDetails? contact = null) => new()
        {
            IdempotencyKey = $"{customer}-{key}",
            Channel = Channel.Complaint,
            JourneyKey = journey,
            CustomerId = customer,
            Ratings = { new Rating { QuestionId = "nps", Value = 2 } },
            Verbatim = verbatim,
            Contact = contact,
        };
        // First, words that name the customer, before anyone knows that name is theirs.
        var first = (await feedback.SubmitFeedbackAsync(Item("first", "Ottoline Vance here: my grinder broke after a week."))).Item;
        Assert.Contains("Ottoline", first.RedactedVerbatim);
        // Then the customer gives their contact details.
        await feedback.SubmitFeedbackAsync(Item("second", "Still no answer about the grinder.",
            new ContactDetails { Name = "Ottoline Vance", Email = $"ottoline.{run}@example.net" }));
        // And later writes again, without contact details.
        var third = (await feedback.SubmitFeedbackAsync(Item("third", $"Vance again: write to ottoline.{run}@example.net, please."))).Item;

        Assert.DoesNotContain("Vance", third.RedactedVerbatim);
        Assert.DoesNotContain("ottoline", third.RedactedVerbatim, StringComparison.OrdinalIgnoreCase);
        var earlier = (await analyst.GetFeedbackAsync(new GetFeedbackRequest { Id = first.Id })).Item;
        Assert.Equal("[name] here: my grinder broke after a week.", earlier.RedactedVerbatim);
        Assert.Empty((await analyst.ListFeedbackAsync(new ListFeedbackRequest { TextContains = "Ottoline" })).Items);
        Assert.Empty((await analyst.ListFeedbackAsync(new ListFeedbackRequest { TextContains = "Vance" })).Items);

        // The detractor alert of the first item quotes the new text too (feedback.redacted reaches scoring).
        var scoring = host.Client<Scoring.V1.ScoringService.ScoringServiceClient>();
        await Eventually.Until(async () => (await scoring.ListAlertsAsync(new Scoring.V1.ListAlertsRequest { JourneyKey = journey, PageSize = 200 })).Alerts
            .Where(a => a.FeedbackId == first.Id).Select(a => a.RedactedVerbatim).FirstOrDefault(),
            v => v == "[name] here: my grinder broke after a week.", because: "feedback.redacted reaches scoring's alerts");
    }

    private ServiceDatabase Db(string service) => fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>(service);

    /// <summary>Every row of every table, in every service database, whose text holds <paramref name="needle"/>: "service.table".</summary>
    private async Task<List<string>> FindAsync(string needle)
    {
        var hits = new List<string>();
        foreach (var service in Services)
        {
            await using var connection = await Db(service).OpenConnectionAsync();
            var tables = await connection.QueryAsync<string>(
                "select quote_ident(table_schema) || '.' || quote_ident(table_name) from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'");
            foreach (var table in tables)
            {
                var n = await connection.ExecuteScalarAsync<long>($"select count(*) from {table} t where strpos(lower(t::text), lower(@needle)) > 0", new { needle });
                if (n > 0) hits.Add($"{service}.{table}: {n} row(s) hold '{needle}'");
            }
        }
        return hits;
    }
}
