using System.Text.Json;
using CxMesh.Events.V1;
using CxMesh.Feedback.Api;
using CxMesh.Feedback.Data;
using CxMesh.Feedback.Domain.Text;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CxMesh.Feedback.UseCases;

/// <summary>
/// Brings stored feedback to the current taxonomy version, one batch per write: the running re-tag is locked (one
/// replica at a time), the next items after its cursor are matched against the themes again (their redacted text and
/// language, as at ingest), the items whose mentions changed get their new themes and a feedback.retagged each, every
/// scanned item records the version, and the cursor moves, all in that write; so a re-tag killed at any point resumes
/// where it stopped and no item is published twice. Items younger than <see cref="RetagSettings.Settle"/> wait: an
/// ingest may still be storing them with the taxonomy it had cached.
/// </summary>
public sealed class RetagHistory([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database, ISentimentAnalyzer sentiment, IOptions<FeedbackOptions> options)
{
    /// <summary>What one batch did; <see cref="Scanned"/> 0 and not finished: the re-tag waits for younger items to settle.</summary>
    public sealed record Batch(long Version, int Scanned, int Changed, bool Finished);

    /// <summary>Runs one batch of the running re-tag; null when none runs (or another replica holds it).</summary>
    public async Task<Batch?> RunBatchAsync(CancellationToken ct)
    {
        var settings = options.Value.Retag;
        await using var write = await database.BeginWriteAsync(ct);
        if (await RetagStore.LockRunningAsync(write, ct) is not { } job) return null;
        // The lock on the re-tag keeps a newer change waiting until this batch commits, so these are the version's themes.
        var taxonomy = await RetagStore.TaxonomyAsync(write, ct);
        var horizonTime = write.Now - settings.Settle;
        var after = job.CursorId ?? Guid.Empty;
        var items = await RetagStore.NextItemsAsync(write, after, UuidV7Floor(horizonTime), settings.BatchSize, ct);
        var changed = new List<(Guid Id, string Themes)>();
        var events = new List<FeedbackRetagged>();
        foreach (var item in items)
        {
            if (item.TaxonomyVersion >= job.Version || item.Erased || item.RedactedVerbatim is null) continue;
            var now = ThemeMatcher.Match(item.RedactedVerbatim, item.Language ?? "und", taxonomy.Themes, sentiment)
                .Select(m => new StoredTheme(m.ThemeKey, m.Sentiment.Score)).ToList();
            var before = JsonSerializer.Deserialize<List<StoredTheme>>(item.Themes, FeedbackStore.Json) ?? [];
            if (Same(before, now)) continue;
            changed.Add((item.Id, JsonSerializer.Serialize(now, FeedbackStore.Json)));
            // A repeated saying is counted nowhere (scoring and partners skip it): its own themes change, silently.
            if (item.Duplicate) continue;
            var evt = new FeedbackRetagged { OccurredAt = Timestamp.FromDateTimeOffset(write.Now), FeedbackId = item.Id.ToString(), TaxonomyVersion = job.Version };
            evt.Themes.AddRange(now.Select(ProtoMapping.ToProto));
            events.Add(evt);
        }
        // Finished once the items left are younger than the change's settling: every replica tags them with this version.
        var finished = items.Count < settings.BatchSize && horizonTime >= new DateTimeOffset(job.ChangedAt, TimeSpan.Zero) + settings.TaxonomyRefresh;
        if (items.Count == 0 && !finished) return new Batch(job.Version, 0, 0, false);
        var cursor = items.Count > 0 ? items[^1].Id : after;
        if (items.Count > 0) await RetagStore.ApplyAsync(write, job.Version, after, cursor, changed, ct);
        // Keyed by item and version: one event per item per version, by construction.
        await write.PublishNewAsync(Topics.FeedbackRetagged, events, e => $"{e.FeedbackId}/v{e.TaxonomyVersion}", ct);
        await RetagStore.AdvanceAsync(write, job.Version, cursor, items.Count, changed.Count, finished, ct);
        await write.CommitAsync(ct);
        return new Batch(job.Version, items.Count, changed.Count, finished);
    }

    private static bool Same(IReadOnlyList<StoredTheme> before, IReadOnlyList<StoredTheme> now) =>
        before.Count == now.Count && before.OrderBy(t => t.Key, StringComparer.Ordinal).Zip(now.OrderBy(t => t.Key, StringComparer.Ordinal))
            .All(p => p.First.Key == p.Second.Key && Math.Abs(p.First.Sentiment - p.Second.Sentiment) < 1e-9);

    /// <summary>The smallest UUID v7 of <paramref name="time"/>: item ids are UUID v7, so every item stored before then sorts below it.</summary>
    public static Guid UuidV7Floor(DateTimeOffset time)
    {
        var ms = Math.Max(0, time.ToUnixTimeMilliseconds());
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 5; i >= 0; i--, ms >>= 8) bytes[i] = (byte)ms;
        bytes[6] = 0x70;
        return new Guid(bytes, bigEndian: true);
    }
}
