using System.Security.Cryptography;
using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Feedback.Api;
using CxMesh.Feedback.Data;
using CxMesh.Feedback.Domain;
using CxMesh.Feedback.Domain.Text;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Platform.Validation;
using FluentValidation;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using static CxMesh.Platform.Validation.Identifiers;

namespace CxMesh.Feedback.UseCases;

/// <summary>One item of an ingest: a request to check and store, or one refused before it became a request (a bad CSV row).</summary>
public sealed record IngestEntry(SubmitFeedbackRequest? Request, ItemError? Refused = null);

/// <summary>What became of one item: its status, the feedback id (the first item for a replay), and the error of a refused one.</summary>
public sealed record IngestOutcome(SubmitStatus Status, Guid? Id, ItemError? Error, FeedbackRow? Stored = null)
{
    public static IngestOutcome Rejected(ItemError error) => new(SubmitStatus.Rejected, null, error);
}

/// <summary>
/// The one way feedback gets in, for SubmitFeedback, SubmitFeedbackBatch and the CSV import: checks each item,
/// analyses its text (redaction first, on every core), and stores items in chunks with set-based statements, one
/// write per chunk that also publishes feedback.received for each new item. While a chunk is being stored the next one
/// is read and analysed.
/// </summary>
public sealed class SubmitFeedback(
    [FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database, FeedbackStore store, IValidator<SubmitFeedbackRequest> validator, TimeProvider clock, ISentimentAnalyzer sentiment,
    IPhoneNumberFinder phones, ContactVault vault, QuestionRegistry questions, ThemeCatalog themes, CustomerPseudonyms pseudonyms,
    UnitRegistry units, PraiseStore praiseStore)
{
    public const int ChunkSize = 500;

    /// <summary>
    /// Ingests the entries in order; after each chunk is committed, <paramref name="chunkDone"/> gets its outcomes
    /// (in entry order, with the index of the chunk's first entry). A dependency failing ends the call with the
    /// exception; chunks reported before stay stored.
    /// </summary>
    public async Task IngestAsync(IAsyncEnumerable<IngestEntry> entries, Func<int, IReadOnlyList<IngestOutcome>, Task> chunkDone, CancellationToken ct)
    {
        var chunk = new List<IngestEntry>(ChunkSize);
        var first = 0;
        var storing = Task.CompletedTask;
        async Task StoreAndReportAsync(Prepared prepared, int start) => await chunkDone(start, await StoreAsync(prepared, ct));
        async Task FlushAsync()
        {
            var prepared = await PrepareAsync(chunk, ct);
            await storing; // in order: a chunk is committed and reported before the next one is stored
            storing = StoreAndReportAsync(prepared, first);
            first += chunk.Count;
            chunk = new List<IngestEntry>(ChunkSize);
        }
        try
        {
            await foreach (var entry in entries.WithCancellation(ct))
            {
                chunk.Add(entry);
                if (chunk.Count == ChunkSize) await FlushAsync();
            }
            if (chunk.Count > 0) await FlushAsync();
        }
        catch
        {
            // The reader failed (the client went away): let the chunk being stored finish, then report the failure.
            await storing.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            throw;
        }
        await storing;
    }

    /// <summary>One item, for SubmitFeedback: bad input throws (the call fails naming the field).</summary>
    public async Task<IngestOutcome> SubmitAsync(SubmitFeedbackRequest request, CancellationToken ct)
    {
        await questions.LoadAsync(request.Ratings.Select(r => r.QuestionId).Where(id => Identifiers.Key().IsMatch(id)), ct);
        await units.CurrentAsync(ct);
        Complete([request]);
        var check = new Violations();
        check.Add(validator.Validate(request));
        check.ThrowIfAny();
        var outcome = (await StoreAsync(await PrepareAsync([new IngestEntry(request)], ct), ct))[0];
        if (outcome.Status == SubmitStatus.Rejected)
        {
            throw new PreconditionFailedException("IDEMPOTENCY_KEY_REUSED", outcome.Error!.Message, "idempotency_key");
        }
        return outcome;
    }

    /// <summary>
    /// What the server fills before checking: a conversation's verbatim is its customer's turns; contact details without a
    /// customer id get the pseudonym of their e-mail, phone or response id, so erasure finds them.
    /// </summary>
    private void Complete(IEnumerable<SubmitFeedbackRequest> requests)
    {
        foreach (var request in requests)
        {
            if (request is { Verbatim.Length: 0, Conversation.Turns.Count: > 0 })
            {
                request.Verbatim = Conversations.CustomerText(request.Conversation.Turns.Select(ProtoMapping.ToTurn));
            }
            if (request is { CustomerId.Length: 0, Contact: { } contact }
                && pseudonyms.For(contact.Email, contact.Phone, request.Source?.System ?? "", request.Source?.ExternalId ?? "") is { } pseudonym)
            {
                request.CustomerId = pseudonym;
            }
        }
    }

    private sealed record Prepared(IngestOutcome?[] Outcomes, IReadOnlyList<(int Index, ItemToStore Item)> ToStore, UnitTree Units);

    private async Task<Prepared> PrepareAsync(IReadOnlyList<IngestEntry> entries, CancellationToken ct)
    {
        await questions.LoadAsync(entries.Where(e => e.Request is not null).SelectMany(e => e.Request!.Ratings.Select(r => r.QuestionId))
            .Where(id => Identifiers.Key().IsMatch(id)), ct);
        var taxonomy = await themes.CurrentTaxonomyAsync(ct);
        // The validator checks unit keys against this tree, and praise is found with it: one tree for the whole chunk.
        var tree = await units.CurrentAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        // Before the known contacts are read: the person may have given their details before.
        Complete(entries.Select(e => e.Request).OfType<SubmitFeedbackRequest>());
        var known = await KnownContactsAsync(entries.Where(e => e.Request is not null).Select(e => e.Request!).ToList(), ct);

        // Checks, then redaction, language, sentiment and themes, before anything is stored or published; on every core.
        var outcomes = new IngestOutcome?[entries.Count];
        var prepared = new ItemToStore?[entries.Count];
        // Work items rather than Parallel.For, which would block a thread-pool thread while it waits (and starve the
        // server's I/O continuations on a small machine).
        var slices = Math.Min(Environment.ProcessorCount, Math.Max(1, entries.Count / 16));
        await Task.WhenAll(Enumerable.Range(0, slices).Select(slice => Task.Run(() =>
        {
            for (var i = slice; i < entries.Count; i += slices)
            {
                ct.ThrowIfCancellationRequested();
                Prepare(i);
            }
        }, ct)));
        void Prepare(int i)
        {
            if (entries[i].Refused is { } refused)
            {
                outcomes[i] = IngestOutcome.Rejected(refused);
                return;
            }
            var request = entries[i].Request!;
            var check = validator.Validate(request);
            if (!check.IsValid)
            {
                outcomes[i] = IngestOutcome.Rejected(ItemErrors.From(check));
                return;
            }
            prepared[i] = new ItemToStore(request.IdempotencyKey, Fingerprint(request),
                ToNewFeedback(request, taxonomy, tree, now, request.CustomerId.Length > 0 && known.TryGetValue(request.CustomerId, out var theirs) ? theirs : null));
        }
        var toStore = new List<(int Index, ItemToStore Item)>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            if (prepared[i] is { } item) toStore.Add((i, item));
        }
        return new Prepared(outcomes, toStore, tree);
    }

    private async Task<IReadOnlyList<IngestOutcome>> StoreAsync(Prepared prepared, CancellationToken ct)
    {
        var results = await StoreManyAsync(prepared.ToStore.Select(p => p.Item).ToList(), prepared.Units, ct);
        // Replayed items too: a retry after a failure here finishes what the first call could not.
        await RedactEarlierItemsAsync(prepared.ToStore.Where((_, n) => results[n].Outcome != StoreOutcome.KeyReused).Select(p => p.Item.Item).ToList(), ct);
        for (var n = 0; n < results.Count; n++)
        {
            var (i, item) = prepared.ToStore[n];
            prepared.Outcomes[i] = results[n].Outcome switch
            {
                StoreOutcome.Stored => new IngestOutcome(SubmitStatus.Stored, results[n].Id, null, results[n].Row),
                StoreOutcome.Replayed => new IngestOutcome(SubmitStatus.Replayed, results[n].Id, null),
                _ => IngestOutcome.Rejected(new ItemError
                {
                    Code = (int)Google.Rpc.Code.FailedPrecondition,
                    Field = "idempotency_key",
                    Message = "idempotency_key was used before for a different request; use a new key for new feedback.",
                }),
            };
        }
        return prepared.Outcomes!;
    }

    private async Task<IReadOnlyList<StoreResult>> StoreManyAsync(IReadOnlyList<ItemToStore> items, UnitTree tree, CancellationToken ct)
    {
        if (items.Count == 0) return [];
        // A concurrent import of the same external ids can win the race between our check and our insert: then the
        // write is rolled back and run again, and the check sees the winner's rows.
        for (var attempt = 1; ; attempt++)
        {
            await using var write = await database.BeginWriteAsync(ct);
            if (await store.TryStoreManyAsync(write, items, ct) is { } results)
            {
                var rows = results.Where(r => r.Outcome == StoreOutcome.Stored).Select(r => r.Row!).ToList();
                var stored = rows.Select(r => ToEvent(r, tree)).ToList();
                // Keyed by the new items' ids: one feedback.received per item, by construction.
                await write.PublishNewAsync(Topics.FeedbackReceived, stored, e => e.FeedbackId, ct);
                // Recognition for the units praised: keyed by the new praise ids.
                var praise = rows.SelectMany(r => r.Praise.Select(p => Praised(r, p, tree))).ToList();
                if (praise.Count > 0) await write.PublishNewAsync(Topics.PraiseReceived, praise, e => e.PraiseId, ct);
                await write.CommitAsync(ct);
                FeedbackMetrics.Stored.Add(stored.Count);
                FeedbackMetrics.Repeated.Add(results.Count(r => r.Outcome == StoreOutcome.Replayed));
                return results;
            }
            if (attempt == 3) throw new InvalidOperationException("A batch kept racing another import of the same external ids.");
        }
    }

    /// <summary>
    /// Every set of contact details the batch's customers ever gave (stored, and in this batch): their names, e-mails
    /// and phones are hidden from all their items, not only from the one they came with.
    /// </summary>
    private async Task<Dictionary<string, List<OwnDetails>>> KnownContactsAsync(IReadOnlyList<SubmitFeedbackRequest> requests, CancellationToken ct)
    {
        // Looked up before the items are checked, so only ids that can pass the check reach the database (a NUL
        // in one would fail the whole chunk instead of its item).
        requests = requests.Where(r => r.CustomerId.Length is > 0 and <= FeedbackLimits.MaxIdLength && Identifiers.Token().IsMatch(r.CustomerId)).ToList();
        var customers = requests.Select(r => r.CustomerId).Distinct().ToList();
        var known = new Dictionary<string, List<OwnDetails>>();
        void Add(string customer, ContactDetails c)
        {
            if (!known.TryGetValue(customer, out var list)) known[customer] = list = [];
            list.Add(Own(c));
        }
        foreach (var (customer, feedbackId, sealedContact) in await store.ContactsOfAsync(customers, ct)) Add(customer, vault.Open(feedbackId, sealedContact));
        foreach (var r in requests.Where(r => r.Contact is not null)) Add(r.CustomerId, r.Contact);
        return known;
    }

    private static OwnDetails Own(ContactDetails c) => new(NullIfEmpty(c.Name), NullIfEmpty(c.Email), NullIfEmpty(c.Phone), NullIfEmpty(c.Address));

    /// <summary>
    /// When customers gave contact details with this chunk, their earlier items are redacted again with everything
    /// now known of them; changed texts are published (feedback.redacted) to the services that hold them.
    /// </summary>
    private async Task RedactEarlierItemsAsync(IReadOnlyList<NewFeedback> stored, CancellationToken ct)
    {
        var customers = stored.Where(i => i.Contact is not null && i.CustomerId is not null).Select(i => i.CustomerId!).Distinct().ToList();
        if (customers.Count == 0) return;
        // Items of this chunk were redacted with everything known already; only earlier ones can change.
        var earlier = await store.WordsOfAsync(customers, stored.Select(i => i.Id).ToList(), ct);
        if (earlier.Count == 0) return;
        var known = (await store.ContactsOfAsync(earlier.Select(e => e.CustomerId).Distinct().ToList(), ct)).GroupBy(c => c.CustomerId)
            .ToDictionary(g => g.Key, g => g.Select(c => Own(vault.Open(c.FeedbackId, c.Contact))).ToList());
        var changes = earlier
            .Select(w => (w.Id, Now: Redactor.Redact(w.Verbatim, null, phones, known.GetValueOrDefault(w.CustomerId)), w.Redacted))
            .Where(w => w.Now != w.Redacted).Select(w => (w.Id, w.Now)).ToList();
        // A conversation's stored turns are redacted text: redacting them again with what is now known hides the rest.
        var conversations = earlier.Where(w => w.Conversation is not null)
            .Select(w => (w.Id, w.Conversation, Now: ProtoMapping.RedactConversation(w.Conversation!, t => Redactor.Redact(t, null, phones, known.GetValueOrDefault(w.CustomerId)))))
            .Where(w => w.Now != w.Conversation).Select(w => (w.Id, w.Now)).ToList();
        if (changes.Count == 0 && conversations.Count == 0) return;
        // Praise quotes a sentence of the words: it is redacted again from the same raw sentence.
        var words = earlier.ToDictionary(w => w.Id);
        var excerpts = (await praiseStore.OfItemsAsync(changes.Select(c => c.Id).ToList(), ct))
            .Where(p => p.Start + p.Length <= words[p.FeedbackId].Verbatim.Length)
            .Select(p => (p.Id, Redactor.Redact(words[p.FeedbackId].Verbatim.Substring(p.Start, p.Length), null, phones, known.GetValueOrDefault(words[p.FeedbackId].CustomerId))))
            .ToList();
        await using var write = await database.BeginWriteAsync(ct);
        await FeedbackStore.UpdateConversationsAsync(write, conversations, ct);
        await PraiseStore.UpdateExcerptsAsync(write, excerpts, ct);
        var changed = (await FeedbackStore.UpdateRedactedAsync(write, changes, ct)).ToHashSet();
        foreach (var (id, redacted) in changes.Where(c => changed.Contains(c.Id)))
        {
            await write.PublishAsync(Topics.FeedbackRedacted, new FeedbackRedacted
            {
                OccurredAt = Timestamp.FromDateTimeOffset(write.Now),
                FeedbackId = id.ToString(),
                RedactedVerbatim = redacted,
            }, ct);
        }
        await write.CommitAsync(ct);
    }

    private NewFeedback ToNewFeedback(SubmitFeedbackRequest request, Taxonomy taxonomy, UnitTree tree, DateTime now, IReadOnlyList<OwnDetails>? known)
    {
        var contact = request.Contact is { } c && (c.Name.Length + c.Email.Length + c.Phone.Length + c.Address.Length) > 0 ? c : null;
        var own = contact is null ? null : Own(contact);
        var analysis = request.Verbatim.Length > 0 ? TextAnalyzer.Analyze(request.Verbatim, own, taxonomy.Themes, sentiment, phones, known) : null;
        var id = Guid.CreateVersion7();
        var unitKey = NullIfEmpty(request.Links?.UnitKey ?? "");
        var praise = analysis is null ? [] : PraiseFinder.Find(request.Verbatim, analysis.Language, tree, unitKey, sentiment)
            .Select(p => new PraiseRow(Guid.CreateVersion7(), p.Unit, Redactor.Redact(request.Verbatim.Substring(p.Start, p.Length), own, phones, known), p.Start, p.Length))
            .ToList();
        return new NewFeedback(
            id,
            ChannelNames.ToStored(request.Channel),
            NullIfEmpty(request.Journey),
            NullIfEmpty(request.Verbatim),
            ToMicroseconds(request.GivenAt?.ToDateTime() ?? now),
            request.Ratings.Select(r => new RatingRow(r.QuestionId, r.Value)).ToList(),
            analysis?.RedactedText,
            analysis?.Language,
            analysis?.Sentiment.Score,
            analysis?.Themes.Select(t => new StoredTheme(t.ThemeKey, t.Sentiment.Score)).ToList() ?? [],
            NullIfEmpty(request.CustomerId),
            request.Audience == Audience.Employee ? "employee" : "customer",
            contact is null ? null : vault.Seal(id, contact))
        {
            Links = new FeedbackLinks(
                NullIfEmpty(request.Links?.TouchpointKey ?? ""), NullIfEmpty(request.Links?.ProductId ?? ""), NullIfEmpty(request.Links?.LotId ?? ""),
                NullIfEmpty(request.Links?.StoreId ?? ""), request.Links?.Segment.ToDictionary(p => p.Key, p => p.Value) ?? [],
                NullIfEmpty(request.Source?.System ?? ""), NullIfEmpty(request.Source?.SurveyId ?? ""), NullIfEmpty(request.Source?.ExternalId ?? ""))
            {
                UnitKey = unitKey,
            },
            Praise = praise,
            Conversation = request.Conversation is { Turns.Count: > 0 } conversation
                ? ProtoMapping.StoredConversation(conversation.Turns.Select(t => ProtoMapping.ToTurn(t) with { Text = Redactor.Redact(t.Text, own, phones, known) }))
                : null,
            TaxonomyVersion = taxonomy.Version,
            SentimentMixed = analysis?.Sentiment.Mixed ?? false,
            TextHash = TextNormalizer.Normalize(request.Verbatim) is { Length: > 0 } normalized
                ? Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(normalized)))
                : null,
        };
    }

    // Postgres keeps microseconds: answer with what is stored, so a replay returns the very same item.
    private static DateTime ToMicroseconds(DateTime t) => new(t.Ticks - t.Ticks % 10, DateTimeKind.Utc);

    // The same key with the same request is a retry; with another request it is a client bug.
    // given_at is left out when not sent, because the server fills it with the time of the first call.
    private static byte[] Fingerprint(SubmitFeedbackRequest request) => SHA256.HashData(request.ToByteArray());


    private static UnitRef ToRef(Domain.Unit unit) => new()
    {
        Key = unit.Key,
        Kind = (Common.V1.UnitKind)unit.Kind,
        Name = unit.Name,
        ParentKey = unit.ParentKey ?? "",
    };

    private static PraiseReceived Praised(FeedbackRow row, PraiseRow praise, UnitTree tree) => new()
    {
        AboveMemberIds = { tree.PathOf(praise.Unit.Key).Skip(1).Select(u => u.RecognitionMemberId).OfType<string>().Distinct() },
        AboveTeamIds = { tree.PathOf(praise.Unit.Key).Skip(1).Select(u => u.RecognitionTeamId).OfType<string>().Distinct() },
        OccurredAt = Timestamp.FromDateTime(row.ReceivedAt),
        PraiseId = praise.Id.ToString(),
        FeedbackId = row.Id.ToString(),
        Unit = ToRef(praise.Unit),
        Excerpt = praise.Excerpt,
        Audience = row.Audience,
        GivenAt = Timestamp.FromDateTime(row.GivenAt),
        RecognitionMemberId = praise.Unit.RecognitionMemberId ?? "",
        RecognitionTeamId = praise.Unit.RecognitionTeamId ?? "",
    };

    private FeedbackReceived ToEvent(FeedbackRow row, UnitTree tree)
    {
        var evt = new FeedbackReceived
        {
            OccurredAt = Timestamp.FromDateTime(row.ReceivedAt),
            FeedbackId = row.Id.ToString(),
            Channel = ChannelNames.FromStored(row.Channel),
            Journey = row.JourneyId ?? "",
            GivenAt = Timestamp.FromDateTime(row.GivenAt),
            CustomerId = row.CustomerId ?? "",
            Audience = row.Audience,
            RedactedVerbatim = row.RedactedVerbatim ?? "",
            Language = row.Language ?? "",
            SentimentScore = row.Sentiment ?? 0,
            Polarity = ProtoMapping.PolarityOf(row),
            TouchpointKey = row.Links.TouchpointKey ?? "",
            ProductId = row.Links.ProductId ?? "",
            LotId = row.Links.LotId ?? "",
            StoreId = row.Links.StoreId ?? "",
            SourceSystem = row.Links.SourceSystem ?? "",
            DuplicateOf = row.DuplicateOf?.ToString() ?? "",
            TaxonomyVersion = row.TaxonomyVersion,
        };
        evt.Themes.AddRange(row.Themes.Select(ProtoMapping.ToProto));
        if (row.Links.UnitKey is { } unitKey) evt.Units.AddRange(tree.PathOf(unitKey).Select(ToRef));
        evt.PraisedUnits.AddRange(row.Praise.Select(p => p.Unit).DistinctBy(u => u.Key).Select(ToRef));
        foreach (var (key, value) in row.Links.Segment) evt.Segment[key] = value;
        foreach (var rating in row.Ratings)
        {
            // Validation looked every question up, so the registry has it cached.
            var question = questions.Cached(rating.QuestionId)
                ?? throw new InvalidOperationException($"Question '{rating.QuestionId}' was validated but is not in the registry.");
            evt.Ratings.Add(new RatingValue
            {
                QuestionId = question.Id,
                Metric = ProtoMapping.ToProto(question.Metric),
                Value = rating.Value,
                ScaleMin = question.ScaleMin,
                ScaleMax = question.ScaleMax,
                HigherIsBetter = question.HigherIsBetter,
                TopBoxValues = { question.TopBox },
                DriverOf = question.DriverOf ?? "",
            });
        }
        return evt;
    }
}
