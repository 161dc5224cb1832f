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
            var groups = await store.GroupsAsync(partner.Id, start, end, ct);
            var products = groups.Select((g, i) => (g, i)).Where(x => x.g.Dimension == "product").ToDictionary(x => x.g.Value, x => x.i);
            var suppressed = Disclosure.Suppress(totals.Items, groups.Select(g => new DisclosureGroup(g.Dimension, g.Value,
                g.Dimension == "lot" && g.Parent is { } product ? products[product] : -1, g.Items)).ToList(), k);
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
    /// The report's items as a partner may see them: none under k; each with its deepest shown group only (a product or
    /// lot whose breakdown is suppressed is left blank, so rows never regroup what the figures hide) and only the themes
    /// the report shows.
    /// </summary>
    private async IAsyncEnumerable<PartnerItem> Items(Report report, [EnumeratorCancellation] CancellationToken ct)
    {
        if (report.Suppressed || report.Items < report.MinGroupSize) yield break;
        var shownProducts = report.Breakdowns.Where(b => b.Dimension == "product" && !b.Suppressed).Select(b => b.Value).ToHashSet(StringComparer.Ordinal);
        var shownLots = report.Breakdowns.Where(b => b.Dimension == "lot" && !b.Suppressed).Select(b => (b.Parent, b.Value)).ToHashSet();
        var shownThemes = report.Themes.Select(t => t.ThemeKey).ToHashSet(StringComparer.Ordinal);
        await foreach (var item in store.ItemsAsync(report.PartnerId, Guid.Parse(report.ReportId), ct))
        {
            var product = item.ProductId is { } p && shownProducts.Contains(p) ? p : null;
            var lot = item.LotId is { } l && shownLots.Contains((item.ProductId ?? "", l)) ? l : null;
            yield return item with { ProductId = product, LotId = lot, ThemesJson = ThemeList(item.ThemesJson, shownThemes) };
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
        await foreach (var item in Items(report, ct))
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

    /// <summary>A page that reads well on a phone: the scores, an SVG trend, themes, breakdowns, samples, then the items.</summary>
    public async IAsyncEnumerable<byte[]> HtmlAsync(Report report, [EnumeratorCancellation] CancellationToken ct)
    {
        string H(string? s) => WebUtility.HtmlEncode(s ?? "");
        string Score(ReportScore s, string unit = "") => s.Suppressed ? $"<span class=muted>fewer than {report.MinGroupSize} responses</span>"
            : $"{s.Value.ToString("0.0", CultureInfo.InvariantCulture)}{unit} <span class=muted>± {s.MarginOfError.ToString("0.0", CultureInfo.InvariantCulture)} (n={s.N})</span>";
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">")
            .Append($"<title>Customer feedback report {H(report.StartDate)} to {H(report.EndDate)}</title>")
            .Append("<style>body{font:16px/1.45 system-ui,sans-serif;margin:0 auto;max-width:46rem;padding:1rem;color:#1b1b1b}")
            .Append("table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}")
            .Append(".muted{color:#666;font-size:.85em}.cards{display:flex;flex-wrap:wrap;gap:.5rem}.card{flex:1 1 12rem;border:1px solid #ddd;border-radius:.5rem;padding:.6rem}")
            .Append("svg{width:100%;height:auto}</style></head><body>")
            .Append($"<h1>Customer feedback for {H(report.PartnerId)}</h1><p class=muted>{H(report.StartDate)} to {H(report.EndDate)} · {(report.Suppressed ? $"fewer than {report.MinGroupSize} items" : $"{report.Items} items")} · ")
            .Append($"agreement {H(report.AgreementId)} v{report.AgreementVersion} · groups under {report.MinGroupSize} responses are not shown</p>")
            .Append("<div class=cards>")
            .Append($"<div class=card><b>NPS</b><br>{Score(report.Nps)}</div><div class=card><b>CSAT</b><br>{Score(report.Csat, "%")}</div>")
            .Append($"<div class=card><b>CES</b><br>{Score(report.Ces)}</div>")
            .Append(report.PeerBand.Length > 0 ? $"<div class=card><b>Among peers</b><br>{H(report.PeerBand)}</div>" : "")
            .Append("</div>");

        // Trend: NPS of the previous periods and this one, as bars on a -100..100 axis.
        var points = report.Trend.Select(t => (Label: t.StartDate, t.Nps)).Append((Label: report.StartDate, report.Nps)).ToList();
        sb.Append("<h2>Trend</h2><svg viewBox=\"0 0 400 140\" role=img aria-label=\"NPS by period\"><line x1=0 y1=70 x2=400 y2=70 stroke=#999 />");
        for (var i = 0; i < points.Count; i++)
        {
            var x = 20 + i * (360 / points.Count);
            var (label, nps) = points[i];
            if (!nps.Suppressed)
            {
                var h = Math.Abs(nps.Value) * 0.6;
                var y = nps.Value >= 0 ? 70 - h : 70;
                sb.Append(CultureInfo.InvariantCulture, $"<rect x={x} y={y:0.0} width=50 height={Math.Max(h, 1):0.0} fill=\"{(nps.Value >= 0 ? "#2e7d32" : "#c62828")}\"><title>{nps.Value:0.0}</title></rect>");
            }
            sb.Append(CultureInfo.InvariantCulture, $"<text x={x} y=136 font-size=10>{H(label)}</text>");
        }
        sb.Append("</svg>");

        if (report.Themes.Count > 0)
        {
            sb.Append("<h2>Themes</h2><table><tr><th>theme</th><th>mentions</th><th>negative</th><th>mean sentiment</th></tr>");
            foreach (var t in report.Themes)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{H(t.ThemeKey)}</td><td>{t.Mentions}</td><td>{t.NegativePercent:0}%</td><td>{t.MeanSentiment:+0.00;-0.00}</td></tr>");
            }
            sb.Append("</table>");
        }
        if (report.Breakdowns.Count > 0)
        {
            sb.Append("<h2>By product and lot</h2><table><tr><th></th><th>value</th><th>n</th><th>NPS</th></tr>");
            foreach (var b in report.Breakdowns)
            {
                sb.Append($"<tr><td>{H(b.Dimension)}</td><td>{(b.Parent.Length > 0 ? $"{H(b.Parent)} / " : "")}{H(b.Value)}</td><td>{(b.Suppressed ? "" : b.N)}</td><td>{Score(b.Nps)}</td></tr>");
            }
            sb.Append("</table>");
        }
        if (report.SampleVerbatims.Count > 0)
        {
            sb.Append("<h2>What customers said</h2><ul>");
            foreach (var v in report.SampleVerbatims) sb.Append($"<li>{H(v)}</li>");
            sb.Append("</ul>");
        }
        sb.Append("<h2>Items</h2><table><tr><th>when</th><th>product / lot</th><th>NPS</th><th>said</th></tr>");
        await foreach (var item in Items(report, ct))
        {
            sb.Append($"<tr><td>{item.GivenAt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td><td>{H(item.ProductId)}<br><span class=muted>{H(item.LotId)}</span></td>")
                .Append($"<td>{item.Nps}</td><td>{H(item.RedactedVerbatim)}</td></tr>");
            if (sb.Length >= ChunkSize)
            {
                yield return Encoding.UTF8.GetBytes(sb.ToString());
                sb.Clear();
            }
        }
        sb.Append("</table></body></html>");
        yield return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static string? ThemeList(string? json, IReadOnlySet<string> shown) =>
        json is null ? null : string.Join(";", JsonSerializer.Deserialize<List<JsonElement>>(json)!.Select(t => t.GetProperty("key").GetString()!).Where(shown.Contains));
}
