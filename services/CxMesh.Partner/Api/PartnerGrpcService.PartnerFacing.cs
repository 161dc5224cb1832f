using CxMesh.Partner.Data;
using CxMesh.Partner.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Validation;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using static CxMesh.Platform.Validation.Identifiers;

namespace CxMesh.Partner.Api;

/// <summary>What a partner calls with its own token: its reports, its agreement and its answers.</summary>
public sealed partial class PartnerGrpcService
{
    // ---- Partner-facing ---------------------------------------------------------------------------------------------

    /// <summary>A partner's caller: the partner of the token, its subject, and its entry in the partner's user list (if any).</summary>
    private sealed record PartnerCaller(string PartnerId, string Subject, PartnerUserRow? User)
    {
        public bool Admin => User is { Admin: true, RemovedAt: null };
    }

    /// <summary>
    /// The caller of a partner-facing method. The token binds it to its partner; a user the partner removed is refused
    /// (PERMISSION_DENIED) even while their token is valid.
    /// </summary>
    private async Task<PartnerCaller> CallerAsync(ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        var partnerId = user.FindFirst(Roles.PartnerIdClaim)?.Value is { Length: > 0 } id
            ? id
            : throw new RpcException(new Status(StatusCode.PermissionDenied, "The token carries no partner_id claim."));
        var subject = user.FindFirst("sub")?.Value ?? "";
        var listed = subject.Length > 0 ? await partnerUsers.GetAsync(partnerId, subject, context.CancellationToken) : null;
        if (listed?.RemovedAt is not null) throw new RpcException(new Status(StatusCode.PermissionDenied, $"{subject} is no longer a user of partner {partnerId}."));
        return new PartnerCaller(partnerId, subject, listed);
    }

    /// <summary>The caller, who must be an admin of its partner.</summary>
    private async Task<PartnerCaller> AdminCallerAsync(ServerCallContext context)
    {
        var caller = await CallerAsync(context);
        return caller.Admin
            ? caller
            : throw new PreconditionFailedException("NOT_PARTNER_ADMIN", $"only an admin of partner {caller.PartnerId} may do this; ask one of its admins.", "");
    }

    private async Task<StoredReport> OwnReportAsync(string reportId, ServerCallContext context) =>
        Guid.TryParse(reportId, out var id) && await reports.ReportAsync((await CallerAsync(context)).PartnerId, id, context.CancellationToken) is { } report
            ? report
            : throw new NotFoundException("report", reportId);

    [Authorize(Roles = Roles.Partner)]
    public override async Task<ListMyReportsResponse> ListMyReports(ListMyReportsRequest request, ServerCallContext context)
    {
        var page = Violations.FailFast.Page(request.PageSize, request.PageToken, 1000, 1000);
        var response = new ListMyReportsResponse();
        var all = await reports.ReportsAsync((await CallerAsync(context)).PartnerId, context.CancellationToken);
        // Newest first: report ids are UUIDv7, ordered by publication.
        var reportsPage = Pages.Slice(all, r => r.ReportId.ToString(), page, out var next, descending: true);
        foreach (var stored in reportsPage)
        {
            var report = Report.Parser.ParseJson(stored.Content);
            report.Breakdowns.Clear();
            report.SampleVerbatims.Clear();
            response.Reports.Add(report);
        }
        response.NextPageToken = next;
        return response;
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<GetMyReportResponse> GetMyReport(GetMyReportRequest request, ServerCallContext context) =>
        new() { Report = Report.Parser.ParseJson((await OwnReportAsync(request.ReportId, context)).Content) };

    [Authorize(Roles = Roles.Partner)]
    [CallerLimit(CallerLimits.Download)]
    public override async Task DownloadMyReport(DownloadMyReportRequest request, IServerStreamWriter<DownloadMyReportResponse> responseStream, ServerCallContext context)
    {
        var stored = await OwnReportAsync(request.ReportId, context);
        if (request.Format is not (ReportFormat.Csv or ReportFormat.Html)) throw new FieldViolationException("format", "format must be REPORT_FORMAT_CSV or REPORT_FORMAT_HTML.");
        var report = Report.Parser.ParseJson(stored.Content);
        var first = true;
        await foreach (var chunk in request.Format == ReportFormat.Csv
            ? renderer.CsvAsync(report, context.CancellationToken)
            : renderer.HtmlAsync(report, context.CancellationToken))
        {
            await responseStream.WriteAsync(new DownloadMyReportResponse
            {
                Chunk = UnsafeByteOperations.UnsafeWrap(chunk),
                ContentType = first ? (request.Format == ReportFormat.Csv ? "text/csv; charset=utf-8" : "text/html; charset=utf-8") : "",
            }, context.CancellationToken);
            first = false;
        }
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<GetMyAgreementResponse> GetMyAgreement(GetMyAgreementRequest request, ServerCallContext context)
    {
        var partnerId = (await CallerAsync(context)).PartnerId;
        var agreement = await partners.ActiveAsync(partnerId, context.CancellationToken) ?? throw new NotFoundException("agreement", partnerId);
        return new GetMyAgreementResponse { Agreement = ToProto(agreement) };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<ListMyResponsesResponse> ListMyResponses(ListMyResponsesRequest request, ServerCallContext context)
    {
        var check = Violations.FailFast;
        var page = check.Page(request.PageSize, request.PageToken, 500, 100);
        var before = check.TimeAndGuid(page);
        var rows = Pages.Trim((await reports.ResponsesAsync((await CallerAsync(context)).PartnerId, null, null, before, page.Size + 1, context.CancellationToken)).ToList(),
            page, r => Pages.TimeKey(r.CreatedAt, r.ResponseId.ToString()), out var next);
        return new ListMyResponsesResponse { Responses = { rows.Select(ToProto) }, NextPageToken = next };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<SubmitResponseResponse> SubmitResponse(SubmitResponseRequest request, ServerCallContext context)
    {
        var report = await OwnReportAsync(request.ReportId, context);
        var responseId = await submitResponse.SubmitAsync(report.PartnerId, report.ReportId, request, context.CancellationToken);
        return new SubmitResponseResponse { ResponseId = responseId.ToString() };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<GetMyPartnerResponse> GetMyPartner(GetMyPartnerRequest request, ServerCallContext context)
    {
        var caller = await CallerAsync(context);
        var partner = await partners.GetAsync(caller.PartnerId, context.CancellationToken) ?? throw new NotFoundException("partner", caller.PartnerId);
        return new GetMyPartnerResponse { Partner = ToProto(partner), Me = caller.User is { } user ? ToProto(user) : new PartnerUser() };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<ListMyReportItemsResponse> ListMyReportItems(ListMyReportItemsRequest request, ServerCallContext context)
    {
        var check = new Violations();
        var size = check.PageSize(request.PageSize, "page_size", 500, 100);
        var after = AfterItem(request.PageToken);
        check.Check(request.PageToken.Length == 0 || after is not null, "page_token", "page_token is not one this method gave.");
        check.ThrowIfAny();
        var report = Report.Parser.ParseJson((await OwnReportAsync(request.ReportId, context)).Content);
        var response = new ListMyReportItemsResponse();
        PartnerItem? last = null;
        await foreach (var item in renderer.ItemsAsync(report, context.CancellationToken, after))
        {
            if (response.Items.Count == size)
            {
                response.NextPageToken = PageTokens.Encode($"{last!.GivenAt.Ticks}:{last.FeedbackId}");
                break;
            }
            response.Items.Add(ToProto(item));
            last = item;
        }
        return response;
    }

    /// <summary>The item a page token points after: its time (ticks) and id, as <see cref="PageTokens"/> carries them.</summary>
    private static (DateTime GivenAt, Guid FeedbackId)? AfterItem(string token) =>
        token.Length > 0 && PageTokens.TryDecode(token, out var position) && position.Split(':') is [var ticks, var id]
            && long.TryParse(ticks, out var t) && t >= 0 && t <= DateTime.MaxValue.Ticks && Guid.TryParse(id, out var feedbackId)
            ? (new DateTime(t, DateTimeKind.Utc), feedbackId)
            : null;

    private static ReportItem ToProto(PartnerItem item)
    {
        var proto = new ReportItem
        {
            FeedbackId = item.FeedbackId.ToString(),
            GivenOn = item.GivenAt.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            JourneyId = item.JourneyId ?? "",
            TouchpointKey = item.TouchpointKey ?? "",
            ProductId = item.ProductId ?? "",
            LotId = item.LotId ?? "",
            Nps = item.Nps ?? -1,
            Csat = item.Csat ?? -1,
            Ces = item.Ces ?? -1,
            Verbatim = item.RedactedVerbatim ?? "",
        };
        if (item.Sentiment is { } sentiment) proto.Sentiment = sentiment;
        if (!string.IsNullOrEmpty(item.ThemesJson)) proto.Themes.AddRange(item.ThemesJson.Split(';', StringSplitOptions.RemoveEmptyEntries));
        return proto;
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<SetMyWebhookResponse> SetMyWebhook(SetMyWebhookRequest request, ServerCallContext context)
    {
        if (request.WebhookUrl.Length > 0 && await WebhookProblemAsync(request.WebhookUrl, "webhook_url", context.CancellationToken) is { } problem)
        {
            throw new FieldViolationException("webhook_url", problem);
        }
        var caller = await AdminCallerAsync(context);
        return new SetMyWebhookResponse { Partner = ToProto(await partners.SetWebhookAsync(caller.PartnerId, NullIfEmpty(request.WebhookUrl), context.CancellationToken)) };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<RotateMyWebhookSecretResponse> RotateMyWebhookSecret(RotateMyWebhookSecretRequest request, ServerCallContext context)
    {
        var caller = await AdminCallerAsync(context);
        var (secret, retires) = await webhooks.RotateAsync(caller.PartnerId, context.CancellationToken);
        return new RotateMyWebhookSecretResponse { WebhookSecret = secret, PreviousRetiresAt = Timestamp.FromDateTime(DateTime.SpecifyKind(retires, DateTimeKind.Utc)) };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<SendMyTestEventResponse> SendMyTestEvent(SendMyTestEventRequest request, ServerCallContext context)
    {
        var caller = await AdminCallerAsync(context);
        var partner = await partners.GetAsync(caller.PartnerId, context.CancellationToken) ?? throw new NotFoundException("partner", caller.PartnerId);
        if (partner.WebhookUrl is not { } url) throw new PreconditionFailedException("NO_WEBHOOK", "the partner has no webhook endpoint: set one first.", "webhook_url");
        return new SendMyTestEventResponse { Delivery = ToProto(await webhooks.EnqueueTestAsync(partner.Id, url, context.CancellationToken)) };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<ListMyWebhookDeliveriesResponse> ListMyWebhookDeliveries(ListMyWebhookDeliveriesRequest request, ServerCallContext context)
    {
        var check = new Violations();
        var page = check.Page(request.PageSize, request.PageToken, 200, 50);
        var before = check.TimeAndGuid(page);
        check.ThrowIfAny();
        var caller = await CallerAsync(context);
        var rows = Pages.Trim((await webhooks.ListAsync(caller.PartnerId, before, page.Size + 1, context.CancellationToken)).ToList(), page,
            d => Pages.TimeKey(d.CreatedAt, d.DeliveryId.ToString()), out var next);
        return new() { Deliveries = { rows.Select(ToProto) }, NextPageToken = next };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<ListMyUsersResponse> ListMyUsers(ListMyUsersRequest request, ServerCallContext context)
    {
        var page = Violations.FailFast.Page(request.PageSize, request.PageToken, 1000, 1000);
        var caller = await AdminCallerAsync(context);
        var users = Pages.Slice((await partnerUsers.ListAsync(caller.PartnerId, context.CancellationToken)).Select(ToProto), u => u.Subject, page, out var next);
        return new() { Users = { users }, NextPageToken = next };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<AddMyUserResponse> AddMyUser(AddMyUserRequest request, ServerCallContext context)
    {
        var check = new Violations();
        var user = CheckedUser(request.User, check);
        check.ThrowIfAny();
        var caller = await AdminCallerAsync(context);
        if (user.Subject == caller.Subject && !user.Admin) throw new FieldViolationException("user.admin", "an admin cannot take away their own admin right; another admin must.");
        user.PartnerId = caller.PartnerId;
        user.AddedBy = caller.Subject;
        return new() { User = ToProto(await partnerUsers.UpsertAsync(user, context.CancellationToken)) };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<RemoveMyUserResponse> RemoveMyUser(RemoveMyUserRequest request, ServerCallContext context)
    {
        if (!IsSubject(request.Subject)) throw new FieldViolationException("subject", "subject must be a user's subject: 1-200 characters without control characters.");
        var caller = await AdminCallerAsync(context);
        if (request.Subject == caller.Subject) throw new FieldViolationException("subject", "an admin cannot remove themselves; another admin must.");
        var removed = await partnerUsers.RemoveAsync(caller.PartnerId, request.Subject, caller.Subject, context.CancellationToken)
            ?? throw new NotFoundException("partner user", request.Subject);
        return new() { User = ToProto(removed) };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<AddPartnerUserResponse> AddPartnerUser(AddPartnerUserRequest request, ServerCallContext context)
    {
        var check = new Violations();
        if (!Identifiers.Key().IsMatch(request.PartnerId)) check.Add("partner_id", "partner_id must be a partner id.");
        var user = CheckedUser(request.User, check);
        check.ThrowIfAny();
        user.PartnerId = request.PartnerId;
        user.AddedBy = Actor(context);
        return new() { User = ToProto(await partnerUsers.UpsertAsync(user, context.CancellationToken)) };
    }

    private static bool IsSubject(string subject) => subject.Length is > 0 and <= 200 && subject.Trim().Length == subject.Length && !subject.Any(char.IsControl);

    /// <summary>The user as a row; its problems go to <paramref name="check"/> (thrown by the caller).</summary>
    private static PartnerUserRow CheckedUser(PartnerUser? user, Violations check)
    {
        const string field = "user";
        if (user is null)
        {
            check.Add(field, "user is required.");
            return new PartnerUserRow();
        }
        if (!IsSubject(user.Subject)) check.Add($"{field}.subject", $"{field}.subject is the identity provider's subject: 1-200 characters, no control characters or surrounding spaces.");
        if (user.Name.Trim().Length is 0 or > 200 || user.Name.Any(char.IsControl)) check.Add($"{field}.name", $"{field}.name is required, at most 200 characters.");
        if (user.Email.Length > 0 && (user.Email.Length > 254 || !System.Net.Mail.MailAddress.TryCreate(user.Email.Trim(), out _))) check.Add($"{field}.email", $"{field}.email must be an e-mail address.");
        return new PartnerUserRow { Subject = user.Subject, Name = user.Name.Trim(), Email = NullIfEmpty(user.Email.Trim()), Admin = user.Admin };
    }

    private static PartnerUser ToProto(PartnerUserRow u) => new()
    {
        Subject = u.Subject,
        Name = u.Name,
        Email = u.Email ?? "",
        Admin = u.Admin,
        AddedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(u.AddedAt, DateTimeKind.Utc)),
        AddedBy = u.AddedBy,
        RemovedAt = u.RemovedAt is { } r ? Timestamp.FromDateTime(DateTime.SpecifyKind(r, DateTimeKind.Utc)) : null,
    };
}
