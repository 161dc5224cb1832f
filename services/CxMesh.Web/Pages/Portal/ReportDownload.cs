using CxMesh.Partner.V1;
using CxMesh.Web.Calls;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace CxMesh.Web.Pages.Portal;

/// <summary>
/// A partner's report as CSV or HTML, streamed from the partner service as the signed-in partner user (so only its own
/// reports, with k applied there), chunk by chunk as it arrives.
/// </summary>
public static class ReportDownload
{
    public static async Task<IResult> DownloadAsync(HttpContext http, string reportId, string format, Person person, ConsoleClients clients)
    {
        person.Use(http.User);
        var kind = format switch { "csv" => ReportFormat.Csv, "html" => ReportFormat.Html, _ => ReportFormat.Unspecified };
        if (kind == ReportFormat.Unspecified) return Results.Problem("format must be csv or html.", statusCode: StatusCodes.Status400BadRequest);
        var ct = http.RequestAborted;
        var call = clients.Partner.DownloadMyReport(new DownloadMyReportRequest { ReportId = reportId, Format = kind }, cancellationToken: ct);
        DownloadMyReportResponse first;
        try
        {
            // The first chunk before the first byte: a refusal is an answer with its reason, not a broken download.
            if (!await call.ResponseStream.MoveNext(ct))
            {
                call.Dispose();
                return Results.Problem("the report is empty.", statusCode: StatusCodes.Status502BadGateway);
            }
            first = call.ResponseStream.Current;
        }
        catch (RpcException e)
        {
            call.Dispose();
            return ServiceCall.ProblemOf(e);
        }
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"cxmesh-report-{SafeName(reportId)}.{format}\"";
        http.Response.Headers.CacheControl = "no-store";
        return Results.Stream(async stream =>
        {
            using (call)
            {
                await stream.WriteAsync(first.Chunk.Memory, ct);
                while (await call.ResponseStream.MoveNext(ct)) await stream.WriteAsync(call.ResponseStream.Current.Chunk.Memory, ct);
            }
        }, first.ContentType.Length > 0 ? first.ContentType : "application/octet-stream");
    }

    private static string SafeName(string id) => new(id.Where(c => char.IsAsciiLetterOrDigit(c) || c == '-').Take(64).ToArray());
}
