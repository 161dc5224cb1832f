using System.Text.Json;
using CxMesh.Events.V1;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CxMesh.Feedback.Data;

public sealed record RatingRow(string QuestionId, int Value);

/// <summary>A theme mention as stored (jsonb): key, sentiment score.</summary>
public sealed record StoredTheme(string Key, double Sentiment);

public sealed record FeedbackRow(
    Guid Id, string Channel, string? JourneyId, string? Verbatim, DateTime GivenAt, DateTime ReceivedAt,
    string? RedactedVerbatim, string? Language, double? Sentiment,
    string? CustomerId = null, string Audience = "customer", DateTime? ErasedAt = null)
{
    public SealedContact? Contact { get; init; }
    public FeedbackLinks Links { get; init; } = FeedbackLinks.None;
    public Guid? DuplicateOf { get; init; }
    public IReadOnlyList<RatingRow> Ratings { get; init; } = [];
    public IReadOnlyList<StoredTheme> Themes { get; init; } = [];
}

public sealed record NewFeedback(
    Guid Id, string Channel, string? JourneyId, string? Verbatim, DateTime GivenAt, IReadOnlyList<RatingRow> Ratings,
    string? RedactedVerbatim, string? Language, double? Sentiment, IReadOnlyList<StoredTheme> Themes,
    string? CustomerId, string Audience, SealedContact? Contact)
{
    public FeedbackLinks Links { get; init; } = FeedbackLinks.None;
    /// <summary>SHA-256 of the normalised verbatim; with a customer id, finds the same saying again.</summary>
    public string? TextHash { get; init; }
}

public sealed record Erasure(int Verbatims, int Contacts, string EventId);

/// <summary>What an item is about and where it came from.</summary>
public sealed record FeedbackLinks(
    string? TouchpointKey, string? ProductId, string? LotId, string? StoreId, IReadOnlyDictionary<string, string> Segment,
    string? SourceSystem, string? SurveyId, string? ExternalId)
{
    public static readonly FeedbackLinks None = new(null, null, null, null, new Dictionary<string, string>(), null, null, null);
}

public abstract record SubmitResult
{
    public sealed record Stored(FeedbackRow Item) : SubmitResult;
    public sealed record Replayed(FeedbackRow Item) : SubmitResult;
    public sealed record KeyReused : SubmitResult;
}

public sealed class FeedbackStore([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database, IOptions<FeedbackOptions> options)
{
    /// <summary>
    /// Stores the item and its feedback.received event in one transaction, unless the idempotency key
    /// was seen before: then the first item comes back and nothing is written.
    /// </summary>
    public async Task<SubmitResult> SubmitAsync(string idempotencyKey, byte[] requestHash, NewFeedback item,
        Func<FeedbackRow, FeedbackReceived> toEvent, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);

        // Concurrent calls with one key serialise on the primary key: the second waits, then sees the first.
        var claimed = await connection.ExecuteAsync(new CommandDefinition(
            "insert into idempotency_keys (key, request_hash, feedback_id) values (@idempotencyKey, @requestHash, @id) on conflict do nothing",
            new { idempotencyKey, requestHash, id = item.Id }, tx, cancellationToken: ct));
        if (claimed == 0)
        {
            var earlier = await connection.QuerySingleAsync<(byte[] RequestHash, Guid FeedbackId)>(new CommandDefinition(
                "select request_hash, feedback_id from idempotency_keys where key = @idempotencyKey",
                new { idempotencyKey }, tx, cancellationToken: ct));
            await tx.RollbackAsync(ct);
            if (!earlier.RequestHash.AsSpan().SequenceEqual(requestHash)) return new SubmitResult.KeyReused();
            var first = await GetAsync(earlier.FeedbackId, ct)
                ?? throw new InvalidOperationException($"Idempotency key {idempotencyKey} points at missing feedback {earlier.FeedbackId}.");
            return new SubmitResult.Replayed(first);
        }

        // The same customer saying the same thing within the window: linked to the first saying, counted once downstream.
        Guid? duplicateOf = null;
        if (item.CustomerId is not null && item.TextHash is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "select pg_advisory_xact_lock(hashtextextended(@key, 0))", new { key = $"{item.CustomerId}\u001f{item.TextHash}" }, tx, cancellationToken: ct));
            duplicateOf = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
                """
                select id from feedback_items
                where customer_id = @CustomerId and text_hash = @TextHash and duplicate_of is null
                  and given_at between @from and @to
                order by given_at, id limit 1
                """,
                new
                {
                    item.CustomerId,
                    item.TextHash,
                    from = item.GivenAt - options.Value.DuplicateWindow,
                    to = item.GivenAt + options.Value.DuplicateWindow,
                }, tx, cancellationToken: ct));
        }

        var receivedAt = await connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            """
            insert into feedback_items (id, channel, journey_id, verbatim, given_at, redacted_verbatim, language, sentiment, themes, customer_id, audience,
                touchpoint_key, product_id, lot_id, store_id, segment, source_system, survey_id, external_id, text_hash, duplicate_of)
            values (@Id, @Channel, @JourneyId, @Verbatim, @GivenAt, @RedactedVerbatim, @Language, @Sentiment, @themes::jsonb, @CustomerId, @Audience,
                @touchpointKey, @productId, @lotId, @storeId, @segment::jsonb, @sourceSystem, @surveyId, @externalId, @TextHash, @duplicateOf)
            on conflict (source_system, external_id) where external_id is not null do nothing
            returning received_at
            """,
            new
            {
                item.Id,
                item.Channel,
                item.JourneyId,
                item.Verbatim,
                item.GivenAt,
                item.RedactedVerbatim,
                item.Language,
                item.Sentiment,
                themes = JsonSerializer.Serialize(item.Themes, Json),
                item.CustomerId,
                item.Audience,
                touchpointKey = item.Links.TouchpointKey,
                productId = item.Links.ProductId,
                lotId = item.Links.LotId,
                storeId = item.Links.StoreId,
                segment = JsonSerializer.Serialize(item.Links.Segment),
                sourceSystem = item.Links.SourceSystem,
                surveyId = item.Links.SurveyId,
                externalId = item.Links.ExternalId,
                item.TextHash,
                duplicateOf,
            }, tx, cancellationToken: ct));
        if (receivedAt is null)
        {
            // The same item from the same source system was stored before (a re-import): that one stands.
            var existing = await connection.ExecuteScalarAsync<Guid>(new CommandDefinition(
                "select id from feedback_items where source_system = @system and external_id = @externalId",
                new { system = item.Links.SourceSystem, externalId = item.Links.ExternalId }, tx, cancellationToken: ct));
            await tx.RollbackAsync(ct);
            return new SubmitResult.Replayed(await GetAsync(existing, ct)
                ?? throw new InvalidOperationException($"Feedback {existing} vanished during a replay."));
        }
        if (item.Contact is { } contact)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                insert into contact_details (feedback_id, customer_id, key_id, nonce, ciphertext, tag)
                values (@Id, @CustomerId, @keyId, @nonce, @ciphertext, @tag)
                """,
                new { item.Id, item.CustomerId, keyId = contact.KeyId, nonce = contact.Nonce, ciphertext = contact.Ciphertext, tag = contact.Tag },
                tx, cancellationToken: ct));
        }
        await connection.ExecuteAsync(new CommandDefinition(
            "insert into feedback_ratings (feedback_id, question_id, value) select @id, unnest(@questions), unnest(@values)",
            new { id = item.Id, questions = item.Ratings.Select(r => r.QuestionId).ToArray(), values = item.Ratings.Select(r => r.Value).ToArray() },
            tx, cancellationToken: ct));

        var stored = new FeedbackRow(item.Id, item.Channel, item.JourneyId, item.Verbatim, item.GivenAt, receivedAt.Value,
            item.RedactedVerbatim, item.Language, item.Sentiment, item.CustomerId, item.Audience)
        {
            Ratings = item.Ratings,
            Themes = item.Themes,
            Contact = item.Contact,
            Links = item.Links,
            DuplicateOf = duplicateOf,
        };
        var evt = toEvent(stored);
        await Outbox.EnqueueAsync(connection, tx, Topics.FeedbackReceived, evt.EventId, evt, ct);
        await tx.CommitAsync(ct);
        return new SubmitResult.Stored(stored);
    }

    public async Task<FeedbackRow?> GetAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var found = await connection.QuerySingleOrDefaultAsync<ItemRow>(new CommandDefinition(
            """
            select i.id, i.channel, i.journey_id as JourneyId, i.verbatim, i.given_at as GivenAt, i.received_at as ReceivedAt,
                   i.redacted_verbatim as RedactedVerbatim, i.language, i.sentiment, i.themes::text as Themes,
                   i.customer_id as CustomerId, i.audience, i.erased_at as ErasedAt,
                   i.touchpoint_key as TouchpointKey, i.product_id as ProductId, i.lot_id as LotId, i.store_id as StoreId,
                   i.segment::text as Segment, i.source_system as SourceSystem, i.survey_id as SurveyId, i.external_id as ExternalId,
                   i.duplicate_of as DuplicateOf, c.key_id as KeyId, c.nonce, c.ciphertext, c.tag
            from feedback_items i left join contact_details c on c.feedback_id = i.id
            where i.id = @id
            """, new { id }, cancellationToken: ct));
        if (found is null) return null;
        var row = new FeedbackRow(found.Id, found.Channel, found.JourneyId, found.Verbatim, found.GivenAt, found.ReceivedAt,
            found.RedactedVerbatim, found.Language, found.Sentiment, found.CustomerId, found.Audience, found.ErasedAt)
        {
            Themes = JsonSerializer.Deserialize<List<StoredTheme>>(found.Themes, Json) ?? [],
            Contact = found.KeyId is null ? null : new SealedContact(found.KeyId, found.Nonce!, found.Ciphertext!, found.Tag!),
            Links = new FeedbackLinks(found.TouchpointKey, found.ProductId, found.LotId, found.StoreId,
                JsonSerializer.Deserialize<Dictionary<string, string>>(found.Segment) ?? [], found.SourceSystem, found.SurveyId, found.ExternalId),
            DuplicateOf = found.DuplicateOf,
        };
        var ratings = await connection.QueryAsync<RatingRow>(new CommandDefinition(
            "select question_id as QuestionId, value from feedback_ratings where feedback_id = @id order by question_id",
            new { id }, cancellationToken: ct));
        return row with { Ratings = ratings.ToList() };
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Deletes the customer's contact details and raw verbatims (ratings, redacted text and themes stay), records
    /// the erasure and publishes feedback.erased in one transaction. Safe to repeat.
    /// </summary>
    public async Task<Erasure> EraseCustomerAsync(string customerId, Func<string, FeedbackErased> toEvent, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var verbatims = await connection.ExecuteAsync(new CommandDefinition(
            "update feedback_items set verbatim = null, erased_at = now() where customer_id = @customerId and verbatim is not null",
            new { customerId }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            "update feedback_items set erased_at = coalesce(erased_at, now()) where customer_id = @customerId",
            new { customerId }, tx, cancellationToken: ct));
        var contacts = await connection.ExecuteAsync(new CommandDefinition(
            "delete from contact_details where customer_id = @customerId", new { customerId }, tx, cancellationToken: ct));
        var evt = toEvent(customerId);
        await connection.ExecuteAsync(new CommandDefinition(
            "insert into erasures (customer_id, verbatims, contacts, event_id) values (@customerId, @verbatims, @contacts, @eventId)",
            new { customerId, verbatims, contacts, eventId = evt.EventId }, tx, cancellationToken: ct));
        await Outbox.EnqueueAsync(connection, tx, Topics.FeedbackErased, evt.EventId, evt, ct);
        await tx.CommitAsync(ct);
        return new Erasure(verbatims, contacts, evt.EventId);
    }

    private sealed record ItemRow(Guid Id, string Channel, string? JourneyId, string? Verbatim, DateTime GivenAt, DateTime ReceivedAt,
        string? RedactedVerbatim, string? Language, double? Sentiment, string Themes, string? CustomerId, string Audience, DateTime? ErasedAt,
        string? TouchpointKey, string? ProductId, string? LotId, string? StoreId, string Segment, string? SourceSystem, string? SurveyId,
        string? ExternalId, Guid? DuplicateOf, string? KeyId, byte[]? Nonce, byte[]? Ciphertext, byte[]? Tag);
}
