using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Partner.Data;
using CxMesh.Partner.Domain;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using static CxMesh.Platform.Validation.Identifiers;

namespace CxMesh.Partner.UseCases;

/// <summary>
/// Keeps a partner-scoped copy of each feedback item that a partner's mapping and active agreement cover, holding only
/// the agreed fields (<see cref="SharingPolicy"/>): never contact details or customer ids (a hash of the customer id is
/// kept apart, only to honour erasures). The reports are built from these copies.
/// </summary>
public sealed class CopyForPartners
{
    public async Task CopyAsync(WriteScope write, FeedbackReceived evt, CancellationToken ct)
    {
        if (!Guid.TryParse(evt.FeedbackId, out var feedbackId)) throw new InvalidEventException("feedback_id is missing or not a UUID.");
        if (evt.GivenAt is null) throw new InvalidEventException("given_at is missing.");
        if (evt.DuplicateOf.Length > 0) return; // counted once: the first saying was shared already

        var links = new List<(string, string)>();
        if (evt.ProductId.Length > 0) links.Add(("product", evt.ProductId));
        if (evt.LotId.Length > 0) links.Add(("lot", evt.LotId));
        if (evt.Journey.Length > 0) links.Add(("journey", evt.Journey));
        if (evt.TouchpointKey.Length > 0) links.Add(("touchpoint", evt.TouchpointKey));
        var covering = await ReportStore.CoveringAgreementsAsync(write, links, ct);
        if (covering.Count == 0) return;
        var csat = evt.Ratings.FirstOrDefault(r => r.Metric is Metric.Csat);
        var item = new ItemToShare(
            evt.Ratings.FirstOrDefault(r => r.Metric is Metric.Nps)?.Value,
            csat?.Value,
            csat is not null && csat.TopBoxValues.Contains(csat.Value),
            evt.Ratings.FirstOrDefault(r => r.Metric is Metric.Ces)?.Value,
            evt.RedactedVerbatim.Length > 0,
            evt.SentimentScore,
            evt.Themes.Select(t => (t.ThemeKey, t.SentimentScore)).ToList(),
            NullIfEmpty(evt.RedactedVerbatim));
        foreach (var agreement in covering)
        {
            var shared = SharingPolicy.Share(agreement.Fields, item);
            await ReportStore.CopyAsync(write, new PartnerItem(
                agreement.PartnerId, feedbackId, agreement.AgreementId, agreement.Version, evt.GivenAt.ToDateTime(),
                NullIfEmpty(evt.Journey), NullIfEmpty(evt.TouchpointKey), NullIfEmpty(evt.ProductId), NullIfEmpty(evt.LotId),
                shared.Nps, shared.Csat, shared.CsatTopBox, shared.Ces, shared.Sentiment,
                shared.Themes is null ? null : JsonSerializer.Serialize(shared.Themes.Select(t => new { key = t.Key, sentiment = t.Sentiment })),
                shared.RedactedVerbatim,
                evt.CustomerId.Length > 0 ? CustomerRef(evt.CustomerId) : null), ct);
        }
    }

    public static string CustomerRef(string customerId) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("cxmesh-partner:" + customerId)));

}
