using CxMesh.Events.V1;
using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Data;

namespace CxMesh.Scoring.UseCases;

/// <summary>
/// A taxonomy change re-tagged stored items (feedback.retagged): each item's contribution with its old themes leaves
/// exactly the driver rows it was added to (its day, scopes and outcomes, from driver_items) and its new themes go in,
/// in the write that consumes the events; so key drivers and voice trends over any window read as if every item had
/// arrived with the new taxonomy. A version older than the one applied is ignored; a re-tag that comes before its item
/// waits for it.
/// </summary>
public sealed class RetagDrivers
{
    public async Task<IReadOnlyDictionary<int, string>> ApplyManyAsync(WriteScope write, IReadOnlyList<FeedbackRetagged> events, CancellationToken ct)
    {
        var errors = new Dictionary<int, string>();
        var latest = new Dictionary<Guid, (long Version, IReadOnlyList<(string Theme, double X)> Themes)>();
        for (var i = 0; i < events.Count; i++)
        {
            var evt = events[i];
            if (!Guid.TryParse(evt.FeedbackId, out var id)) errors[i] = "feedback_id is missing or not a UUID.";
            else if (evt.TaxonomyVersion < 1) errors[i] = "taxonomy_version must be 1 or more.";
            else if (evt.Themes.Any(t => t.ThemeKey.Length is 0 or > 64 || !double.IsFinite(t.SentimentScore))) errors[i] = "every theme needs a key and a sentiment score from -1 to 1.";
            else if (!latest.TryGetValue(id, out var seen) || seen.Version < evt.TaxonomyVersion)
            {
                latest[id] = (evt.TaxonomyVersion, evt.Themes.Select(t => (t.ThemeKey, Math.Clamp(t.SentimentScore, -1, 1))).DistinctBy(t => t.ThemeKey).ToList());
            }
        }
        if (latest.Count == 0) return errors;

        var records = await DriverStore.LockItemsAsync(write, latest.Keys, ct);
        var deltas = new Dictionary<DriverKey, DriverDelta>();
        var scored = new List<DriverItem>();
        var waiting = new List<DriverItem>();
        foreach (var (id, (version, themes)) in latest)
        {
            if (!records.TryGetValue(id, out var record))
            {
                waiting.Add(new DriverItem(id, default, [], [], null, themes, version));
                continue;
            }
            if (record.Item.TaxonomyVersion >= version) continue; // applied already, or a newer one was
            var now = record.Item with { Themes = themes, TaxonomyVersion = version };
            if (record.Pending)
            {
                waiting.Add(now);
                continue;
            }
            DriverStore.AccumulateItem(deltas, record.Item, sign: -1);
            DriverStore.AccumulateItem(deltas, now);
            scored.Add(now);
        }
        // The rows of themes unchanged cancel out: only what moved is written.
        var moved = deltas.Where(d => d.Value != default).ToDictionary(d => d.Key, d => d.Value);
        await DriverStore.AddAsync(write, moved, ct);
        await DriverStore.DropEmptyAsync(write, moved.Where(d => d.Value.Cnt < 0).Select(d => d.Key), ct);
        if (!await DriverStore.RetagItemsAsync(write, scored, waiting, ct))
        {
            throw new InvalidOperationException("An item of this re-tag was scored meanwhile; the re-tag is applied again.");
        }
        return errors;
    }
}
