using System.Globalization;
using System.Text.Json;
using CxMesh.Partner.Data;
using CxMesh.Partner.Domain;
using CxMesh.Partner.UseCases;
using CxMesh.Partner.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Security;
using CxMesh.Platform.Validation;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using static CxMesh.Platform.Validation.Identifiers;

namespace CxMesh.Partner.Api;

public sealed partial class PartnerGrpcService(
    PartnerStore partners, ReportStore reports, ReportRenderer renderer, PublishReport publisher, SubmitResponse submitResponse, ManagePartners managePartners, WebhookStore webhooks, AlignmentStore alignment,
    PartnerUserStore partnerUsers, TimeProvider clock, IOptions<PartnerOptions> options)
    : PartnerService.PartnerServiceBase
{
    private const string Readers = $"{Roles.Admin},{Roles.Analyst}";
    private const int MaxDays = 366;



    // ---- Partners -------------------------------------------------------------------------------------------------

    [Authorize(Roles = Roles.Admin)]
    public override async Task<RegisterPartnerResponse> RegisterPartner(RegisterPartnerRequest request, ServerCallContext context)
    {
        var partner = await partners.RegisterAsync(await CheckedAsync(request.Partner, context.CancellationToken), context.CancellationToken);
        var (secret, _) = await webhooks.RotateAsync(partner.Id, context.CancellationToken);
        return new RegisterPartnerResponse { Partner = ToProto(partner), WebhookSecret = secret };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<RotateWebhookSecretResponse> RotateWebhookSecret(RotateWebhookSecretRequest request, ServerCallContext context)
    {
        var (secret, retires) = await webhooks.RotateAsync(request.Id, context.CancellationToken);
        return new RotateWebhookSecretResponse { WebhookSecret = secret, PreviousRetiresAt = Timestamp.FromDateTime(DateTime.SpecifyKind(retires, DateTimeKind.Utc)) };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<ListWebhookDeliveriesResponse> ListWebhookDeliveries(ListWebhookDeliveriesRequest request, ServerCallContext context)
    {
        var check = Violations.FailFast;
        var page = check.Page(request.PageSize, request.PageToken, 200, 50);
        var before = check.TimeAndGuid(page);
        _ = await partners.GetAsync(request.PartnerId, context.CancellationToken) ?? throw new NotFoundException("partner", request.PartnerId);
        var rows = Pages.Trim((await webhooks.ListAsync(request.PartnerId, before, page.Size + 1, context.CancellationToken)).ToList(), page,
            d => Pages.TimeKey(d.CreatedAt, d.DeliveryId.ToString()), out var next);
        return new ListWebhookDeliveriesResponse { Deliveries = { rows.Select(ToProto) }, NextPageToken = next };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<RedeliverWebhookResponse> RedeliverWebhook(RedeliverWebhookRequest request, ServerCallContext context) =>
        Guid.TryParse(request.DeliveryId, out var id)
            ? new RedeliverWebhookResponse { Delivery = ToProto(await webhooks.RedeliverAsync(id, context.CancellationToken)) }
            : throw new FieldViolationException("delivery_id", "delivery_id must be a delivery id (a UUID).");

    internal static WebhookDelivery ToProto(DeliveryRow d)
    {
        static Timestamp? At(DateTime? t) => t is { } v ? Timestamp.FromDateTime(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;
        return new WebhookDelivery
        {
            DeliveryId = d.DeliveryId.ToString(),
            ReportId = d.ReportId?.ToString() ?? "",
            Type = d.Type ?? "",
            Url = d.Url,
            State = d.State,
            Attempts = d.Attempts,
            LastError = d.LastError ?? "",
            CreatedAt = At(d.CreatedAt),
            DeliveredAt = At(d.DeliveredAt),
            NextAttemptAt = d.State == "pending" ? At(d.NextAttemptAt) : null,
        };
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetPartnerResponse> GetPartner(GetPartnerRequest request, ServerCallContext context) =>
        new() { Partner = ToProto(await partners.GetAsync(request.Id, context.CancellationToken) ?? throw new NotFoundException("partner", request.Id)) };

    [Authorize(Roles = Readers)]
    public override async Task<ListPartnersResponse> ListPartners(ListPartnersRequest request, ServerCallContext context)
    {
        if (!System.Enum.IsDefined(request.Kind)) throw new FieldViolationException("kind", "kind is not a known partner kind.");
        var page = Violations.FailFast.Page(request.PageSize, request.PageToken, 1000, 1000);
        var all = await partners.ListAsync(request.Kind == PartnerKind.Unspecified ? null : KindName(request.Kind), context.CancellationToken);
        return new ListPartnersResponse { Partners = { Pages.Slice(all.Select(ToProto), x => x.Id, page, out var next) }, NextPageToken = next };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<UpdatePartnerResponse> UpdatePartner(UpdatePartnerRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var partner = await UpdateMasks.ApplyAsync(request.UpdateMask, request.Partner, "partner", async named =>
        {
            var id = Violations.FailFast.Key(named.Id, "partner.id");
            return ToProto(await partners.GetAsync(id, ct) ?? throw new NotFoundException("partner", id));
        }, "id");
        return new() { Partner = ToProto(await partners.UpdateAsync(await CheckedAsync(partner, ct), ct)) };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<SuspendPartnerResponse> SuspendPartner(SuspendPartnerRequest request, ServerCallContext context) =>
        new() { Partner = ToProto(await managePartners.SuspendAsync(request.Id, Actor(context), context.CancellationToken)) };

    [Authorize(Roles = Roles.Admin)]
    public override async Task<ReactivatePartnerResponse> ReactivatePartner(ReactivatePartnerRequest request, ServerCallContext context)
    {
        var check = new Violations();
        if (!Identifiers.Key().IsMatch(request.Id)) check.Add("id", "id must be a partner id: 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");
        if (request.Reason.Trim().Length is 0 or > 2000) check.Add("reason", "reason is required (1-2000 characters): reactivation is audited.");
        check.ThrowIfAny();
        return new() { Partner = ToProto(await managePartners.ReactivateAsync(request.Id, Actor(context), request.Reason.Trim(), context.CancellationToken)) };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst}")]
    public override async Task<ListPartnerResponsesResponse> ListPartnerResponses(ListPartnerResponsesRequest request, ServerCallContext context)
    {
        var check = new Violations();
        if (request.PartnerId.Length > 0 && !Identifiers.Key().IsMatch(request.PartnerId)) check.Add("partner_id", "partner_id must be a partner id.");
        if (request.Kind != ResponseKind.Unspecified && ResponseKindName(request.Kind) is null) check.Add("kind", "kind must name a response kind.");
        if (request.Status.Length > 0 && request.Status is not ("received" or "open" or "in-progress" or "done" or "resolved" or "closed"))
        {
            check.Add("status", "status must be received, open, in-progress, done, resolved or closed.");
        }
        var page = check.Page(request.PageSize, request.PageToken, 500, 100);
        var before = check.TimeAndGuid(page);
        check.ThrowIfAny();
        var rows = Pages.Trim((await reports.ResponsesAsync(NullIfEmpty(request.PartnerId), ResponseKindName(request.Kind), NullIfEmpty(request.Status),
            before, page.Size + 1, context.CancellationToken)).ToList(), page, r => Pages.TimeKey(r.CreatedAt, r.ResponseId.ToString()), out var next);
        return new ListPartnerResponsesResponse { Responses = { rows.Select(ToProto) }, NextPageToken = next };
    }

    private static string Actor(ServerCallContext context) => context.GetHttpContext().User.Identity?.Name ?? "unknown";

    private static string? ResponseKindName(ResponseKind kind) => kind switch
    {
        ResponseKind.Acknowledgement => "acknowledgement",
        ResponseKind.Dispute => "dispute",
        ResponseKind.Commitment => "commitment",
        _ => null,
    };

    private static PartnerResponse ToProto(ResponseRow r) => new()
    {
        ResponseId = r.ResponseId.ToString(),
        PartnerId = r.PartnerId,
        ReportId = r.ReportId.ToString(),
        Kind = r.Kind switch { "acknowledgement" => ResponseKind.Acknowledgement, "dispute" => ResponseKind.Dispute, _ => ResponseKind.Commitment },
        FeedbackId = r.FeedbackId?.ToString() ?? "",
        Text = r.Text ?? "",
        Owner = r.Owner ?? "",
        DueDate = r.DueDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
        Status = r.Status ?? "",
        Outcome = r.Outcome ?? "",
        CreatedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc)),
        UpdatedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(r.UpdatedAt, DateTimeKind.Utc)),
    };

    private async Task<PartnerRow> CheckedAsync(V1.Partner? partner, CancellationToken ct)
    {
        if (partner is null) throw new FieldViolationException("partner", "partner is required.");
        var check = new Violations();
        if (!Identifiers.Key().IsMatch(partner.Id)) check.Add("partner.id", "partner.id must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");
        if (partner.Name.Trim().Length is 0 or > 200) check.Add("partner.name", "partner.name is required, at most 200 characters.");
        if (partner.Kind == PartnerKind.Unspecified || !System.Enum.IsDefined(partner.Kind)) check.Add("partner.kind", "partner.kind is required.");
        if (partner.Contacts.Count > 20) check.Add("partner.contacts", "partner.contacts may hold at most 20 contacts.");
        for (var i = 0; i < partner.Contacts.Count; i++)
        {
            var c = partner.Contacts[i];
            if (c.Name.Length is 0 or > 200) check.Add($"partner.contacts[{i}].name", "a contact's name is required, at most 200 characters.");
            if (c.Email.Length > 0 && (c.Email.Length > 254 || !c.Email.Contains('@'))) check.Add($"partner.contacts[{i}].email", "a contact's email must be an email address.");
        }
        if (partner.WebhookUrl.Length > 0 && await WebhookProblemAsync(partner.WebhookUrl, "partner.webhook_url", ct) is { } problem) check.Add("partner.webhook_url", problem);
        check.ThrowIfAny();
        return new PartnerRow
        {
            Id = partner.Id,
            Name = partner.Name.Trim(),
            Kind = KindName(partner.Kind),
            Contacts = JsonSerializer.Serialize(partner.Contacts.Select(c => new ContactRow(c.Name, c.Email, c.Role)), PartnerStore.Json),
            WebhookUrl = partner.WebhookUrl.Length > 0 ? partner.WebhookUrl : null,
        };
    }

    /// <summary>https only, and never into our own network (loopback, private, link-local, metadata), unless the host is allow-listed.</summary>
    private Task<string?> WebhookProblemAsync(string url, string field, CancellationToken ct) =>
        OutboundWebhooks.ProblemAsync(url, field, options.Value.WebhookAllowList, ct);

    // ---- Mappings ---------------------------------------------------------------------------------------------------

    [Authorize(Roles = Roles.Admin)]
    public override async Task<AddMappingResponse> AddMapping(AddMappingRequest request, ServerCallContext context)
    {
        var m = request.Mapping ?? throw new FieldViolationException("mapping", "mapping is required.");
        var check = new Violations();
        if (!Identifiers.Key().IsMatch(m.PartnerId)) check.Add("mapping.partner_id", "mapping.partner_id is required.");
        if (MappingName(m.Kind) is null) check.Add("mapping.kind", "mapping.kind must be product, lot, journey or touchpoint.");
        if (!Identifiers.IsToken(m.Value)) check.Add("mapping.value", "mapping.value is required: 1-128 characters of letters, digits and . _ : -");
        check.ThrowIfAny();
        await managePartners.AddMappingAsync(new MappingRow(m.PartnerId, MappingName(m.Kind)!, m.Value), context.CancellationToken);
        return new AddMappingResponse { Mapping = m };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<RemoveMappingResponse> RemoveMapping(RemoveMappingRequest request, ServerCallContext context)
    {
        var m = request.Mapping ?? throw new FieldViolationException("mapping", "mapping is required.");
        if (MappingName(m.Kind) is not { } kind) throw new FieldViolationException("mapping.kind", "mapping.kind must be product, lot, journey or touchpoint.");
        await managePartners.RemoveMappingAsync(new MappingRow(m.PartnerId, kind, m.Value), context.CancellationToken);
        return new RemoveMappingResponse();
    }

    [Authorize(Roles = Readers)]
    public override async Task<ListMappingsResponse> ListMappings(ListMappingsRequest request, ServerCallContext context)
    {
        var page = Violations.FailFast.Page(request.PageSize, request.PageToken, 1000, 1000);
        _ = await partners.GetAsync(request.PartnerId, context.CancellationToken) ?? throw new NotFoundException("partner", request.PartnerId);
        var mappings = (await partners.MappingsAsync(request.PartnerId, context.CancellationToken));
        var response = new ListMappingsResponse();
        response.Mappings.AddRange(Pages.Slice(mappings, m => $"{m.Kind}|{m.Value}", page, out var next)
            .Select(m => new Mapping { PartnerId = m.PartnerId, Kind = MappingKindOf(m.Kind), Value = m.Value }));
        response.NextPageToken = next;
        return response;
    }

    // ---- Mapping between the wire and the rows ---------------------------------------------------------------------


    private static DateOnly? ParseDate(string value) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;

    public static string KindName(PartnerKind kind) => kind switch
    {
        PartnerKind.Supplier => "supplier",
        PartnerKind.Producer => "producer",
        PartnerKind.Logistics => "logistics",
        PartnerKind.ServiceProvider => "service_provider",
        PartnerKind.Reseller => "reseller",
        _ => "other",
    };

    private static string? MappingName(MappingKind kind) => kind switch
    {
        MappingKind.Product => "product",
        MappingKind.Lot => "lot",
        MappingKind.Journey => "journey",
        MappingKind.Touchpoint => "touchpoint",
        _ => null,
    };

    private static MappingKind MappingKindOf(string kind) => kind switch
    {
        "product" => MappingKind.Product,
        "lot" => MappingKind.Lot,
        "journey" => MappingKind.Journey,
        _ => MappingKind.Touchpoint,
    };

    private static string FieldName(SharedField field) => field switch
    {
        SharedField.Ratings => SharingPolicy.Ratings,
        SharedField.RedactedVerbatims => SharingPolicy.RedactedVerbatims,
        SharedField.Themes => SharingPolicy.Themes,
        _ => SharingPolicy.Sentiment,
    };

    private static SharedField FieldOf(string name) => name switch
    {
        SharingPolicy.Ratings => SharedField.Ratings,
        SharingPolicy.RedactedVerbatims => SharedField.RedactedVerbatims,
        SharingPolicy.Themes => SharedField.Themes,
        _ => SharedField.Sentiment,
    };

    private static V1.Partner ToProto(PartnerRow p)
    {
        var proto = new V1.Partner
        {
            Id = p.Id,
            Name = p.Name,
            Kind = System.Enum.GetValues<PartnerKind>().FirstOrDefault(k => k != PartnerKind.Unspecified && KindName(k) == p.Kind, PartnerKind.Other),
            WebhookUrl = p.WebhookUrl ?? "",
            Status = p.Status == "active" ? PartnerStatus.Active : PartnerStatus.Suspended,
            CreatedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(p.CreatedAt, DateTimeKind.Utc)),
        };
        proto.Contacts.AddRange((JsonSerializer.Deserialize<List<ContactRow>>(p.Contacts, PartnerStore.Json) ?? [])
            .Select(c => new Contact { Name = c.Name, Email = c.Email ?? "", Role = c.Role ?? "" }));
        return proto;
    }

    private static Agreement ToProto(AgreementRow a)
    {
        var proto = new Agreement
        {
            AgreementId = a.AgreementId.ToString(),
            Version = a.Version,
            PartnerId = a.PartnerId,
            MinGroupSize = a.MinGroupSize,
            Cadence = a.Cadence,
            RetentionDays = a.RetentionDays,
            State = a.State switch
            {
                "draft" => AgreementState.Draft,
                "pending_approval" => AgreementState.PendingApproval,
                "active" => AgreementState.Active,
                "suspended" => AgreementState.Suspended,
                "expired" => AgreementState.Expired,
                "rejected" => AgreementState.Rejected,
                _ => AgreementState.Superseded,
            },
            CreatedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(a.CreatedAt, DateTimeKind.Utc)),
            DecidedAt = a.DecidedAt is { } d ? Timestamp.FromDateTime(DateTime.SpecifyKind(d, DateTimeKind.Utc)) : null,
            ExpiresOn = a.ExpiresOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
        };
        proto.Scope.AddRange(a.ScopeList.Select(s => new Mapping { PartnerId = a.PartnerId, Kind = MappingKindOf(s.Kind), Value = s.Value }));
        proto.Fields.AddRange(a.Fields.Select(FieldOf));
        return proto;
    }
}
