using System.Text;
using System.Text.Json;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Data;

/// <summary>Filters of ListFeedback, already checked. Nulls are "any".</summary>
public sealed record FeedbackFilter(
    DateTime? ReceivedAfter, DateTime? ReceivedBefore, string? Channel, string? Audience, string? JourneyId, string? TouchpointKey,
    string? ProductId, string? LotId, string? QuestionId, int? MinRating, int? MaxRating, string? ThemeKey,
    Domain.Text.Polarity? Polarity, string? TextContains, bool? Duplicate = null);

/// <summary>Keyset position: the last item of the previous page, newest first.</summary>
public sealed record FeedbackCursor(DateTime ReceivedAt, Guid Id);

/// <summary>Analysts' and case-study queries over feedback items: filtered, newest first, keyset-paged.</summary>
public sealed class FeedbackQueries([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<(IReadOnlyList<FeedbackRow> Page, FeedbackCursor? Next)> ListAsync(FeedbackFilter f, FeedbackCursor? after, int pageSize, CancellationToken ct)
    {
        var where = new StringBuilder("true");
        var p = new DynamicParameters();
        void Add(string clause, string name, object? value)
        {
            if (value is null) return;
            where.Append(" and ").Append(clause);
            p.Add(name, value);
        }
        Add("i.received_at >= @after", "after", f.ReceivedAfter);
        Add("i.received_at < @before", "before", f.ReceivedBefore);
        Add("i.channel = @channel", "channel", f.Channel);
        Add("i.audience = @audience", "audience", f.Audience);
        Add("i.journey_id = @journeyId", "journeyId", f.JourneyId);
        Add("i.touchpoint_key = @touchpointKey", "touchpointKey", f.TouchpointKey);
        Add("i.product_id = @productId", "productId", f.ProductId);
        Add("i.lot_id = @lotId", "lotId", f.LotId);
        Add("i.themes @> jsonb_build_array(jsonb_build_object('key', @themeKey::text))", "themeKey", f.ThemeKey);
        Add("i.redacted_verbatim ilike '%' || @text || '%' escape '\\'", "text", f.TextContains?.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_"));
        if (f.Duplicate is { } duplicate) where.Append(duplicate ? " and i.duplicate_of is not null" : " and i.duplicate_of is null");
        // The same reading as SentimentScore.Polarity: mixed first, then the score against ±0.05.
        where.Append(f.Polarity switch
        {
            Domain.Text.Polarity.Mixed => " and i.sentiment_mixed",
            Domain.Text.Polarity.Negative => " and not i.sentiment_mixed and i.sentiment < -0.05",
            Domain.Text.Polarity.Neutral => " and not i.sentiment_mixed and i.sentiment between -0.05 and 0.05",
            Domain.Text.Polarity.Positive => " and not i.sentiment_mixed and i.sentiment > 0.05",
            _ => "",
        });
        if (f.QuestionId is not null)
        {
            where.Append(" and exists (select 1 from feedback_ratings r where r.feedback_id = i.id and r.question_id = @questionId");
            p.Add("questionId", f.QuestionId);
            if (f.MinRating is { } min)
            {
                where.Append(" and r.value >= @minRating");
                p.Add("minRating", min);
            }
            if (f.MaxRating is { } max)
            {
                where.Append(" and r.value <= @maxRating");
                p.Add("maxRating", max);
            }
            where.Append(')');
        }
        if (after is not null)
        {
            where.Append(" and (i.received_at, i.id) < (@cursorAt, @cursorId)");
            p.Add("cursorAt", after.ReceivedAt);
            p.Add("cursorId", after.Id);
        }
        p.Add("limit", pageSize + 1);

        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = (await connection.QueryAsync<ListRow>(new CommandDefinition(
            $"""
            select i.id, i.channel, i.journey_id as JourneyId, i.verbatim, i.given_at as GivenAt, i.received_at as ReceivedAt,
                   i.redacted_verbatim as RedactedVerbatim, i.language, i.sentiment, i.themes::text as Themes,
                   i.customer_id as CustomerId, i.audience, i.erased_at as ErasedAt,
                   i.touchpoint_key as TouchpointKey, i.product_id as ProductId, i.lot_id as LotId, i.store_id as StoreId,
                   i.segment::text as Segment, i.source_system as SourceSystem, i.survey_id as SurveyId, i.external_id as ExternalId,
                   i.duplicate_of as DuplicateOf, i.conversation::text as Conversation, i.sentiment_mixed as SentimentMixed, i.unit_key as UnitKey
            from feedback_items i
            where {where}
            order by i.received_at desc, i.id desc
            limit @limit
            """, p, cancellationToken: ct))).ToList();
        var page = rows.Take(pageSize).ToList();
        var ids = page.Select(r => r.Id).ToArray();
        var ratings = (await connection.QueryAsync<(Guid FeedbackId, string QuestionId, int Value)>(new CommandDefinition(
            "select feedback_id, question_id, value from feedback_ratings where feedback_id = any(@ids) order by question_id",
            new { ids }, cancellationToken: ct))).ToLookup(r => r.FeedbackId);
        var items = page.Select(r => new FeedbackRow(r.Id, r.Channel, r.JourneyId, r.Verbatim, r.GivenAt, r.ReceivedAt,
            r.RedactedVerbatim, r.Language, r.Sentiment, r.CustomerId, r.Audience, r.ErasedAt)
        {
            Ratings = ratings[r.Id].Select(x => new RatingRow(x.QuestionId, x.Value)).ToList(),
            Themes = JsonSerializer.Deserialize<List<StoredTheme>>(r.Themes, Json) ?? [],
            Links = new FeedbackLinks(r.TouchpointKey, r.ProductId, r.LotId, r.StoreId,
                JsonSerializer.Deserialize<Dictionary<string, string>>(r.Segment) ?? [], r.SourceSystem, r.SurveyId, r.ExternalId)
            {
                UnitKey = r.UnitKey,
            },
            DuplicateOf = r.DuplicateOf,
            Conversation = r.Conversation,
            SentimentMixed = r.SentimentMixed,
        }).ToList();
        var next = rows.Count > pageSize ? new FeedbackCursor(page[^1].ReceivedAt, page[^1].Id) : null;
        return (items, next);
    }

    private sealed record ListRow(Guid Id, string Channel, string? JourneyId, string? Verbatim, DateTime GivenAt, DateTime ReceivedAt,
        string? RedactedVerbatim, string? Language, double? Sentiment, string Themes, string? CustomerId, string Audience, DateTime? ErasedAt,
        string? TouchpointKey, string? ProductId, string? LotId, string? StoreId, string Segment, string? SourceSystem, string? SurveyId,
        string? ExternalId, Guid? DuplicateOf, string? Conversation, bool SentimentMixed, string? UnitKey);
}
