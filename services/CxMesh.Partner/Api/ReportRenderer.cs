using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using CsvHelper;
using CxMesh.Partner.Data;
using CxMesh.Partner.Domain;
using CxMesh.Partner.V1;
using CxMesh.Platform.Api;

namespace CxMesh.Partner.Api;

/// <summary>
/// Builds a partner's report from its partner-scoped copies (what k and complementary suppression allow, see
/// <see cref="Disclosure"/>), and renders the stored report as CSV (one row per item it disclosed) or a self-contained
/// HTML page with inline SVG, streamed in chunks of about 64 KiB. All formats read the one stored report and its ledger.
/// </summary>
public sealed class ReportRenderer(ReportStore store)
{
    private const int ChunkSize = 64 * 1024;
    private const int TrendPeriods = 3;

    /// <summary>The report of a period, and how many items the period holds (the report shows them only from k on).</summary>
    public async Task<(Report Report, long PeriodItems)> BuildAsync(PartnerRow partner, AgreementRow agreement, DateOnly start, DateOnly end, CancellationToken ct)
    {
        var k = agreement.MinGroupSize;
        var totals = await store.TotalsAsync(partner.Id, start, end, ct);
        var shares = new HashSet<string>(agreement.Fields);
        var report = new Report
        {
            ReportId = Guid.CreateVersion7().ToString(),
            PartnerId = partner.Id,
            PartnerName = partner.Name,
            AgreementId = agreement.AgreementId.ToString(),
            AgreementVersion = agreement.Version,
            StartDate = Date(start),
            EndDate = Date(end),
            Items = totals.Items >= k ? totals.Items : 0,
            Suppressed = totals.Items < k,
            MinGroupSize = k,
            Nps = Proto(GuardedScore.Nps(totals.Promoters, totals.Passives, totals.Detractors, k)),
            Csat = Proto(GuardedScore.Share("csat", totals.CsatTop, totals.CsatN, k)),
            Ces = Proto(GuardedScore.Mean("ces", totals.CesSum, totals.CesSquares, totals.CesN, k)),
        };

        // Earlier reports' NPS as they were published, oldest first: figures of a period are published once, never
        // recomputed (late feedback would otherwise make two versions of one period whose difference could be read).
        foreach (var earlier in (await store.EarlierReportsAsync(partner.Id, start, TrendPeriods, ct)).Reverse())
        {
            var r = Report.Parser.ParseJson(earlier.Content);
            report.Trend.Add(new TrendPoint { StartDate = r.StartDate, EndDate = r.EndDate, Nps = r.Nps });
        }

        if (totals.Items >= k)
        {
            if (shares.Contains(SharingPolicy.Themes))
            {
                report.Themes.AddRange((await store.ThemesAsync(partner.Id, start, end, ct))
                    .Where(t => Disclosure.ThemeShown(totals.Items, t.Mentions, k)).Take(10).Select(t => new ThemeSummary
                    {
                        ThemeKey = t.ThemeKey,
                        Mentions = t.Mentions,
                        MeanSentiment = t.MeanSentiment,
                        NegativePercent = 100.0 * t.Negative / t.Mentions,
                    }));
            }
            // Only the dimensions of the partner's own agreement (a courier its touchpoints, a farm its lots, a roaster its
            // products and their lots), each partition suppressed on its own: products with their lots, journeys, touchpoints.
            var dimensions = agreement.ScopeList.Select(s => s.Kind).ToHashSet(StringComparer.Ordinal);
            if (dimensions.Contains("product")) dimensions.Add("lot");
            var groups = await store.GroupsAsync(partner.Id, start, end, dimensions, ct);
            var suppressed = new bool[groups.Count];
            foreach (var partition in groups.Select((g, i) => (g, i)).GroupBy(x => x.g.Dimension is "product" or "lot" ? "product" : x.g.Dimension))
            {
                var members = partition.ToList();
                var products = members.Select((x, j) => (x.g, j)).Where(y => y.g.Dimension == "product").ToDictionary(y => y.g.Value, y => y.j);
                var hidden = Disclosure.Suppress(totals.Items, members.Select(x => new DisclosureGroup(x.g.Dimension, x.g.Value,
                    x.g.Dimension == "lot" && x.g.Parent is { } product && products.TryGetValue(product, out var parent) ? parent : -1, x.g.Items)).ToList(), k);
                for (var j = 0; j < members.Count; j++) suppressed[members[j].i] = hidden[j];
            }
            for (var i = 0; i < groups.Count; i++)
            {
                var g = groups[i];
                report.Breakdowns.Add(new Breakdown
                {
                    Dimension = g.Dimension,
                    Value = g.Value,
                    Parent = g.Parent ?? "",
                    N = suppressed[i] ? 0 : g.Items,
                    Nps = suppressed[i] ? Proto(new GuardedScore("nps", 0, 0, 0, true)) : Proto(GuardedScore.Nps(g.Promoters, g.Passives, g.Detractors, k)),
                    Suppressed = suppressed[i],
                });
            }
            if (shares.Contains(SharingPolicy.RedactedVerbatims)) report.SampleVerbatims.AddRange(await store.SampleAsync(partner.Id, start, end, 10, ct));

            // Peers of the same kind: only the band of this partner's NPS among theirs, never their identities or figures.
            if (!report.Nps.Suppressed)
            {
                var peers = (await store.PeersAsync(partner.Id, partner.Kind, start, end, ct))
                    .Select(p => GuardedScore.Nps(p.Promoters, p.Passives, p.Detractors, k)).Where(s => !s.Suppressed).Select(s => s.Value).ToList();
                report.PeerBand = PeerBand.Of(report.Nps.Value, peers) ?? "";
            }
        }
        return (report, totals.Items);
    }

    private static ReportScore Proto(GuardedScore s) => new() { Metric = s.Metric, Value = s.Value, N = s.N, MarginOfError = s.Margin, Suppressed = s.Suppressed };

    private static string Date(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>
    /// The report's items as a partner may see them: none under k; the groups of one partition only (products and lots
    /// when the report breaks down by them, else touchpoints, else journeys), each item with its deepest shown group (a
    /// group whose breakdown is suppressed is left blank, so rows never regroup what the figures hide, and two partitions
    /// never cross into cells smaller than k); only the themes the report shows. After <paramref name="after"/> when set.
    /// </summary>
    public async IAsyncEnumerable<PartnerItem> ItemsAsync(Report report, [EnumeratorCancellation] CancellationToken ct, (DateTime GivenAt, Guid FeedbackId)? after = null)
    {
        if (report.Suppressed || report.Items < report.MinGroupSize) yield break;
        HashSet<(string, string)> Shown(string dimension) =>
            report.Breakdowns.Where(b => b.Dimension == dimension && !b.Suppressed).Select(b => (b.Dimension == "lot" ? b.Parent : "", b.Value)).ToHashSet();
        var partition = report.Breakdowns.Select(b => b.Dimension).ToHashSet(StringComparer.Ordinal) switch
        {
            var d when d.Contains("product") || d.Contains("lot") => "product",
            var d when d.Contains("touchpoint") => "touchpoint",
            var d when d.Contains("journey") => "journey",
            _ => "",
        };
        var (products, lots, journeys, touchpoints) = (Shown("product"), Shown("lot"), Shown("journey"), Shown("touchpoint"));
        var shownThemes = report.Themes.Select(t => t.ThemeKey).ToHashSet(StringComparer.Ordinal);
        await foreach (var item in store.ItemsAsync(report.PartnerId, Guid.Parse(report.ReportId), ct, after))
        {
            var product = partition == "product" && item.ProductId is { } p && products.Contains(("", p)) ? p : null;
            var lot = partition == "product" && item.LotId is { } l && lots.Contains((item.ProductId ?? "", l)) ? l : null;
            var journey = partition == "journey" && item.JourneyId is { } j && journeys.Contains(("", j)) ? j : null;
            var touchpoint = partition == "touchpoint" && item.TouchpointKey is { } t && touchpoints.Contains(("", t)) ? t : null;
            yield return item with { ProductId = product, LotId = lot, JourneyId = journey, TouchpointKey = touchpoint, ThemesJson = ThemeList(item.ThemesJson, shownThemes) };
        }
    }

    /// <summary>One row per item of the report (none when it has fewer than k), formula-leading cells escaped.</summary>
    public async IAsyncEnumerable<byte[]> CsvAsync(Report report, [EnumeratorCancellation] CancellationToken ct)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        await using var csv = new CsvWriter(text, SafeCsv.Configuration);
        foreach (var header in (string[])["feedback_id", "given_on", "journey", "touchpoint", "product", "lot", "nps", "csat", "ces", "sentiment", "themes", "verbatim"])
        {
            csv.WriteField(header);
        }
        await csv.NextRecordAsync();
        await foreach (var item in ItemsAsync(report, ct))
        {
            csv.WriteField(item.FeedbackId.ToString());
            csv.WriteField(item.GivenAt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            csv.WriteField(item.JourneyId);
            csv.WriteField(item.TouchpointKey);
            csv.WriteField(item.ProductId);
            csv.WriteField(item.LotId);
            csv.WriteField(item.Nps);
            csv.WriteField(item.Csat);
            csv.WriteField(item.Ces);
            csv.WriteField(item.Sentiment?.ToString("0.00", CultureInfo.InvariantCulture));
            csv.WriteField(item.ThemesJson);
            csv.WriteField(item.RedactedVerbatim);
            await csv.NextRecordAsync();
            if (text.GetStringBuilder().Length >= ChunkSize)
            {
                await csv.FlushAsync();
                yield return Encoding.UTF8.GetBytes(text.ToString());
                text.GetStringBuilder().Clear();
            }
        }
        await csv.FlushAsync();
        yield return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>
    /// A page that reads well on a phone and prints: who it is for and when, each metric with what it means, its interval
    /// and n, a trend chart with axes and values (and "no data" where a period showed none), themes, the breakdowns of the
    /// partner's own dimensions, different sample comments, the peer band explained, how to respond, then the items.
    /// </summary>
    public async IAsyncEnumerable<byte[]> HtmlAsync(Report report, [EnumeratorCancellation] CancellationToken ct)
    {
        string H(string? s) => WebUtility.HtmlEncode(s ?? "");
        string F(double v, string format = "0.0") => v.ToString(format, CultureInfo.InvariantCulture);
        string Score(ReportScore s, string unit = "") => s.Suppressed ? $"<span class=muted>not shown: fewer than {report.MinGroupSize} responses</span>"
            : $"<span class=big>{F(s.Value)}{unit}</span><br><span class=muted>± {F(s.MarginOfError)} (95% interval) · n = {s.N}</span>";
        var who = report.PartnerName.Length > 0 ? report.PartnerName : report.PartnerId;
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">")
            .Append($"<title>Customer feedback for {H(who)}, {H(report.StartDate)} to {H(report.EndDate)}</title>")
            // Latin first, then the Chinese fonts of every common system, so CJK words in comments render on any of them.
            .Append("<style>body{font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,\"PingFang SC\",\"Hiragino Sans GB\",")
            .Append("\"Microsoft YaHei\",\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"WenQuanYi Micro Hei\",sans-serif;margin:0 auto;max-width:48rem;padding:1rem;color:#1b1b1b}")
            .Append("table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border-bottom:1px solid #ddd;padding:.35rem;text-align:left;vertical-align:top}")
            .Append("th{background:#f4f4f4}.muted{color:#555;font-size:.85em}.big{font-size:1.6rem;font-weight:600}")
            .Append(".cards{display:flex;flex-wrap:wrap;gap:.5rem}.card{flex:1 1 13rem;border:1px solid #ccc;border-radius:.5rem;padding:.6rem}")
            .Append(".card p{margin:.4rem 0 0;font-size:.85rem;color:#333}svg{width:100%;height:auto;max-width:40rem}blockquote{margin:.4rem 0;padding:.3rem .7rem;border-left:3px solid #999}")
            .Append("@media print{body{max-width:none}}</style></head><body>")
            .Append($"<h1>Customer feedback for {H(who)}</h1>")
            .Append($"<p>Period {H(report.StartDate)} to {H(report.EndDate)} (UTC) · ")
            .Append(report.Suppressed ? $"fewer than {report.MinGroupSize} responses, so no figure of this period is shown" : $"{report.Items} responses")
            .Append(report.PublishedAt is { } at ? $" · as of {at.ToDateTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC" : "")
            .Append($"</p><p class=muted>Under sharing agreement version {report.AgreementVersion}. No figure, group or comment stands for fewer than {report.MinGroupSize} customers; ")
            .Append("comments are redacted (no names, contact details or ids).</p>")
            .Append("<h2>Scores</h2><div class=cards>")
            .Append($"<div class=card><b>NPS</b><br>{Score(report.Nps)}<p>Net Promoter Score, from −100 to 100: the share of customers who would recommend (9–10 of 10) minus the share who would not (0–6).</p></div>")
            .Append($"<div class=card><b>CSAT</b><br>{Score(report.Csat, "%")}<p>Customer satisfaction: the share of customers who answered 4 or 5 of 5.</p></div>")
            .Append($"<div class=card><b>CES</b><br>{Score(report.Ces)}<p>Customer effort: how easy it was, 1 (very hard) to 7 (very easy), on average.</p></div>")
            .Append("</div>");
        sb.Append("<h2>Among peers</h2><p>")
            .Append(report.PeerBand.Length > 0
                ? $"Your NPS is in the <b>{H(report.PeerBand)}</b> of partners of your kind in the same period. Only this band is shown: no other partner's figures or names are ever shared, and yours are never shown to them."
                : "Not shown for this period: fewer than 3 other partners of your kind had enough responses to compare with.")
            .Append("</p>");

        AppendTrend(sb, report, H);

        if (report.Themes.Count > 0)
        {
            sb.Append("<h2>What customers talk about</h2><table><tr><th scope=col>theme</th><th scope=col>mentions</th><th scope=col>negative</th><th scope=col>mean sentiment (−1 to +1)</th></tr>");
            foreach (var t in report.Themes)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{H(t.ThemeKey)}</td><td>{t.Mentions}</td><td>{t.NegativePercent:0}%</td><td>{t.MeanSentiment:+0.00;-0.00}</td></tr>");
            }
            sb.Append("</table>");
        }
        foreach (var dimension in report.Breakdowns.Select(b => b.Dimension).Distinct())
        {
            sb.Append($"<h2>By {H(dimension)}</h2><table><tr><th scope=col>{H(dimension)}</th><th scope=col>responses</th><th scope=col>NPS</th></tr>");
            foreach (var b in report.Breakdowns.Where(b => b.Dimension == dimension))
            {
                sb.Append($"<tr><td>{(b.Parent.Length > 0 ? $"{H(b.Parent)} / " : "")}{H(b.Value)}</td><td>{(b.Suppressed ? "" : b.N)}</td>")
                    .Append($"<td>{(b.Nps.Suppressed ? $"<span class=muted>not shown (fewer than {report.MinGroupSize}, or would reveal a smaller group)</span>" : $"{F(b.Nps.Value)} <span class=muted>± {F(b.Nps.MarginOfError)}</span>")}</td></tr>");
            }
            sb.Append("</table>");
        }
        var samples = report.SampleVerbatims.Distinct(StringComparer.Ordinal).ToList();
        if (samples.Count > 0)
        {
            sb.Append("<h2>What customers said</h2>");
            foreach (var v in samples) sb.Append($"<blockquote>{H(v)}</blockquote>");
        }
        sb.Append("<h2>How to respond</h2><ul><li><b>Acknowledge</b> the report, so we know it reached the right people.</li>")
            .Append("<li><b>Dispute</b> an item you believe is not about your part of the experience, with your reason: the CX team reviews it and tells you the outcome.</li>")
            .Append("<li><b>Commit</b> to an improvement, with an owner and a due date, and post its progress.</li></ul>")
            .Append("<p class=muted>Respond in the supplier portal (My feedback), or with the API's SubmitResponse.</p>");

        sb.Append("<h2>Responses in this report</h2><table><tr><th scope=col>when</th><th scope=col>where</th><th scope=col>NPS</th><th scope=col>comment</th><th scope=col>item id</th></tr>");
        var any = false;
        await foreach (var item in ItemsAsync(report, ct))
        {
            any = true;
            var where = string.Join(" / ", new[] { item.ProductId, item.LotId, item.JourneyId, item.TouchpointKey }.Where(v => !string.IsNullOrEmpty(v)));
            sb.Append($"<tr><td>{item.GivenAt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td><td>{H(where)}</td>")
                .Append($"<td>{item.Nps}</td><td>{H(item.RedactedVerbatim)}</td><td class=muted>{item.FeedbackId.ToString()[..8]}</td></tr>");
            if (sb.Length >= ChunkSize)
            {
                yield return Encoding.UTF8.GetBytes(sb.ToString());
                sb.Clear();
            }
        }
        if (!any) sb.Append($"<tr><td colspan=5 class=muted>None shown: the period had fewer than {report.MinGroupSize} responses.</td></tr>");
        sb.Append("</table></body></html>");
        yield return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>
    /// NPS per period as bars on a labelled −100..100 axis with gridlines, each bar with its value; a period whose NPS was
    /// not shown is marked "no data".
    /// </summary>
    private static void AppendTrend(StringBuilder sb, Report report, Func<string?, string> h)
    {
        var points = report.Trend.Select(t => (t.StartDate, t.EndDate, t.Nps)).Append((report.StartDate, report.EndDate, report.Nps)).ToList();
        const int left = 44, top = 12, plotHeight = 160, width = 440;
        var slot = (width - left - 8) / points.Count;
        double Y(double v) => top + (100 - v) / 200 * plotHeight;
        sb.Append("<h2>NPS over time</h2>")
            .Append(CultureInfo.InvariantCulture, $"<svg viewBox=\"0 0 {width} {top + plotHeight + 44}\" role=img aria-label=\"NPS by period\" font-family=\"system-ui,sans-serif\">");
        foreach (var tick in (int[])[100, 50, 0, -50, -100])
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1={left} x2={width - 4} y1={Y(tick):0.#} y2={Y(tick):0.#} stroke=\"{(tick == 0 ? "#555" : "#ddd")}\" />")
                .Append(CultureInfo.InvariantCulture, $"<text x={left - 6} y={Y(tick) + 4:0.#} font-size=11 text-anchor=end fill=#333>{tick}</text>");
        }
        for (var i = 0; i < points.Count; i++)
        {
            var (start, end, nps) = points[i];
            var x = left + i * slot + slot * 0.2;
            var barWidth = slot * 0.6;
            var centre = x + barWidth / 2;
            if (nps is null || nps.Suppressed)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<text x={centre:0.#} y={Y(0) - 6:0.#} font-size=11 text-anchor=middle fill=#555>no data</text>");
            }
            else
            {
                var (y0, y1) = (Y(Math.Max(nps.Value, 0)), Y(Math.Min(nps.Value, 0)));
                var label = nps.Value >= 0 ? y0 - 4 : y1 + 13;
                sb.Append(CultureInfo.InvariantCulture, $"<rect x={x:0.#} y={y0:0.#} width={barWidth:0.#} height={Math.Max(y1 - y0, 1.5):0.#} fill=\"{(nps.Value >= 0 ? "#2e7d32" : "#c62828")}\"><title>NPS {nps.Value:0.0} (n = {nps.N})</title></rect>")
                    .Append(CultureInfo.InvariantCulture, $"<text x={centre:0.#} y={label:0.#} font-size=12 font-weight=600 text-anchor=middle>{nps.Value:0.0}</text>");
            }
            sb.Append(CultureInfo.InvariantCulture, $"<text x={centre:0.#} y={top + plotHeight + 18} font-size=10 text-anchor=middle>{h(start)}</text>")
                .Append(CultureInfo.InvariantCulture, $"<text x={centre:0.#} y={top + plotHeight + 31} font-size=10 text-anchor=middle fill=#555>to {h(end)}</text>");
        }
        sb.Append("</svg>");
    }

    /// <summary>
    /// The shown keys of a copy's stored themes (<c>[{"key":…,"sentiment":…},…]</c>), joined with ';'. Read forward
    /// only, without a document per item (a CSV of a million items parses a million of these).
    /// </summary>
    private static string? ThemeList(string? json, IReadOnlySet<string> shown)
    {
        if (json is null) return null;
        var keys = new List<string>(4);
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 2 && reader.ValueTextEquals("key"u8)
                && reader.Read() && reader.GetString() is { } key && shown.Contains(key))
            {
                keys.Add(key);
            }
        }
        return string.Join(";", keys);
    }
}
