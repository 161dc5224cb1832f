using System.Text.Json;
using CxMesh.Events.V1;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

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
    /// <summary>A conversation's redacted turns (JSON), or null.</summary>
    public string? Conversation { get; init; }
    /// <summary>The taxonomy version the themes were matched against.</summary>
    public long TaxonomyVersion { get; init; }
    /// <summary>The verbatim holds clearly positive and clearly negative clauses side by side (polarity MIXED).</summary>
    public bool SentimentMixed { get; init; }
    /// <summary>Sentences of its words that praise a unit by name (only on the row just stored).</summary>
    public IReadOnlyList<PraiseRow> Praise { get; init; } = [];
}

public sealed record NewFeedback(
    Guid Id, string Channel, string? JourneyId, string? Verbatim, DateTime GivenAt, IReadOnlyList<RatingRow> Ratings,
    string? RedactedVerbatim, string? Language, double? Sentiment, IReadOnlyList<StoredTheme> Themes,
    string? CustomerId, string Audience, SealedContact? Contact)
{
    public FeedbackLinks Links { get; init; } = FeedbackLinks.None;
    /// <summary>SHA-256 of the normalised verbatim; with a customer id, finds the same saying again.</summary>
    public string? TextHash { get; init; }
    /// <summary>A conversation's redacted turns (JSON), or null.</summary>
    public string? Conversation { get; init; }
    /// <summary>The taxonomy version the themes were matched against.</summary>
    public long TaxonomyVersion { get; init; }
    /// <summary>The verbatim holds clearly positive and clearly negative clauses side by side (polarity MIXED).</summary>
    public bool SentimentMixed { get; init; }
    /// <summary>Sentences of its words that praise a unit by name (only on the row just stored).</summary>
    public IReadOnlyList<PraiseRow> Praise { get; init; } = [];
}

public sealed record Erasure(int Verbatims, int Contacts, int Items, string EventId);

public sealed record ServiceErasureRow(string Service, IReadOnlyDictionary<string, long> Removed, DateTime AppliedAt);

public sealed record ErasureReceiptRow(string ErasureId, DateTime ErasedAt, IReadOnlyList<ServiceErasureRow> Services);

/// <summary>What an item is about and where it came from.</summary>
public sealed record FeedbackLinks(
    string? TouchpointKey, string? ProductId, string? LotId, string? StoreId, IReadOnlyDictionary<string, string> Segment,
    string? SourceSystem, string? SurveyId, string? ExternalId)
{
    /// <summary>The registered unit (store, team, agent) the item concerns.</summary>
    public string? UnitKey { get; init; }

    public static readonly FeedbackLinks None = new(null, null, null, null, new Dictionary<string, string>(), null, null, null);
}

public enum StoreOutcome
{
    Stored,
    Replayed,
    KeyReused,
}

/// <summary>An item to store with the idempotency key and request fingerprint it came with.</summary>
public sealed record ItemToStore(string IdempotencyKey, byte[] RequestHash, NewFeedback Item);

/// <summary>What became of one item: stored (Row is what was written), replayed (Id is the first item) or refused.</summary>
public sealed record StoreResult(Guid Id, StoreOutcome Outcome, FeedbackRow? Row = null);

public sealed class FeedbackStore([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database, IOptions<FeedbackOptions> options)
{
    /// <summary>
    /// Stores a batch of checked items, their contact details and ratings in the write, with set-based statements. An
    /// item whose idempotency key was seen before (in an earlier call or earlier in this batch) is a replay of the first
    /// when the request is the same, refused otherwise; an item whose (source system, external id) is stored already is
    /// a replay of that one (a re-import). Items are taken in order, so the first saying of a duplicate voice in a batch
    /// is the original. Null when a concurrent import of the same external ids won the race between the check and the
    /// insert: the write is spoilt, and the caller runs it again in a new one (whose check sees the winner's rows).
    /// </summary>
    public async Task<IReadOnlyList<StoreResult>?> TryStoreManyAsync(WriteScope write, IReadOnlyList<ItemToStore> items, CancellationToken ct)
    {
        var results = new StoreResult?[items.Count];
        // 1. Idempotency keys. Concurrent calls with one key serialise on the primary key: the second waits, then sees the first.
        var keys = await ClaimKeysAsync(write, items, ct);
        // 2. Re-imports: (source system, external id) stored before, or earlier in this batch.
        var toInsert = await SkipReimportsAsync(write, items, keys.Claimants, results, ct);
        var rows = toInsert.Select(n => items[n].Item).ToList();
        // 3. Duplicate voices: the same customer, the same normalised text, within the window, in any channel.
        var duplicateOf = await FindOriginalsAsync(write, rows, ct);
        // 4. The items, their ratings and contact details. The external ids were checked above; one stored by a
        // concurrent import since then violates the unique index, and the whole batch goes round again.
        var receivedAt = ToMicroseconds(write.Now.UtcDateTime);
        if (!await InsertAsync(write, rows, receivedAt, duplicateOf, ct)) return null;
        foreach (var n in toInsert)
        {
            var item = items[n].Item;
            var stored = new FeedbackRow(item.Id, item.Channel, item.JourneyId, item.Verbatim, item.GivenAt, receivedAt,
                item.RedactedVerbatim, item.Language, item.Sentiment, item.CustomerId, item.Audience)
            {
                Ratings = item.Ratings,
                Themes = item.Themes,
                Contact = item.Contact,
                Links = item.Links,
                DuplicateOf = duplicateOf.TryGetValue(item.Id, out var d) ? d : null,
                Conversation = item.Conversation,
                TaxonomyVersion = item.TaxonomyVersion,
                SentimentMixed = item.SentimentMixed,
                Praise = item.Praise,
            };
            results[n] = new StoreResult(item.Id, StoreOutcome.Stored, stored);
        }
        // 5. Keys seen before: a replay of what they stand for when the request is the same, refused otherwise.
        AnswerRepeatedKeys(items, keys, results);
        return results!;
    }

    private sealed record ClaimedKeys(Dictionary<string, int> Claimants, Dictionary<string, (byte[] Hash, Guid Id)> Earlier);

    /// <summary>Claims each new key for its first item in the batch; keys stored before are returned with what they stand for.</summary>
    private static async Task<ClaimedKeys> ClaimKeysAsync(WriteScope write, IReadOnlyList<ItemToStore> items, CancellationToken ct)
    {
        var claimed = (await write.Connection.QueryAsync<Guid>(new CommandDefinition(
            """
            insert into idempotency_keys (key, request_hash, feedback_id)
            select * from unnest(@keys, @hashes, @ids)
            on conflict do nothing
            returning feedback_id
            """,
            new
            {
                keys = items.Select(i => i.IdempotencyKey).ToArray(),
                hashes = items.Select(i => i.RequestHash).ToArray(),
                ids = items.Select(i => i.Item.Id).ToArray(),
            }, write.Transaction, cancellationToken: ct))).ToHashSet();
        var claimants = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var n = 0; n < items.Count; n++)
        {
            if (claimed.Contains(items[n].Item.Id)) claimants[items[n].IdempotencyKey] = n;
        }
        var earlierKeys = items.Select(i => i.IdempotencyKey).Where(k => !claimants.ContainsKey(k)).Distinct().ToArray();
        var earlier = earlierKeys.Length == 0
            ? new Dictionary<string, (byte[] Hash, Guid Id)>()
            : (await write.Connection.QueryAsync<(string Key, byte[] Hash, Guid Id)>(new CommandDefinition(
                "select key, request_hash, feedback_id from idempotency_keys where key = any(@earlierKeys)",
                new { earlierKeys }, write.Transaction, cancellationToken: ct))).ToDictionary(r => r.Key, r => (r.Hash, r.Id), StringComparer.Ordinal);

        return new ClaimedKeys(claimants, earlier);
    }

    /// <summary>
    /// The indexes of the items to insert: those that claimed their key and are not a re-import. A re-import is answered
    /// (in <paramref name="results"/>) with the item stored first, and its key now stands for that item.
    /// </summary>
    private static async Task<List<int>> SkipReimportsAsync(WriteScope write, IReadOnlyList<ItemToStore> items, Dictionary<string, int> claimants,
        StoreResult?[] results, CancellationToken ct)
    {
        var external = items.Select((i, n) => (i.Item.Links.SourceSystem, i.Item.Links.ExternalId, n))
            .Where(e => e.ExternalId is not null && claimants.GetValueOrDefault(items[e.n].IdempotencyKey, -1) == e.n).ToList();
        var existing = new Dictionary<(string?, string), Guid>();
        if (external.Count > 0)
        {
            foreach (var row in await write.Connection.QueryAsync<(string? System, string ExternalId, Guid Id)>(new CommandDefinition(
                """
                select f.source_system, f.external_id, f.id
                from unnest(@systems, @externalIds) as e(system, external_id)
                join feedback_items f on f.source_system = e.system and f.external_id = e.external_id and f.external_id is not null
                """,
                new { systems = external.Select(e => e.SourceSystem).ToArray(), externalIds = external.Select(e => e.ExternalId!).ToArray() },
                write.Transaction, cancellationToken: ct)))
            {
                existing[(row.System, row.ExternalId)] = row.Id;
            }
        }

        var toInsert = new List<int>(items.Count);
        var reimports = new List<(string Key, Guid Id)>();
        for (var n = 0; n < items.Count; n++)
        {
            var (key, hash, item) = items[n];
            if (claimants.GetValueOrDefault(key, -1) != n) continue;
            if (item.Links.ExternalId is { } externalId)
            {
                if (existing.TryGetValue((item.Links.SourceSystem, externalId), out var first))
                {
                    results[n] = new StoreResult(first, StoreOutcome.Replayed);
                    reimports.Add((key, first));
                    continue;
                }
                existing[(item.Links.SourceSystem, externalId)] = item.Id;
            }
            toInsert.Add(n);
        }
        if (reimports.Count > 0)
        {
            // The key now stands for the item that was there already, so a retry of this request replays it too.
            await write.Connection.ExecuteAsync(new CommandDefinition(
                "update idempotency_keys k set feedback_id = r.id from unnest(@keys, @ids) as r(key, id) where k.key = r.key",
                new { keys = reimports.Select(r => r.Key).ToArray(), ids = reimports.Select(r => r.Id).ToArray() }, write.Transaction, cancellationToken: ct));
        }

        return toInsert;
    }

    /// <summary>Binary COPY of the items and their ratings (the cheapest way in), then their sealed contact details; false on a re-import race.</summary>
    private static async Task<bool> InsertAsync(WriteScope write, IReadOnlyList<NewFeedback> rows, DateTime receivedAt, IReadOnlyDictionary<Guid, Guid> duplicateOf,
        CancellationToken ct)
    {
        try
        {
            await CopyItemsAsync(write.Connection, rows, receivedAt, duplicateOf, ct);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == "feedback_items_source")
        {
            return false;
        }
        await using (var copy = await write.Connection.BeginBinaryImportAsync("copy feedback_ratings (feedback_id, question_id, value) from stdin (format binary)", ct))
        {
            foreach (var item in rows)
            {
                foreach (var rating in item.Ratings)
                {
                    await copy.StartRowAsync(ct);
                    await copy.WriteAsync(item.Id, NpgsqlDbType.Uuid, ct);
                    await copy.WriteAsync(rating.QuestionId, NpgsqlDbType.Text, ct);
                    await copy.WriteAsync(rating.Value, NpgsqlDbType.Integer, ct);
                }
            }
            await copy.CompleteAsync(ct);
        }
        await PraiseStore.InsertAsync(write, rows, receivedAt, ct);
        var contacts = rows.Where(i => i.Contact is not null).ToList();
        if (contacts.Count > 0)
        {
            await write.Connection.ExecuteAsync(new CommandDefinition(
                """
                insert into contact_details (feedback_id, customer_id, key_id, nonce, ciphertext, tag)
                select * from unnest(@ids, @customers, @keyIds, @nonces, @ciphertexts, @tags)
                """,
                new
                {
                    ids = contacts.Select(i => i.Id).ToArray(),
                    customers = contacts.Select(i => i.CustomerId).ToArray(),
                    keyIds = contacts.Select(i => i.Contact!.KeyId).ToArray(),
                    nonces = contacts.Select(i => i.Contact!.Nonce).ToArray(),
                    ciphertexts = contacts.Select(i => i.Contact!.Ciphertext).ToArray(),
                    tags = contacts.Select(i => i.Contact!.Tag).ToArray(),
                }, write.Transaction, cancellationToken: ct));
        }

        return true;
    }

    private static void AnswerRepeatedKeys(IReadOnlyList<ItemToStore> items, ClaimedKeys keys, StoreResult?[] results)
    {
        var (claimants, earlier) = keys;
        for (var n = 0; n < items.Count; n++)
        {
            if (results[n] is not null) continue;
            var (key, hash, _) = items[n];
            var (firstHash, firstId) = claimants.TryGetValue(key, out var c)
                ? (items[c].RequestHash, results[c]!.Id)
                : earlier[key];
            results[n] = hash.AsSpan().SequenceEqual(firstHash)
                ? new StoreResult(firstId, StoreOutcome.Replayed)
                : new StoreResult(firstId, StoreOutcome.KeyReused);
        }
    }

    private static async Task CopyItemsAsync(NpgsqlConnection connection, IReadOnlyList<NewFeedback> rows, DateTime receivedAt,
        IReadOnlyDictionary<Guid, Guid> duplicateOf, CancellationToken ct)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            """
            copy feedback_items (id, channel, journey_id, verbatim, given_at, received_at, redacted_verbatim, language, sentiment, themes,
                customer_id, audience, touchpoint_key, product_id, lot_id, store_id, segment, source_system, survey_id, external_id,
                text_hash, duplicate_of, conversation, taxonomy_version, sentiment_mixed, unit_key) from stdin (format binary)
            """, ct);
        async Task Text(string? value)
        {
            if (value is null) await copy.WriteNullAsync(ct);
            else await copy.WriteAsync(value, NpgsqlDbType.Text, ct);
        }
        foreach (var item in rows)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(item.Id, NpgsqlDbType.Uuid, ct);
            await copy.WriteAsync(item.Channel, NpgsqlDbType.Text, ct);
            await Text(item.JourneyId);
            await Text(item.Verbatim);
            await copy.WriteAsync(item.GivenAt, NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(receivedAt, NpgsqlDbType.TimestampTz, ct);
            await Text(item.RedactedVerbatim);
            await Text(item.Language);
            if (item.Sentiment is { } sentiment) await copy.WriteAsync(sentiment, NpgsqlDbType.Double, ct);
            else await copy.WriteNullAsync(ct);
            await copy.WriteAsync(JsonSerializer.Serialize(item.Themes, Json), NpgsqlDbType.Jsonb, ct);
            await Text(item.CustomerId);
            await copy.WriteAsync(item.Audience, NpgsqlDbType.Text, ct);
            await Text(item.Links.TouchpointKey);
            await Text(item.Links.ProductId);
            await Text(item.Links.LotId);
            await Text(item.Links.StoreId);
            await copy.WriteAsync(JsonSerializer.Serialize(item.Links.Segment), NpgsqlDbType.Jsonb, ct);
            await Text(item.Links.SourceSystem);
            await Text(item.Links.SurveyId);
            await Text(item.Links.ExternalId);
            await Text(item.TextHash);
            if (duplicateOf.TryGetValue(item.Id, out var original)) await copy.WriteAsync(original, NpgsqlDbType.Uuid, ct);
            else await copy.WriteNullAsync(ct);
            if (item.Conversation is { } conversation) await copy.WriteAsync(conversation, NpgsqlDbType.Jsonb, ct);
            else await copy.WriteNullAsync(ct);
            await copy.WriteAsync(item.TaxonomyVersion, NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(item.SentimentMixed, NpgsqlDbType.Boolean, ct);
            await Text(item.Links.UnitKey);
        }
        await copy.CompleteAsync(ct);
    }

    // Postgres keeps microseconds: answer with what is stored.
    private static DateTime ToMicroseconds(DateTime t) => new(t.Ticks - t.Ticks % 10, DateTimeKind.Utc);

    /// <summary>
    /// For each item with a customer and a text hash: the first saying of the same text by the same customer within
    /// the window, stored before or earlier in this batch. Locks each (customer, text) pair for the transaction, in
    /// a fixed order, so two batches cannot both take the same saying for the original.
    /// </summary>
    private async Task<Dictionary<Guid, Guid>> FindOriginalsAsync(WriteScope write,
        IReadOnlyList<NewFeedback> items, CancellationToken ct)
    {
        var duplicateOf = new Dictionary<Guid, Guid>();
        var candidates = items.Where(i => i.CustomerId is not null && i.TextHash is not null).ToList();
        if (candidates.Count == 0) return duplicateOf;
        var window = options.Value.DuplicateWindow;
        var customers = candidates.Select(i => i.CustomerId!).ToArray();
        var hashes = candidates.Select(i => i.TextHash!).ToArray();
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            select pg_advisory_xact_lock(k)
            from (select distinct hashtextextended(c || chr(31) || h, 0) as k from unnest(@customers, @hashes) as p(c, h) order by 1) ordered
            """, new { customers, hashes }, write.Transaction, cancellationToken: ct));
        var stored = (await write.Connection.QueryAsync<(Guid Id, Guid? Original)>(new CommandDefinition(
            """
            select t.id, (select f.id from feedback_items f
                          where f.customer_id = t.c and f.text_hash = t.h and f.duplicate_of is null
                            and f.given_at between t.g - @window and t.g + @window
                          order by f.given_at, f.id limit 1)
            from unnest(@ids, @customers, @hashes, @givenAt) as t(id, c, h, g)
            """,
            new
            {
                ids = candidates.Select(i => i.Id).ToArray(),
                customers,
                hashes,
                givenAt = candidates.Select(i => i.GivenAt).ToArray(),
                window,
            }, write.Transaction, cancellationToken: ct))).ToDictionary(r => r.Id, r => r.Original);

        var originalsInBatch = new Dictionary<(string, string), List<NewFeedback>>();
        foreach (var item in candidates)
        {
            if (stored[item.Id] is { } original)
            {
                duplicateOf[item.Id] = original;
                continue;
            }
            var pair = (item.CustomerId!, item.TextHash!);
            if (!originalsInBatch.TryGetValue(pair, out var seen)) originalsInBatch[pair] = seen = [];
            var first = seen.Where(o => (o.GivenAt - item.GivenAt).Duration() <= window).OrderBy(o => o.GivenAt).ThenBy(o => o.Id).FirstOrDefault();
            if (first is null) seen.Add(item);
            else duplicateOf[item.Id] = first.Id;
        }
        return duplicateOf;
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
                   i.duplicate_of as DuplicateOf, c.key_id as KeyId, c.nonce, c.ciphertext, c.tag, i.conversation::text as Conversation,
                   i.taxonomy_version as TaxonomyVersion, i.sentiment_mixed as SentimentMixed, i.unit_key as UnitKey
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
                JsonSerializer.Deserialize<Dictionary<string, string>>(found.Segment) ?? [], found.SourceSystem, found.SurveyId, found.ExternalId)
            {
                UnitKey = found.UnitKey,
            },
            DuplicateOf = found.DuplicateOf,
            Conversation = found.Conversation,
            TaxonomyVersion = found.TaxonomyVersion,
            SentimentMixed = found.SentimentMixed,
        };
        var ratings = await connection.QueryAsync<RatingRow>(new CommandDefinition(
            "select question_id as QuestionId, value from feedback_ratings where feedback_id = @id order by question_id",
            new { id }, cancellationToken: ct));
        return row with { Ratings = ratings.ToList() };
    }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Deletes the customer's contact details and words (raw and redacted verbatims) and their items' idempotency keys,
    /// moves their items to a random pseudonym (ratings and themes stay, counted once as before), records the erasure
    /// under a hash of the id with the id of the event that announces it, in the write. Safe to repeat.
    /// </summary>
    public static async Task<Erasure> EraseCustomerAsync(WriteScope write, string customerId, string eventId, CancellationToken ct)
    {
        var verbatims = await write.Connection.ExecuteAsync(new CommandDefinition(
            "update feedback_items set verbatim = null where customer_id = @customerId and verbatim is not null",
            new { customerId }, write.Transaction, cancellationToken: ct));
        var contacts = await write.Connection.ExecuteAsync(new CommandDefinition(
            "delete from contact_details where customer_id = @customerId", new { customerId }, write.Transaction, cancellationToken: ct));
        // Praise quoted their words: it goes with them (a recognition already sent stays with whoever received it).
        var praise = await write.Connection.ExecuteAsync(new CommandDefinition(
            "delete from praise p using feedback_items i where i.customer_id = @customerId and p.feedback_id = i.id",
            new { customerId }, write.Transaction, cancellationToken: ct));
        await write.Connection.ExecuteAsync(new CommandDefinition(
            "delete from idempotency_keys k using feedback_items i where i.customer_id = @customerId and k.feedback_id = i.id",
            new { customerId }, write.Transaction, cancellationToken: ct));
        var items = await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            update feedback_items set customer_id = @pseudonym, redacted_verbatim = null, conversation = null, erased_at = coalesce(erased_at, now())
            where customer_id = @customerId
            """, new { customerId, pseudonym = $"erased-{Guid.NewGuid():N}" }, write.Transaction, cancellationToken: ct));
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into erasures (customer_hash, verbatims, contacts, items, praise, event_id)
            values (encode(sha256(convert_to(@customerId, 'UTF8')), 'hex'), @verbatims, @contacts, @items, @praise, @eventId)
            """, new { customerId, verbatims, contacts, items, praise, eventId }, write.Transaction, cancellationToken: ct));
        return new Erasure(verbatims, contacts, items, eventId);
    }

    /// <summary>The sealed contact details customers gave, by customer (for redacting their names from all their items).</summary>
    public async Task<IReadOnlyList<(string CustomerId, Guid FeedbackId, SealedContact Contact)>> ContactsOfAsync(IReadOnlyCollection<string> customerIds, CancellationToken ct)
    {
        if (customerIds.Count == 0) return [];
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string CustomerId, Guid FeedbackId, string KeyId, byte[] Nonce, byte[] Ciphertext, byte[] Tag)>(new CommandDefinition(
            "select customer_id, feedback_id, key_id, nonce, ciphertext, tag from contact_details where customer_id = any(@ids)",
            new { ids = customerIds.ToArray() }, cancellationToken: ct)))
            .Select(r => (r.CustomerId, r.FeedbackId, new SealedContact(r.KeyId, r.Nonce, r.Ciphertext, r.Tag))).ToList();
    }

    /// <summary>The customers' items that still have their raw words, but for <paramref name="except"/>: id, customer, raw and redacted text.</summary>
    public async Task<IReadOnlyList<(Guid Id, string CustomerId, string Verbatim, string? Redacted, string? Conversation)>> WordsOfAsync(IReadOnlyCollection<string> customerIds,
        IReadOnlyCollection<Guid> except, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(Guid, string, string, string?, string?)>(new CommandDefinition(
            """
            select id, customer_id, verbatim, redacted_verbatim, conversation::text from feedback_items
            where customer_id = any(@ids) and verbatim is not null and not (id = any(@except))
            """, new { ids = customerIds.ToArray(), except = except.ToArray() }, cancellationToken: ct))).ToList();
    }

    /// <summary>New redacted texts of items that still have their raw words; returns the ones changed.</summary>
    public static async Task<IReadOnlyList<Guid>> UpdateRedactedAsync(WriteScope write, IReadOnlyList<(Guid Id, string Redacted)> changes, CancellationToken ct)
    {
        if (changes.Count == 0) return [];
        return (await write.Connection.QueryAsync<Guid>(new CommandDefinition(
            """
            update feedback_items i set redacted_verbatim = c.redacted from unnest(@ids, @texts) as c(id, redacted)
            where i.id = c.id and i.verbatim is not null
            returning i.id
            """,
            new { ids = changes.Select(c => c.Id).ToArray(), texts = changes.Select(c => c.Redacted).ToArray() }, write.Transaction, cancellationToken: ct))).ToList();
    }

    /// <summary>Conversations redacted again (their turns, as JSON) of items that still have their raw words.</summary>
    public static async Task UpdateConversationsAsync(WriteScope write, IReadOnlyList<(Guid Id, string Conversation)> changes, CancellationToken ct)
    {
        if (changes.Count == 0) return;
        await write.Connection.ExecuteAsync(new CommandDefinition(
            """
            update feedback_items i set conversation = c.conversation::jsonb from unnest(@ids, @conversations) as c(id, conversation)
            where i.id = c.id and i.verbatim is not null
            """,
            new { ids = changes.Select(c => c.Id).ToArray(), conversations = changes.Select(c => c.Conversation).ToArray() }, write.Transaction, cancellationToken: ct));
    }

    /// <summary>Forgets up to <paramref name="limit"/> idempotency keys made before <paramref name="before"/>, oldest first; returns how many.</summary>
    public static Task<int> ForgetKeysAsync(WriteScope write, DateTime before, int limit, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            delete from idempotency_keys where key in (
                select key from idempotency_keys where created_at < @before order by created_at limit @limit for update skip locked)
            """, new { before, limit }, write.Transaction, cancellationToken: ct));

    /// <summary>Records reads of raw personal data: one row per item and what of it was read.</summary>
    public async Task RecordPersonalDataReadsAsync(string actor, IReadOnlyList<(Guid FeedbackId, string[] Fields)> reads, CancellationToken ct)
    {
        if (reads.Count == 0) return;
        await using var connection = await database.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "insert into personal_data_reads (actor, feedback_id, fields) select @actor, r.id, string_to_array(r.fields, ',') from unnest(@ids, @fields) as r(id, fields)",
            new { actor, ids = reads.Select(r => r.FeedbackId).ToArray(), fields = reads.Select(r => string.Join(',', r.Fields)).ToArray() }, cancellationToken: ct));
    }

    /// <summary>Newest first; <paramref name="beforeId"/>: the page starts below that row (the last of the previous page).</summary>
    public async Task<IReadOnlyList<(long Id, string Actor, Guid FeedbackId, string[] Fields, DateTime ReadAt)>> PersonalDataReadsAsync(string? actor, Guid? feedbackId,
        long? beforeId, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(long, string, Guid, string[], DateTime)>(new CommandDefinition(
            """
            select id, actor, feedback_id, fields, read_at from personal_data_reads
            where (@actor::text is null or actor = @actor) and (@feedbackId::uuid is null or feedback_id = @feedbackId)
              and (@beforeId::bigint is null or id < @beforeId)
            order by id desc limit @limit
            """, new { actor, feedbackId, beforeId, limit }, cancellationToken: ct))).ToList();
    }

    /// <summary>Records what another service removed for an erasure; a redelivered report changes nothing.</summary>
    public static Task RecordErasureAppliedAsync(WriteScope write, ErasureApplied applied, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into erasure_receipts (erasure_id, service, removed, applied_at) values (@erasureId, @service, @removed::jsonb, @appliedAt)
            on conflict (erasure_id, service) do nothing
            """, new
            {
                erasureId = applied.ErasureId,
                service = applied.Service,
                removed = JsonSerializer.Serialize(applied.Removed.ToDictionary()),
                appliedAt = applied.OccurredAt?.ToDateTime() ?? DateTime.UtcNow,
            }, write.Transaction, cancellationToken: ct));

    /// <summary>An erasure's receipt: feedback's own part and what each other service reported; null when there is no such erasure.</summary>
    public async Task<ErasureReceiptRow?> ErasureReceiptAsync(string erasureId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var own = await connection.QuerySingleOrDefaultAsync<(DateTime ErasedAt, int Verbatims, int Contacts, int Items, int Praise)?>(new CommandDefinition(
            "select erased_at, verbatims, contacts, items, praise from erasures where event_id = @erasureId", new { erasureId }, cancellationToken: ct));
        if (own is not { } o) return null;
        var others = (await connection.QueryAsync<(string Service, string Removed, DateTime AppliedAt)>(new CommandDefinition(
            "select service, removed::text, applied_at from erasure_receipts where erasure_id = @erasureId order by service", new { erasureId }, cancellationToken: ct)))
            .Select(r => new ServiceErasureRow(r.Service, JsonSerializer.Deserialize<Dictionary<string, long>>(r.Removed)!, r.AppliedAt)).ToList();
        others.Insert(0, new ServiceErasureRow(FeedbackModule.Name,
            new Dictionary<string, long> { ["raw_verbatims"] = o.Verbatims, ["contact_details"] = o.Contacts, ["items_pseudonymised"] = o.Items, ["praise"] = o.Praise }, o.ErasedAt));
        return new ErasureReceiptRow(erasureId, o.ErasedAt, others);
    }

    private sealed record ItemRow(Guid Id, string Channel, string? JourneyId, string? Verbatim, DateTime GivenAt, DateTime ReceivedAt,
        string? RedactedVerbatim, string? Language, double? Sentiment, string Themes, string? CustomerId, string Audience, DateTime? ErasedAt,
        string? TouchpointKey, string? ProductId, string? LotId, string? StoreId, string Segment, string? SourceSystem, string? SurveyId,
        string? ExternalId, Guid? DuplicateOf, string? KeyId, byte[]? Nonce, byte[]? Ciphertext, byte[]? Tag, string? Conversation, long TaxonomyVersion, bool SentimentMixed, string? UnitKey);
}
