using System.Runtime.CompilerServices;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CxMesh.Partner.Data;

/// <summary>A partner-scoped copy of a feedback item: only the agreed fields.</summary>
public sealed record PartnerItem(
    string PartnerId, Guid FeedbackId, Guid AgreementId, int AgreementVersion, DateTime GivenAt, string? JourneyId, string? TouchpointKey,
    string? ProductId, string? LotId, int? Nps, int? Csat, bool? CsatTop, int? Ces, double? Sentiment, string? ThemesJson, string? RedactedVerbatim,
    string? CustomerRef);

/// <summary>Aggregates of a partner's items in a period, as the report needs them (before k is applied).</summary>
public sealed record PeriodTotals(long Items, long Promoters, long Passives, long Detractors, long CsatN, long CsatTop, long CesN, double CesSum, double CesSquares);

public sealed record ThemeTotals(string ThemeKey, long Mentions, double MeanSentiment, long Negative);

public sealed record GroupTotals(string Dimension, string Value, long Items, long Promoters, long Passives, long Detractors);

public sealed class StoredReport
{
    public Guid ReportId { get; set; }
    public string PartnerId { get; set; } = "";
    public string Content { get; set; } = "";
    public DateTime PublishedAt { get; set; }
    public DateOnly StartDate { get; set; }
    public DateOnly EndDate { get; set; }
}

/// <summary>Partner-scoped copies, their aggregates for reports, the disclosure ledger and the partners' responses.</summary>
public sealed class ReportStore([FromKeyedServices(PartnerModule.Name)] ServiceDatabase database)
{
    /// <summary>For a feedback item: each partner mapped to one of its links whose active agreement covers that link.</summary>
    public static async Task<IReadOnlyList<AgreementRow>> CoveringAgreementsAsync(NpgsqlConnection connection, NpgsqlTransaction tx,
        IReadOnlyList<(string Kind, string Value)> links, CancellationToken ct)
    {
        if (links.Count == 0) return [];
        var rows = await connection.QueryAsync<AgreementRow>(new CommandDefinition(
            """
            select distinct a.agreement_id as agreementid, a.version, a.partner_id as partnerid, a.scope::text as scope, a.fields,
                   a.min_group_size as mingroupsize, a.cadence, a.retention_days as retentiondays, a.state, a.created_at as createdat, a.decided_at as decidedat
            from unnest(@kinds, @values) as l(kind, value)
            join mappings m on m.kind = l.kind and m.value = l.value
            join partners p on p.id = m.partner_id and p.status = 'active'
            join agreements a on a.partner_id = m.partner_id and a.state = 'active' and (a.expires_on is null or a.expires_on >= current_date)
            where a.scope @> jsonb_build_array(jsonb_build_object('kind', l.kind, 'value', l.value))
            """,
            new { kinds = links.Select(l => l.Kind).ToArray(), values = links.Select(l => l.Value).ToArray() }, tx, cancellationToken: ct));
        return rows.DistinctBy(r => r.PartnerId).ToList();
    }

    public static Task CopyAsync(NpgsqlConnection connection, NpgsqlTransaction tx, PartnerItem item, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(
            """
            insert into partner_items (partner_id, feedback_id, agreement_id, agreement_version, given_at, journey_id, touchpoint_key, product_id, lot_id,
                nps, csat, csat_top, ces, sentiment, themes, redacted_verbatim, customer_ref)
            values (@PartnerId, @FeedbackId, @AgreementId, @AgreementVersion, @GivenAt, @JourneyId, @TouchpointKey, @ProductId, @LotId,
                @Nps, @Csat, @CsatTop, @Ces, @Sentiment, @ThemesJson::jsonb, @RedactedVerbatim, @CustomerRef)
            on conflict (partner_id, feedback_id) do nothing
            """, item, tx, cancellationToken: ct));

    /// <summary>A customer's partner copies lose their verbatims; the deletion is recorded.</summary>
    public static async Task<int> EraseAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string customerRef, CancellationToken ct)
    {
        var items = await connection.ExecuteAsync(new CommandDefinition(
            "update partner_items set redacted_verbatim = null, customer_ref = null, erased_at = now() where customer_ref = @customerRef",
            new { customerRef }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            "insert into partner_erasures (customer_ref, items) values (@customerRef, @items)", new { customerRef, items }, tx, cancellationToken: ct));
        return items;
    }

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
    };

    public async Task<PeriodTotals> TotalsAsync(string partnerId, DateOnly start, DateOnly end, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleAsync<PeriodTotals>(new CommandDefinition(
            $"""
            select count(*) as items, count(*) filter (where nps >= 9) as promoters, count(*) filter (where nps between 7 and 8) as passives,
                   count(*) filter (where nps <= 6) as detractors, count(csat) as csatn, count(*) filter (where csat_top) as csattop,
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

    public async Task<IReadOnlyList<GroupTotals>> GroupsAsync(string partnerId, DateOnly start, DateOnly end, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<GroupTotals>(new CommandDefinition(
            $"""
            select dimension, value, count(*) as items, count(*) filter (where nps >= 9) as promoters,
                   count(*) filter (where nps between 7 and 8) as passives, count(*) filter (where nps <= 6) as detractors
            from (select 'product' as dimension, product_id as value, nps from partner_items where {Period} and product_id is not null
                  union all
                  select 'lot', lot_id, nps from partner_items where {Period} and lot_id is not null) g
            group by dimension, value order by dimension, value
            """, Args(partnerId, start, end), cancellationToken: ct))).ToList();
    }

    /// <summary>Up to <paramref name="count"/> verbatims, a stable pseudo-random sample of the period.</summary>
    public async Task<IReadOnlyList<string>> SampleAsync(string partnerId, DateOnly start, DateOnly end, int count, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<string>(new CommandDefinition(
            $"""
            select redacted_verbatim from partner_items where {Period} and redacted_verbatim is not null and redacted_verbatim <> ''
            order by md5(feedback_id::text) limit @count
            """, new { partnerId, from = start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), to = end.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), count },
            cancellationToken: ct))).ToList();
    }

    /// <summary>NPS counts of every other active partner of a kind in the period (for the peer band; never shown).</summary>
    public async Task<IReadOnlyList<(long Promoters, long Passives, long Detractors)>> PeersAsync(string partnerId, string kind, DateOnly start, DateOnly end, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(long, long, long)>(new CommandDefinition(
            """
            select count(*) filter (where i.nps >= 9), count(*) filter (where i.nps between 7 and 8), count(*) filter (where i.nps <= 6)
            from partner_items i join partners p on p.id = i.partner_id
            where p.kind = @kind and p.status = 'active' and i.partner_id <> @partnerId and i.given_at >= @from and i.given_at < @to and i.nps is not null
            group by i.partner_id
            """,
            new { partnerId, kind, from = start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), to = end.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) },
            cancellationToken: ct))).ToList();
    }

    /// <summary>The period's items with the agreed fields, streamed in order of time (for CSV and HTML downloads).</summary>
    public async IAsyncEnumerable<PartnerItem> ItemsAsync(string partnerId, DateOnly start, DateOnly end, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            $"""
            select partner_id, feedback_id, agreement_id, agreement_version, given_at, journey_id, touchpoint_key, product_id, lot_id,
                   nps, csat, csat_top, ces, sentiment, themes::text, redacted_verbatim
            from partner_items where {Period} order by given_at, feedback_id
            """, Args(partnerId, start, end), flags: CommandFlags.None, cancellationToken: ct));
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

    /// <summary>Records the report in the disclosure ledger and its event in the outbox, in one transaction.</summary>
    public async Task RecordAsync(Guid reportId, string partnerId, Guid agreementId, int agreementVersion, DateOnly start, DateOnly end, long items,
        string[] fields, string contentJson, string contentHash, DateTime publishedAt, DateTime? scheduledFor, Func<NpgsqlConnection, NpgsqlTransaction, Task> enqueue,
        CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var recorded = await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into reports (report_id, partner_id, agreement_id, agreement_version, start_date, end_date, items, fields, content, content_hash, published_at, scheduled_for)
            values (@reportId, @partnerId, @agreementId, @agreementVersion, @start, @end, @items, @fields, @contentJson::jsonb, @contentHash, @publishedAt, @scheduledFor)
            on conflict (partner_id, scheduled_for) where scheduled_for is not null do nothing
            """, new { reportId, partnerId, agreementId, agreementVersion, start, end, items, fields, contentJson, contentHash, publishedAt, scheduledFor }, tx, cancellationToken: ct));
        if (recorded == 0) throw new AlreadyExistsException($"the report of {partnerId} for {scheduledFor:O} was published already.");
        await connection.ExecuteAsync(new CommandDefinition(
            $"insert into report_items (report_id, feedback_ids) select @reportId, coalesce(array_agg(feedback_id order by feedback_id), '{{}}') from partner_items where {Period}",
            new
            {
                reportId,
                partnerId,
                from = start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
                to = end.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
            }, tx, commandTimeout: 300, cancellationToken: ct));
        await enqueue(connection, tx);
        await tx.CommitAsync(ct);
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

    public async Task<bool> ItemInReportAsync(string partnerId, Guid feedbackId, DateOnly start, DateOnly end, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            $"select exists (select 1 from partner_items where {Period} and feedback_id = @feedbackId)",
            new { partnerId, feedbackId, from = start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), to = end.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) },
            cancellationToken: ct));
    }

    /// <summary>Stores a new response, or updates the status of one of this partner's commitments; with its event.</summary>
    public async Task<bool> RespondAsync(Guid responseId, string partnerId, Guid reportId, string kind, Guid? feedbackId, string? text, string? owner,
        DateOnly? dueDate, string? status, bool update, Func<NpgsqlConnection, NpgsqlTransaction, Task> enqueue, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var changed = update
            ? await connection.ExecuteAsync(new CommandDefinition(
                """
                update responses set status = @status, text = coalesce(@text, text), updated_at = now()
                where response_id = @responseId and partner_id = @partnerId and report_id = @reportId and kind = 'commitment'
                """, new { responseId, partnerId, reportId, status, text }, tx, cancellationToken: ct))
            : await connection.ExecuteAsync(new CommandDefinition(
                """
                insert into responses (response_id, partner_id, report_id, kind, feedback_id, text, owner, due_date, status)
                values (@responseId, @partnerId, @reportId, @kind, @feedbackId, @text, @owner, @dueDate, @status)
                """, new { responseId, partnerId, reportId, kind, feedbackId, text, owner, dueDate, status }, tx, cancellationToken: ct));
        if (changed == 0) return false;
        await enqueue(connection, tx);
        await tx.CommitAsync(ct);
        return true;
    }
}
