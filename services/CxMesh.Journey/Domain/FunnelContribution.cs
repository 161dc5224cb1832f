namespace CxMesh.Journey.Domain;

/// <summary>One cell of the funnel aggregates: a journey's (segment, start day, stage) counters and durations.</summary>
public sealed record FunnelCellKey(DateOnly Day, string Segment, string Stage);

public sealed class FunnelCellDelta
{
    public long Entered { get; set; }
    public long Completed { get; set; }
    public long Dropped { get; set; }
    public Dictionary<int, long> Durations { get; } = [];

    public bool IsEmpty => Entered == 0 && Completed == 0 && Dropped == 0 && Durations.Values.All(v => v == 0);
}

/// <summary>
/// What one instance adds to the funnel aggregates. An instance counts under its start day, in the
/// all-segments cell ("") and in its own segment's. Per stage: entered when it reached that stage or a later
/// one; completed when it moved past it (or completed the journey in it); dropped when abandoned there.
/// The pseudo-stage <see cref="JourneyStage"/> holds started / completed / abandoned and end-to-end durations.
/// Contributions are added and subtracted, so a rebuilt instance replaces its old contribution exactly.
/// </summary>
public static class FunnelContribution
{
    public const string JourneyStage = "_journey";

    public static Dictionary<FunnelCellKey, FunnelCellDelta> Of(BuiltInstance instance, JourneySpec spec)
    {
        var cells = new Dictionary<FunnelCellKey, FunnelCellDelta>();
        var day = DateOnly.FromDateTime(instance.StartedAt);
        var segments = instance.Segment.Length == 0 ? [""] : new[] { "", instance.Segment };
        var firstAt = new Dictionary<int, DateTime>();
        foreach (var item in instance.Timeline)
        {
            if (!firstAt.TryGetValue(item.Stage, out var t) || item.Touchpoint.OccurredAt < t) firstAt[item.Stage] = item.Touchpoint.OccurredAt;
        }

        foreach (var segment in segments)
        {
            for (var s = 0; s <= instance.FurthestStage && s < spec.Stages.Count; s++)
            {
                var cell = Cell(cells, new FunnelCellKey(day, segment, spec.Stages[s].Key));
                cell.Entered++;
                var movedOn = s < instance.FurthestStage;
                var finishedHere = s == instance.FurthestStage && instance.State == InstanceState.Completed;
                if (movedOn || finishedHere) cell.Completed++;
                if (s == instance.FurthestStage && instance.State == InstanceState.Abandoned) cell.Dropped++;

                // Time in stage: from its first touchpoint to the first one of the next stage reached (or completion).
                if (firstAt.TryGetValue(s, out var enteredAt))
                {
                    DateTime? leftAt = movedOn
                        ? firstAt.Where(f => f.Key > s).Select(f => f.Value).DefaultIfEmpty().Min()
                        : finishedHere ? instance.EndedAt : null;
                    if (leftAt is { } left && left >= enteredAt) Add(cell.Durations, DurationHistogram.BucketOf(left - enteredAt), 1);
                }
            }

            var journey = Cell(cells, new FunnelCellKey(day, segment, JourneyStage));
            journey.Entered++;
            if (instance.State == InstanceState.Completed)
            {
                journey.Completed++;
                if (instance.EndedAt is { } ended) Add(journey.Durations, DurationHistogram.BucketOf(ended - instance.StartedAt), 1);
            }
            if (instance.State == InstanceState.Abandoned) journey.Dropped++;
        }
        return cells;
    }

    /// <summary>new − old, cell by cell, leaving out cells that do not change.</summary>
    public static Dictionary<FunnelCellKey, FunnelCellDelta> Difference(
        IEnumerable<Dictionary<FunnelCellKey, FunnelCellDelta>> added, IEnumerable<Dictionary<FunnelCellKey, FunnelCellDelta>> removed)
    {
        var result = new Dictionary<FunnelCellKey, FunnelCellDelta>();
        foreach (var contribution in added) Merge(result, contribution, 1);
        foreach (var contribution in removed) Merge(result, contribution, -1);
        foreach (var key in result.Where(r => r.Value.IsEmpty).Select(r => r.Key).ToList()) result.Remove(key);
        return result;
    }

    private static void Merge(Dictionary<FunnelCellKey, FunnelCellDelta> into, Dictionary<FunnelCellKey, FunnelCellDelta> from, int sign)
    {
        foreach (var (key, delta) in from)
        {
            var cell = Cell(into, key);
            cell.Entered += sign * delta.Entered;
            cell.Completed += sign * delta.Completed;
            cell.Dropped += sign * delta.Dropped;
            foreach (var (bucket, count) in delta.Durations) Add(cell.Durations, bucket, sign * count);
        }
    }

    private static FunnelCellDelta Cell(Dictionary<FunnelCellKey, FunnelCellDelta> cells, FunnelCellKey key)
    {
        if (!cells.TryGetValue(key, out var cell)) cells[key] = cell = new FunnelCellDelta();
        return cell;
    }

    private static void Add(Dictionary<int, long> counts, int bucket, long count)
    {
        counts[bucket] = counts.GetValueOrDefault(bucket) + count;
        if (counts[bucket] == 0) counts.Remove(bucket);
    }
}
