using System.Globalization;
using CsvHelper;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Api;
using CxMesh.Web.Calls;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace CxMesh.Web.Pages.Feedback;

/// <summary>
/// The explorer's filtered set as CSV, read page by page as the signed-in person (so the text is what their role may
/// read), written as it is read. Cells that a spreadsheet would run as formulas are escaped.
/// </summary>
public static class FeedbackCsv
{
    private const int PageSize = 200;

    public static async Task<IResult> ExportAsync(HttpContext http, Person person, ConsoleClients clients)
    {
        person.Use(http.User);
        var filters = FeedbackFilters.FromQuery(http.Request.QueryString.Value ?? "");
        var ct = http.RequestAborted;
        ListFeedbackResponse first;
        try
        {
            // The first page before the first byte: a refusal is an answer with its reason, not a broken download.
            first = await clients.Feedback.ListFeedbackAsync(filters.ToRequest(PageSize), cancellationToken: ct);
        }
        catch (RpcException e)
        {
            return ServiceCall.ProblemOf(e);
        }
        return Results.Stream(async stream =>
        {
            await using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
            await using var csv = new CsvWriter(writer, SafeCsv.Configuration);
            foreach (var header in new[] { "id", "given_at", "channel", "journey_key", "touchpoint_key", "product_id", "lot_id", "ratings", "polarity", "sentiment", "themes", "language", "text" })
            {
                csv.WriteField(header);
            }
            await csv.NextRecordAsync();
            var page = first;
            while (true)
            {
                foreach (var item in page.Items)
                {
                    csv.WriteField(item.Id);
                    csv.WriteField(item.GivenAt?.ToDateTime().ToString("O", CultureInfo.InvariantCulture) ?? "");
                    csv.WriteField(ChannelNames.Name(item.Channel) ?? "");
                    csv.WriteField(item.JourneyKey);
                    csv.WriteField(item.Links?.TouchpointKey ?? "");
                    csv.WriteField(item.Links?.ProductId ?? "");
                    csv.WriteField(item.Links?.LotId ?? "");
                    csv.WriteField(string.Join(";", item.Ratings.Select(r => $"{r.QuestionId}={r.Value}")));
                    csv.WriteField(item.Polarity.ToString().ToLowerInvariant());
                    csv.WriteField(item.SentimentScore.ToString("0.###", CultureInfo.InvariantCulture));
                    csv.WriteField(string.Join(";", item.Themes.Select(t => t.ThemeKey)));
                    csv.WriteField(item.Language);
                    csv.WriteField(item.RedactedVerbatim);
                    await csv.NextRecordAsync();
                }
                if (page.NextPageToken.Length == 0) break;
                await csv.FlushAsync();
                page = await clients.Feedback.ListFeedbackAsync(filters.ToRequest(PageSize, page.NextPageToken), cancellationToken: ct);
            }
        }, "text/csv; charset=utf-8", "feedback.csv");
    }
}
