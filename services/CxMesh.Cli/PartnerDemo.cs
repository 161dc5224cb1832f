using CxMesh.Feedback.V1;
using CxMesh.Partner.V1;
using Grpc.Core;

namespace CxMesh.Cli;

/// <summary>The coffee demo's ecosystem: two farms (by lot), the roaster (by product) and the courier (by the delivery touchpoint).</summary>
internal static class PartnerDemo
{
    /// <summary>The courier is "demo-partner", the partner id of the development partner token.</summary>
    public static readonly (string Id, string Name, PartnerKind Kind, MappingKind Mapping, string[] Values)[] Partners =
    [
        ("finca-la-esperanza", "Finca La Esperanza", PartnerKind.Producer, MappingKind.Lot, ["lot-eth-2611", "lot-eth-2612"]),
        ("finca-el-mirador", "Finca El Mirador", PartnerKind.Producer, MappingKind.Lot, ["lot-col-2609", "lot-hb-2610"]),
        ("roastworks", "Roastworks", PartnerKind.Supplier, MappingKind.Product, ["sku-ethiopia-250", "sku-colombia-250", "sku-house-blend-1kg"]),
        ("demo-partner", "Swift Courier", PartnerKind.Logistics, MappingKind.Touchpoint, ["delivered"]),
    ];

    /// <summary>Each demo partner's portal admin; kofi.mensah and lucia.mora are the development sign-in's partner users.</summary>
    public static readonly (string PartnerId, string Subject, string Name, string Email)[] Users =
    [
        ("demo-partner", "kofi.mensah", "Kofi Mensah", "kofi.mensah@swift-courier.example"),
        ("finca-la-esperanza", "lucia.mora", "Lucía Mora", "lucia@finca-la-esperanza.example"),
        ("finca-el-mirador", "diego.ramos", "Diego Ramos", "diego@finca-el-mirador.example"),
        ("roastworks", "hannah.berg", "Hannah Berg", "hannah@roastworks.example"),
    ];

    /// <summary>The supplier portal's people: each demo partner's admin (the development sign-in's partner users among them).</summary>
    private static async Task AddUsersAsync(PartnerService.PartnerServiceClient client, string partnerId, CancellationToken ct)
    {
        foreach (var (_, subject, name, email) in Users.Where(u => u.PartnerId == partnerId))
        {
            await client.AddPartnerUserAsync(new AddPartnerUserRequest { PartnerId = partnerId, User = new PartnerUser { Subject = subject, Name = name, Email = email, Admin = true } },
                deadline: Connection.Deadline(), cancellationToken: ct);
        }
    }

    /// <summary>Registers the partners with approved agreements; a partner already there is left as it is. Returns the courier's webhook secret when new.</summary>
    public static async Task<string?> SeedAsync(PartnerService.PartnerServiceClient client, Governance.V1.GovernanceService.GovernanceServiceClient governance,
        string? courierWebhook, CancellationToken ct)
    {
        string? secret = null;
        var decided = new List<string>();
        foreach (var (id, name, kind, mapping, values) in Partners)
        {
            RegisterPartnerResponse registered;
            try
            {
                registered = await client.RegisterPartnerAsync(new RegisterPartnerRequest
                {
                    Partner = new CxMesh.Partner.V1.Partner { Id = id, Name = name, Kind = kind, WebhookUrl = id == "demo-partner" ? courierWebhook ?? "" : "" },
                }, deadline: Connection.Deadline(), cancellationToken: ct);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
            {
                await AddUsersAsync(client, id, ct);
                continue;
            }
            await AddUsersAsync(client, id, ct);
            if (id == "demo-partner") secret = registered.WebhookSecret;
            var agreement = new Agreement
            {
                PartnerId = id,
                Fields = { SharedField.Ratings, SharedField.RedactedVerbatims, SharedField.Themes, SharedField.Sentiment },
                MinGroupSize = 5,
                Cadence = "0 6 1 * *",
                RetentionDays = 365,
            };
            foreach (var value in values)
            {
                await client.AddMappingAsync(new AddMappingRequest { Mapping = new Mapping { PartnerId = id, Kind = mapping, Value = value } }, cancellationToken: ct);
                agreement.Scope.Add(new Mapping { Kind = mapping, Value = value });
            }
            var draft = (await client.ProposeAgreementAsync(new ProposeAgreementRequest { Agreement = agreement }, cancellationToken: ct)).Agreement;
            await client.SubmitAgreementAsync(new SubmitAgreementRequest { AgreementId = draft.AgreementId, Version = draft.Version }, cancellationToken: ct);
            await GovernanceDemo.ApproveAsync(governance, draft.AgreementId, draft.Version, ct);
            decided.Add(draft.AgreementId);
        }
        // The decisions travel as governance.sharing.decided events: wait until every agreement is active.
        foreach (var agreementId in decided)
        {
            for (var i = 0; i < 100; i++)
            {
                var state = (await client.GetAgreementAsync(new GetAgreementRequest { AgreementId = agreementId }, cancellationToken: ct)).Agreement.State;
                if (state == AgreementState.Active) break;
                await Task.Delay(100, ct);
            }
        }
        return secret;
    }

    /// <summary>
    /// Weekly reports over the last four weeks (oldest first, so each shows the earlier ones as its trend). Each week is
    /// published once the partner's copies of the feedback just seeded are in: a preview (validate_only) must count at
    /// least the items of that week that the partner's mapping covers, since a published period can never be published
    /// again. A partner's reports never overlap: weeks reported by an earlier run stay.
    /// </summary>
    public static async Task PublishWeeklyReportsAsync(PartnerService.PartnerServiceClient client, IReadOnlyCollection<FeedbackItem> submitted, CancellationToken ct)
    {
        var today = DateTime.UtcNow.Date;
        foreach (var (id, name, _, mapping, values) in Partners)
        {
            for (var week = 3; week >= 0; week--)
            {
                var (from, to) = (today.AddDays(-7 * week - 7), today.AddDays(-7 * week - 1));
                var request = new PublishReportRequest { PartnerId = id, StartDate = from.ToString("yyyy-MM-dd"), EndDate = to.ToString("yyyy-MM-dd") };
                var expected = submitted.Count(i => i.DuplicateOf.Length == 0 && Covers(mapping, values, i.Links)
                    && i.GivenAt.ToDateTime() >= from && i.GivenAt.ToDateTime() < to.AddDays(1));
                try
                {
                    if (!await CopiesInAsync(client, request, expected, ct))
                    {
                        Console.WriteLine($"Report for {name} ({id}) of {request.StartDate} to {request.EndDate}: the partner's copies are still arriving after a minute; publishing what is there.");
                    }
                    var report = (await client.PublishReportAsync(request, deadline: Connection.Deadline(), cancellationToken: ct)).Report;
                    if (week == 0)
                    {
                        Console.WriteLine($"Report for {name} ({id}): {report.ReportId} ({(report.Suppressed ? $"fewer than {report.MinGroupSize}" : report.Items)} items, " +
                            $"NPS {(report.Nps.Suppressed ? "suppressed" : report.Nps.Value.ToString("+0.0;-0.0;0"))})");
                    }
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
                {
                    if (week == 0) Console.WriteLine($"Report for {name} ({id}) of {request.StartDate} to {request.EndDate}: published by an earlier run.");
                }
            }
        }
    }

    private static bool Covers(MappingKind mapping, string[] values, Links? links) => links is not null && mapping switch
    {
        MappingKind.Lot => values.Contains(links.LotId),
        MappingKind.Product => values.Contains(links.ProductId),
        MappingKind.Touchpoint => values.Contains(links.TouchpointKey),
        _ => false,
    };

    /// <summary>Whether the period's preview holds the expected items (a preview under k shows none: then it cannot tell), within a minute.</summary>
    private static async Task<bool> CopiesInAsync(PartnerService.PartnerServiceClient client, PublishReportRequest request, int expected, CancellationToken ct)
    {
        var preview = request.Clone();
        preview.ValidateOnly = true;
        for (var waited = 0; waited < 120; waited++)
        {
            var report = (await client.PublishReportAsync(preview, deadline: Connection.Deadline(), cancellationToken: ct)).Report;
            if (report.Items >= expected || expected < report.MinGroupSize) return true;
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
        return false;
    }
}
