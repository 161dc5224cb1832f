using CxMesh.Feedback.Domain;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Data;

/// <summary>A sentence of an item praising a unit: where it is in the raw words, and its redacted text.</summary>
public sealed record PraiseRow(Guid Id, Unit Unit, string Excerpt, int Start, int Length);

/// <summary>Praise as listed: the unit as registered now.</summary>
public sealed record StoredPraise(Guid Id, string UnitKey, string UnitName, string UnitKind, Guid FeedbackId, string Excerpt, string Audience, string? Language,
    DateTime GivenAt);

/// <summary>Praise of units, written with the items it is found in and deleted with the customer's words.</summary>
public sealed class PraiseStore([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database)
{
    /// <summary>The praise of newly stored items, in their write.</summary>
    public static async Task InsertAsync(WriteScope write, IReadOnlyList<NewFeedback> items, DateTime receivedAt, CancellationToken ct)
    {
        var rows = items.SelectMany(i => i.Praise.Select(p => (Item: i, Praise: p))).ToList();
        if (rows.Count == 0) return;
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into praise (id, feedback_id, unit_key, excerpt, excerpt_start, excerpt_length, audience, language, given_at, received_at)
            select r.*, @receivedAt from unnest(@ids, @feedbackIds, @units, @excerpts, @starts, @lengths, @audiences, @languages, @givenAts) as r
            """,
            new
            {
                ids = rows.Select(r => r.Praise.Id).ToArray(),
                feedbackIds = rows.Select(r => r.Item.Id).ToArray(),
                units = rows.Select(r => r.Praise.Unit.Key).ToArray(),
                excerpts = rows.Select(r => r.Praise.Excerpt).ToArray(),
                starts = rows.Select(r => r.Praise.Start).ToArray(),
                lengths = rows.Select(r => r.Praise.Length).ToArray(),
                audiences = rows.Select(r => r.Item.Audience).ToArray(),
                languages = rows.Select(r => r.Item.Language).ToArray(),
                givenAts = rows.Select(r => r.Item.GivenAt).ToArray(),
                receivedAt,
            }, write.Transaction, cancellationToken: ct));
    }

    /// <summary>Where each praise of these items sits in their raw words (for redacting its excerpt again).</summary>
    public async Task<IReadOnlyList<(Guid Id, Guid FeedbackId, int Start, int Length)>> OfItemsAsync(IReadOnlyCollection<Guid> feedbackIds, CancellationToken ct)
    {
        if (feedbackIds.Count == 0) return [];
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(Guid, Guid, int, int)>(new CommandDefinition(
            "select id, feedback_id, excerpt_start, excerpt_length from praise where feedback_id = any(@ids)",
            new { ids = feedbackIds.ToArray() }, cancellationToken: ct))).ToList();
    }

    public static Task UpdateExcerptsAsync(WriteScope write, IReadOnlyList<(Guid Id, string Excerpt)> changes, CancellationToken ct) =>
        changes.Count == 0 ? Task.CompletedTask : write.Connection.ExecuteAsync(new CommandDefinition(
            "update praise p set excerpt = c.excerpt from unnest(@ids, @excerpts) as c(id, excerpt) where p.id = c.id",
            new { ids = changes.Select(c => c.Id).ToArray(), excerpts = changes.Select(c => c.Excerpt).ToArray() }, write.Transaction, cancellationToken: ct));

    /// <summary>Newest first (given_at, then id), of any of <paramref name="unitKeys"/> (null: every unit), after the cursor.</summary>
    public async Task<List<StoredPraise>> ListAsync(IReadOnlyList<string>? unitKeys, DateTime? givenAfter, DateTime? givenBefore, (DateTime GivenAt, Guid Id)? cursor,
        int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<StoredPraise>(new CommandDefinition(
            """
            select p.id, p.unit_key as UnitKey, u.name as UnitName, u.kind as UnitKind, p.feedback_id as FeedbackId, p.excerpt, p.audience, p.language,
                   p.given_at as GivenAt
            from praise p join units u on u.key = p.unit_key
            where (@units::text[] is null or p.unit_key = any(@units))
              and (@givenAfter::timestamptz is null or p.given_at >= @givenAfter)
              and (@givenBefore::timestamptz is null or p.given_at < @givenBefore)
              and (@cursorAt::timestamptz is null or (p.given_at, p.id) < (@cursorAt, @cursorId))
            order by p.given_at desc, p.id desc
            limit @limit
            """,
            new
            {
                units = unitKeys?.ToArray(),
                givenAfter,
                givenBefore,
                cursorAt = cursor?.GivenAt,
                cursorId = cursor?.Id ?? Guid.Empty,
                limit,
            }, cancellationToken: ct))).ToList();
    }
}
