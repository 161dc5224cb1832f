using System.Runtime.CompilerServices;
using System.Text.Json;
using CxMesh.Partner.Domain;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Partner.Data;

/// <summary>A partner-scoped copy of a feedback item: only the agreed fields.</summary>
public sealed record PartnerItem(
    string PartnerId, Guid FeedbackId, Guid AgreementId, int AgreementVersion, DateTime GivenAt, string? JourneyId, string? TouchpointKey,
    string? ProductId, string? LotId, int? Nps, int? Csat, bool? CsatTop, int? Ces, double? Sentiment, string? ThemesJson, string? RedactedVerbatim,
    string? CustomerRef);

/// <summary>Aggregates of a partner's items in a period, as the report needs them (before k is applied).</summary>
public sealed record PeriodTotals(long Items, long Promoters, long Passives, long Detractors, long CsatN, long CsatTop, long CesN, double CesSum, double CesSquares);

public sealed record ThemeTotals(string ThemeKey, long Mentions, double MeanSentiment, long Negative);

public sealed record GroupTotals(string Dimension, string Value, string? Parent, long Items, long Promoters, long Passives, long Detractors);

/// <summary>Feedback for the period arrived while its report was built; building it again gives figures that match its items.</summary>
public sealed class ReportOutdatedException() : Exception("the period's items changed while the report was built.");

public sealed class StoredReport
{
    public Guid ReportId { get; set; }
    public string PartnerId { get; set; } = "";
    public string Content { get; set; } = "";
    public DateTime PublishedAt { get; set; }
    public DateOnly StartDate { get; set; }
    public DateOnly EndDate { get; set; }
}

/// <summary>One publication in the disclosure ledger: what was shown to whom, for which period, under which agreement.</summary>
public sealed record LedgerEntry(Guid ReportId, string PartnerId, Guid AgreementId, int AgreementVersion, DateOnly Start, DateOnly End, long Items,
    bool Disclosed, string[] Fields, string ContentJson, string ContentHash, DateTime PublishedAt, DateTime? ScheduledFor);

/// <summary>Partner-scoped copies, their aggregates for reports, the disclosure ledger and the partners' responses.</summary>
public sealed class ReportStore([FromKeyedServices(PartnerModule.Name)] ServiceDatabase database)
{
    /// <summary>For a feedback item: each partner mapped to one of its links whose active agreement covers that link.</summary>
    public static async Task<IReadOnlyList<AgreementRow>> CoveringAgreementsAsync(WriteScope write,
        IReadOnlyList<(string Kind, string Value)> links, CancellationToken ct)
    {
        if (links.Count == 0) return [];
        var rows = await write.Connection.QueryAsync<AgreementRow>(new CommandDefinition(
            """
            select distinct a.agreement_id as agreementid, a.version, a.partner_id as partnerid, a.scope::text as scope, a.fields,
                   a.min_group_size as mingroupsize, a.cadence, a.retention_days as retentiondays, a.state, a.created_at as createdat, a.decided_at as decidedat
            from unnest(@kinds, @values) as l(kind, value)
            join mappings m on m.kind = l.kind and m.value = l.value
            join partners p on p.id = m.partner_id and p.status = 'active'
            join agreements a on a.partner_id = m.partner_id and a.state = 'active' and (a.expires_on is null or a.expires_on >= current_date)
            where a.scope @> jsonb_build_array(jsonb_build_object('kind', l.kind, 'value', l.value))
            """,
            new { kinds = links.Select(l => l.Kind).ToArray(), values = links.Select(l => l.Value).ToArray() }, write.Transaction, cancellationToken: ct));
        return rows.DistinctBy(r => r.PartnerId).ToList();
    }

    public static Task CopyAsync(WriteScope write, PartnerItem item, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into partner_items (partner_id, feedback_id, agreement_id, agreement_version, given_at, journey_id, touchpoint_key, product_id, lot_id,
                nps, csat, csat_top, ces, sentiment, themes, redacted_verbatim, customer_ref)
            values (@PartnerId, @FeedbackId, @AgreementId, @AgreementVersion, @GivenAt, @JourneyId, @TouchpointKey, @ProductId, @LotId,
                @Nps, @Csat, @CsatTop, @Ces, @Sentiment, @ThemesJson::jsonb, @RedactedVerbatim, @CustomerRef)
            on conflict (partner_id, feedback_id) do nothing
            """, item, write.Transaction, cancellationToken: ct));

    /// <summary>
    /// A customer's partner copies lose their verbatims, and so do the published reports that disclosed them (their
    /// samples), so every format of a report says the same; the deletion is recorded. Returns the copies changed and
    /// the reports rewritten.
    /// </summary>
    public static async Task<(int Items, int Reports)> EraseAsync(WriteScope write, string customerRef, CancellationToken ct)
    {
        var erased = (await write.Connection.QueryAsync<(Guid FeedbackId, string? Verbatim)>(new CommandDefinition(
            """
            with e as (select partner_id, feedback_id, redacted_verbatim from partner_items where customer_ref = @customerRef for update)
            update partner_items i set redacted_verbatim = null, customer_ref = null, erased_at = now()
            from e where i.partner_id = e.partner_id and i.feedback_id = e.feedback_id
            returning e.feedback_id, e.redacted_verbatim
            """, new { customerRef }, write.Transaction, cancellationToken: ct))).ToList();
        var words = erased.Where(e => !string.IsNullOrEmpty(e.Verbatim)).Select(e => e.Verbatim!).Distinct().ToArray();
        var reports = words.Length == 0 ? 0 : await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            update reports r set content = jsonb_set(r.content, '{sampleVerbatims}',
                   (select coalesce(jsonb_agg(v order by n), '[]') from jsonb_array_elements(r.content->'sampleVerbatims') with ordinality as s(v, n)
                    where not (v #>> '{}' = any(@words))))
            where r.content->'sampleVerbatims' ?| @words
              and exists (select 1 from report_items ri where ri.report_id = r.report_id and ri.feedback_ids && @ids)
            """, new { words, ids = erased.Select(e => e.FeedbackId).ToArray() }, write.Transaction, cancellationToken: ct));
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "insert into partner_erasures (customer_ref, items) values (@customerRef, @items)", new { customerRef, items = erased.Count }, write.Transaction, cancellationToken: ct));
        return (erased.Count, reports);
    }

    /// <summary>
    /// An item's redacted words changed: every partner copy that holds words (shared, not erased) takes the new ones,
    /// and so do the samples of published reports that disclosed the item.
    /// </summary>
    public static async Task ReplaceRedactedAsync(WriteScope write, Guid feedbackId, string redacted, CancellationToken ct)
    {
        var old = (await write.Connection.QueryAsync<string>(new CommandDefinition(
            """
            with c as (select partner_id, redacted_verbatim from partner_items where feedback_id = @feedbackId and redacted_verbatim is not null for update)
            update partner_items i set redacted_verbatim = @redacted from c
            where i.partner_id = c.partner_id and i.feedback_id = @feedbackId
            returning c.redacted_verbatim
            """, new { feedbackId, redacted }, write.Transaction, cancellationToken: ct))).Distinct().Where(o => o != redacted).ToArray();
        if (old.Length == 0) return;
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            update reports r set content = jsonb_set(r.content, '{sampleVerbatims}',
                   (select coalesce(jsonb_agg(case when v #>> '{}' = any(@old) then to_jsonb(@redacted::text) else v end order by n), '[]')
                    from jsonb_array_elements(r.content->'sampleVerbatims') with ordinality as s(v, n)))
            where r.content->'sampleVerbatims' ?| @old
              and exists (select 1 from report_items ri where ri.report_id = r.report_id and @feedbackId = any(ri.feedback_ids))
            """, new { old, redacted, feedbackId }, write.Transaction, cancellationToken: ct));
    }

    /// <summary>
    /// A taxonomy change re-tagged the item: copies whose agreement shares themes get the new ones (a copy of an older
    /// version only). Reports published already stay as they were sent.
    /// </summary>
    public static Task ReplaceThemesAsync(WriteScope write, Guid feedbackId, long version, string themesJson, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            update partner_items set themes = @themesJson::jsonb, taxonomy_version = @version
            where feedback_id = @feedbackId and themes is not null and taxonomy_version < @version
            """, new { feedbackId, version, themesJson }, write.Transaction, cancellationToken: ct));

    /// <summary>Deletes the partner copies older than their agreement version's retention. Returns how many went.</summary>
    public async Task<int> PurgeExpiredAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            delete from partner_items i using agreements a
            where a.agreement_id = i.agreement_id and a.version = i.agreement_version
              and i.given_at < now() - make_interval(days => a.retention_days)
            """, cancellationToken: ct));
    }

    private const string Period = "partner_id = @partnerId and given_at >= @from and given_at < @to";

    private static object Args(string partnerId, DateOnly start, DateOnly end) => new
    {
        partnerId,
        from = start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
        to = end.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
        promoterFrom = NpsBands.PromoterFrom,
        detractorUpTo = NpsBands.DetractorUpTo,
    };

    public async Task<PeriodTotals> TotalsAsync(string partnerId, DateOnly start, DateOnly end, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleAsync<PeriodTotals>(new CommandDefinition(
            $"""
            select count(*) as items, count(*) filter (where nps >= @promoterFrom) as promoters,
                   count(*) filter (where nps > @detractorUpTo and nps < @promoterFrom) as passives, count(*) filter (where nps <= @detractorUpTo) as detractors, count(csat) as csatn, count(*) filter (where csat_top) as csattop,
                   count(ces) as cesn, coalesce(sum(ces), 0)::float8 as cessum, coalesce(sum(ces * ces), 0)::float8 as cessquares
            from partner_items where {Period}
            """, Args(partnerId, start, end), cancellationToken: ct));
    }

    public async Task<IReadOnlyList<ThemeTotals>> ThemesAsync(string partnerId, DateOnly start, DateOnly end, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ThemeTotals>(new CommandDefinition(
            $"""
            select t->>'key' as themekey, count(*) as mentions, avg((t->>'sentiment')::float8) as meansentiment,
                   count(*) filter (where (t->>'sentiment')::float8 < -0.05) as negative
            from partner_items, jsonb_array_elements(coalesce(themes, '[]')) as t
            where {Period}
            group by t->>'key' order by count(*) desc, t->>'key'
            """, Args(partnerId, start, end), cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// The period's groups of the dimensions asked for, in this order: each product, each lot within its product (Parent
    /// is the product, null for lots of items without one), each journey, each touchpoint.
    /// </summary>
    public async Task<IReadOnlyList<GroupTotals>> GroupsAsync(string partnerId, DateOnly start, DateOnly end, IReadOnlyCollection<string> dimensions, CancellationToken ct)
    {
        var parts = new List<string>();
        if (dimensions.Contains("product")) parts.Add($"select 1 as o, 'product' as dimension, product_id as value, null::text as parent, nps from partner_items where {Period} and product_id is not null");
        if (dimensions.Contains("lot")) parts.Add($"select 2 as o, 'lot' as dimension, lot_id as value, product_id as parent, nps from partner_items where {Period} and lot_id is not null");
        if (dimensions.Contains("journey")) parts.Add($"select 3 as o, 'journey' as dimension, journey_id as value, null::text as parent, nps from partner_items where {Period} and journey_id is not null");
        if (dimensions.Contains("touchpoint")) parts.Add($"select 4 as o, 'touchpoint' as dimension, touchpoint_key as value, null::text as parent, nps from partner_items where {Period} and touchpoint_key is not null");
        if (parts.Count == 0) return [];
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<GroupTotals>(new CommandDefinition(
            $"""
            select dimension, value, parent, count(*) as items, count(*) filter (where nps >= @promoterFrom) as promoters,
                   count(*) filter (where nps > @detractorUpTo and nps < @promoterFrom) as passives, count(*) filter (where nps <= @detractorUpTo) as detractors
            from ({string.Join(" union all ", parts)}) g
            group by o, dimension, value, parent order by o, parent nulls first, value
            """, Args(partnerId, start, end), cancellationToken: ct))).ToList();
    }

    /// <summary>Up to <paramref name="count"/> different verbatims, a stable pseudo-random sample of the period.</summary>
    public async Task<IReadOnlyList<string>> SampleAsync(string partnerId, DateOnly start, DateOnly end, int count, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<string>(new CommandDefinition(
            $"""
            select v from (select redacted_verbatim as v, min(md5(feedback_id::text)) as h from partner_items
                           where {Period} and redacted_verbatim is not null and btrim(redacted_verbatim) <> '' group by redacted_verbatim) s
            order by h limit @count
            """, new { partnerId, from = start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), to = end.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), count },
            cancellationToken: ct))).ToList();
    }

    /// <summary>NPS counts of every other active partner of a kind in the period (for the peer band; never shown).</summary>
    public async Task<IReadOnlyList<(long Promoters, long Passives, long Detractors)>> PeersAsync(string partnerId, string kind, DateOnly start, DateOnly end, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(long, long, long)>(new CommandDefinition(
            """
            select count(*) filter (where i.nps >= @promoterFrom), count(*) filter (where i.nps > @detractorUpTo and i.nps < @promoterFrom),
                   count(*) filter (where i.nps <= @detractorUpTo)
            from partner_items i join partners p on p.id = i.partner_id
            where p.kind = @kind and p.status = 'active' and i.partner_id <> @partnerId and i.given_at >= @from and i.given_at < @to and i.nps is not null
            group by i.partner_id
            """,
            new { partnerId, kind, from = start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), to = end.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), promoterFrom = NpsBands.PromoterFrom, detractorUpTo = NpsBands.DetractorUpTo },
            cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// The items a report disclosed (its ledger entry), with the agreed fields as they are now — an erased customer's
    /// words are gone, copies past retention are deleted — streamed in order of time (for CSV and HTML downloads).
    /// </summary>
    public async IAsyncEnumerable<PartnerItem> ItemsAsync(string partnerId, Guid reportId, [EnumeratorCancellation] CancellationToken ct, (DateTime GivenAt, Guid FeedbackId)? after = null)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            """
            select i.partner_id, i.feedback_id, i.agreement_id, i.agreement_version, i.given_at, i.journey_id, i.touchpoint_key, i.product_id, i.lot_id,
                   i.nps, i.csat, i.csat_top, i.ces, i.sentiment, i.themes::text, i.redacted_verbatim
            from report_items r cross join lateral unnest(r.feedback_ids) as l(feedback_id)
            join partner_items i on i.partner_id = @partnerId and i.feedback_id = l.feedback_id
            where r.report_id = @reportId and (@afterAt::timestamptz is null or (i.given_at, i.feedback_id) > (@afterAt, @afterId))
            order by i.given_at, i.feedback_id
            """, new { partnerId, reportId, afterAt = after?.GivenAt, afterId = after?.FeedbackId ?? Guid.Empty }, flags: CommandFlags.None, cancellationToken: ct));
        await using (reader)
        {
            T? Or<T>(int i, Func<int, T> get) where T : struct => reader.IsDBNull(i) ? null : get(i);
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            while (await reader.ReadAsync(ct))
            {
                yield return new PartnerItem(reader.GetString(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetInt32(3), reader.GetDateTime(4),
                    Text(5), Text(6), Text(7), Text(8), Or(9, reader.GetInt32), Or(10, reader.GetInt32), Or(11, reader.GetBoolean), Or(12, reader.GetInt32),
                    Or(13, reader.GetDouble), Text(14), Text(15), null);
            }
        }
    }

    /// <summary>The partner's reports of periods before <paramref name="before"/>, latest first.</summary>
    public async Task<IReadOnlyList<StoredReport>> EarlierReportsAsync(string partnerId, DateOnly before, int count, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<StoredReport>(new CommandDefinition(
            $"select {ReportColumns} from reports where partner_id = @partnerId and end_date < @before order by end_date desc limit @count",
            new { partnerId, before, count }, cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// Records the report in the disclosure ledger, in the write's transaction. A period that
    /// overlaps one of the partner's published reports is refused (figures of one day published twice would let their
    /// difference be read), and so is a report whose figures no longer match its period's items (feedback arrived
    /// while it was built: <see cref="ReportOutdatedException"/>, build it again).
    /// </summary>
    public static async Task RecordAsync(WriteScope write, LedgerEntry entry, CancellationToken ct)
    {
        var (reportId, partnerId, agreementId, agreementVersion, start, end, items, disclosed, fields, contentJson, contentHash, publishedAt, scheduledFor) = entry;
        // One publication at a time per partner, so two overlapping periods cannot both pass the check.
        await write.Connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('partner-report:' || @partnerId))", new { partnerId }, write.Transaction, cancellationToken: ct));
        if (scheduledFor is not null && await write.Connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select exists (select 1 from reports where partner_id = @partnerId and scheduled_for = @scheduledFor)", new { partnerId, scheduledFor }, write.Transaction, cancellationToken: ct)))
        {
            throw new AlreadyExistsException($"the report of {partnerId} for {scheduledFor:O} was published already.");
        }
        var overlapping = await write.Connection.QueryFirstOrDefaultAsync<(Guid ReportId, DateOnly Start, DateOnly End)?>(new CommandDefinition(
            "select report_id, start_date, end_date from reports where partner_id = @partnerId and start_date <= @end and end_date >= @start order by start_date limit 1",
            new { partnerId, start, end }, write.Transaction, cancellationToken: ct));
        if (overlapping is { } o)
        {
            throw new PreconditionFailedException("PERIOD_ALREADY_REPORTED",
                $"report {o.ReportId} already covers {o.Start:yyyy-MM-dd} to {o.End:yyyy-MM-dd}: a partner's reports never overlap, so no figure can be read off the difference of two.", "start_date", new Dictionary<string, string> { ["report_id"] = o.ReportId.ToString() });
        }
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into reports (report_id, partner_id, agreement_id, agreement_version, start_date, end_date, items, fields, content, content_hash, published_at, scheduled_for)
            values (@reportId, @partnerId, @agreementId, @agreementVersion, @start, @end, @shown, @fields, @contentJson::jsonb, @contentHash, @publishedAt, @scheduledFor)
            """, new { reportId, partnerId, agreementId, agreementVersion, start, end, shown = disclosed ? items : 0, fields, contentJson, contentHash, publishedAt, scheduledFor },
            write.Transaction, cancellationToken: ct));
        var listed = await write.Connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $$"""
            with period as (select coalesce(array_agg(feedback_id order by feedback_id), '{}') as ids from partner_items where {{Period}}),
                 listed as (insert into report_items (report_id, feedback_ids) select @reportId, case when @disclosed then ids else '{}' end from period)
            select cardinality(ids) from period
            """, new
            {
                reportId,
                disclosed,
                partnerId,
                from = start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
                to = end.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
            }, write.Transaction, commandTimeout: 300, cancellationToken: ct));
        if (listed != items) throw new ReportOutdatedException();
    }

    private const string ReportColumns = "report_id as reportid, partner_id as partnerid, content::text as content, published_at as publishedat, start_date as startdate, end_date as enddate";

    /// <summary>A report of this partner; null for another partner's report, which is indistinguishable from none.</summary>
    public async Task<StoredReport?> ReportAsync(string partnerId, Guid reportId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<StoredReport>(new CommandDefinition(
            $"select {ReportColumns} from reports where report_id = @reportId and partner_id = @partnerId", new { reportId, partnerId }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<StoredReport>> ReportsAsync(string partnerId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<StoredReport>(new CommandDefinition(
            $"select {ReportColumns} from reports where partner_id = @partnerId order by published_at desc limit 200", new { partnerId }, cancellationToken: ct))).ToList();
    }

    /// <summary>Whether a report disclosed an item (its ledger entry names it).</summary>
    public async Task<bool> ItemInReportAsync(Guid reportId, Guid feedbackId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from report_items where report_id = @reportId and @feedbackId = any(feedback_ids))",
            new { reportId, feedbackId }, cancellationToken: ct));
    }

    /// <summary>Stores a new response, or updates the status of one of this partner's commitments; false when there is no such commitment.</summary>
    public static async Task<bool> RespondAsync(WriteScope write, Guid responseId, string partnerId, Guid reportId, string kind, Guid? feedbackId, string? text, string? owner,
        DateOnly? dueDate, string? status, bool update, CancellationToken ct)
    {
        var changed = update
            ? await write.Connection.ExecuteAsync(new CommandDefinition(
                """
                update responses set status = @status, text = coalesce(@text, text), updated_at = now()
                where response_id = @responseId and partner_id = @partnerId and report_id = @reportId and kind = 'commitment'
                """, new { responseId, partnerId, reportId, status, text }, write.Transaction, cancellationToken: ct))
            : await write.Connection.ExecuteAsync(new CommandDefinition(
                """
                insert into responses (response_id, partner_id, report_id, kind, feedback_id, text, owner, due_date, status)
                values (@responseId, @partnerId, @reportId, @kind, @feedbackId, @text, @owner, @dueDate, @status)
                """, new { responseId, partnerId, reportId, kind, feedbackId, text, owner, dueDate, status }, write.Transaction, cancellationToken: ct));
        return changed > 0;
    }

    /// <summary>The redacted words of an item as the partner's copy holds them (null when not shared or erased).</summary>
    public async Task<string?> ItemVerbatimAsync(string partnerId, Guid feedbackId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select redacted_verbatim from partner_items where partner_id = @partnerId and feedback_id = @feedbackId", new { partnerId, feedbackId }, cancellationToken: ct));
    }

    private const string ResponseColumns =
        "response_id as responseid, partner_id as partnerid, report_id as reportid, kind, feedback_id as feedbackid, text, owner, due_date as duedate, " +
        "status, outcome, created_at as createdat, updated_at as updatedat";

    /// <summary>Responses, newest first, by any of partner, kind and status.</summary>
    /// <summary>Newest first; <paramref name="before"/>: the page starts below that response (the last of the previous page).</summary>
    public async Task<IReadOnlyList<ResponseRow>> ResponsesAsync(string? partnerId, string? kind, string? status, (DateTime At, Guid Id)? before, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ResponseRow>(new CommandDefinition(
            $"""
            select {ResponseColumns} from responses
            where (@partnerId::text is null or partner_id = @partnerId) and (@kind::text is null or kind = @kind) and (@status::text is null or status = @status)
              and (not @paged or (created_at, response_id) < (@at, @id))
            order by created_at desc, response_id desc limit @limit
            """, new { partnerId, kind, status, limit, paged = before is not null, at = before?.At ?? DateTime.UnixEpoch, id = before?.Id ?? Guid.Empty }, cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// Governance settled a dispute: its status and outcome are recorded and the partner is told by webhook (when it
    /// has one). False when the response is no dispute of that partner (nothing changes).
    /// </summary>
    public static async Task<bool> SettleDisputeAsync(WriteScope write, Guid responseId, string partnerId, string status, string outcome,
        CancellationToken ct)
    {
        var settled = await write.Connection.QuerySingleOrDefaultAsync<(Guid ReportId, string? Url)?>(new CommandDefinition(
            """
            update responses r set status = @status, outcome = @outcome, updated_at = now()
            from partners p
            where r.response_id = @responseId and r.partner_id = @partnerId and r.kind = 'dispute' and p.id = r.partner_id
            returning r.report_id, p.webhook_url
            """, new { responseId, partnerId, status, outcome }, write.Transaction, cancellationToken: ct));
        if (settled is not { } s) return false;
        if (s.Url is { } url)
        {
            // What and where to look; the outcome itself is read with ListMyResponses.
            var payload = JsonSerializer.Serialize(new
            {
                type = "response.updated",
                response_id = responseId.ToString(),
                partner_id = partnerId,
                status,
                links = new { json = "/v1/me/responses", grpc = "cxmesh.partner.v1.PartnerService/ListMyResponses" },
            });
            await WebhookStore.EnqueueAsync(write, Guid.CreateVersion7(), partnerId, s.ReportId, "response.updated", url, payload, ct);
        }
        return true;
    }
}

public sealed class ResponseRow
{
    public Guid ResponseId { get; init; }
    public string PartnerId { get; init; } = "";
    public Guid ReportId { get; init; }
    public string Kind { get; init; } = "";
    public Guid? FeedbackId { get; init; }
    public string? Text { get; init; }
    public string? Owner { get; init; }
    public DateOnly? DueDate { get; init; }
    public string? Status { get; init; }
    public string? Outcome { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
}
