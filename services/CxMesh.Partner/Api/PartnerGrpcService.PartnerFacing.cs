using CxMesh.Partner.Data;
using CxMesh.Partner.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Errors;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace CxMesh.Partner.Api;

/// <summary>What a partner calls with its own token: its reports, its agreement and its answers.</summary>
public sealed partial class PartnerGrpcService
{
    // ---- Partner-facing ---------------------------------------------------------------------------------------------

    private static string CallerPartner(ServerCallContext context) =>
        context.GetHttpContext().User.FindFirst(Roles.PartnerIdClaim)?.Value is { Length: > 0 } id
            ? id
            : throw new RpcException(new Status(StatusCode.PermissionDenied, "The token carries no partner_id claim."));

    private async Task<StoredReport> OwnReportAsync(string reportId, ServerCallContext context) =>
        Guid.TryParse(reportId, out var id) && await reports.ReportAsync(CallerPartner(context), id, context.CancellationToken) is { } report
            ? report
            : throw new NotFoundException("report", reportId);

    [Authorize(Roles = Roles.Partner)]
    public override async Task<ListMyReportsResponse> ListMyReports(ListMyReportsRequest request, ServerCallContext context)
    {
        var response = new ListMyReportsResponse();
        foreach (var stored in await reports.ReportsAsync(CallerPartner(context), context.CancellationToken))
        {
            var report = Report.Parser.ParseJson(stored.Content);
            report.Breakdowns.Clear();
            report.SampleVerbatims.Clear();
            response.Reports.Add(report);
        }
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
        var partnerId = CallerPartner(context);
        var agreement = await partners.ActiveAsync(partnerId, context.CancellationToken) ?? throw new NotFoundException("agreement", partnerId);
        return new GetMyAgreementResponse { Agreement = ToProto(agreement) };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<ListMyResponsesResponse> ListMyResponses(ListMyResponsesRequest request, ServerCallContext context)
    {
        if (request.PageSize is < 0 or > 500) throw new FieldViolationException("page_size", "page_size must be 0-500 (0 means 100).");
        var rows = await reports.ResponsesAsync(CallerPartner(context), null, null, request.PageSize == 0 ? 100 : request.PageSize, context.CancellationToken);
        return new ListMyResponsesResponse { Responses = { rows.Select(ToProto) } };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<SubmitResponseResponse> SubmitResponse(SubmitResponseRequest request, ServerCallContext context)
    {
        var report = await OwnReportAsync(request.ReportId, context);
        var responseId = await submitResponse.SubmitAsync(CallerPartner(context), report.ReportId, request, context.CancellationToken);
        return new SubmitResponseResponse { ResponseId = responseId.ToString() };
    }
}
