namespace CxMesh.Journey.Domain;

public sealed record RecordedTouchpoint(Guid Id, string TouchpointKey, DateTime OccurredAt, IReadOnlyDictionary<string, string> Attributes);

public enum InstanceState
{
    Open,
    Completed,
    Abandoned,
}

public sealed record TimelineItem(RecordedTouchpoint Touchpoint, int Stage);

public sealed record BuiltInstance(
    Guid Id,
    int Version,
    InstanceState State,
    DateTime StartedAt,
    DateTime LastActivityAt,
    DateTime? EndedAt,
    int FurthestStage,
    string Segment,
    Guid StartTouchpointId,
    IReadOnlyList<TimelineItem> Timeline);

/// <summary>An instance as stored before this rebuild: its id and the definition version it started on.</summary>
public sealed record KnownInstance(Guid Id, int Version, Guid StartTouchpointId);

/// <summary>
/// Turns a customer's touchpoints of one journey into journey instances. Pure and deterministic, so the
/// result depends only on the touchpoints (ordered by when they occurred, not when they arrived):
/// late and out-of-order events simply rebuild the same instances.
/// Rules: a start touchpoint opens an instance, or continues the open one; other touchpoints advance the
/// open instance; an end touchpoint completes it; a gap longer than the inactivity timeout abandons it.
/// Touchpoints with no open instance wait unplaced until an earlier start arrives.
/// </summary>
public static class InstanceBuilder
{
    public static (IReadOnlyList<BuiltInstance> Instances, IReadOnlyList<RecordedTouchpoint> Unplaced) Build(
        IEnumerable<RecordedTouchpoint> touchpoints,
        JourneySpec current,
        Func<int, JourneySpec> specOfVersion,
        IReadOnlyCollection<KnownInstance> known,
        DateTime now,
        Func<Guid> newId)
    {
        var knownByStart = known.ToDictionary(k => k.StartTouchpointId);
        var instances = new List<BuiltInstance>();
        var unplaced = new List<RecordedTouchpoint>();
        Draft? open = null;

        foreach (var tp in touchpoints.OrderBy(t => t.OccurredAt).ThenBy(t => t.Id))
        {
            if (open is not null && tp.OccurredAt - open.LastActivityAt > open.Spec.InactivityTimeout)
            {
                instances.Add(open.Close(InstanceState.Abandoned, open.LastActivityAt + open.Spec.InactivityTimeout, knownByStart, newId));
                open = null;
            }

            var spec = open?.Spec ?? current;
            var found = spec.Find(tp.TouchpointKey);
            if (found is null)
            {
                // Not part of this version (the definition changed since): it cannot advance this instance.
                unplaced.Add(tp);
                continue;
            }
            var (stage, definition) = found.Value;

            if (open is null)
            {
                if (!definition.StartsJourney)
                {
                    unplaced.Add(tp);
                    continue;
                }
                var version = knownByStart.TryGetValue(tp.Id, out var k) ? k.Version : current.Version;
                var instanceSpec = version == current.Version ? current : specOfVersion(version);
                open = new Draft(instanceSpec, tp);
                var startStage = instanceSpec.Find(tp.TouchpointKey)?.Stage ?? stage;
                open.Add(tp, startStage);
                if (definition.EndsJourney)
                {
                    instances.Add(open.Close(InstanceState.Completed, tp.OccurredAt, knownByStart, newId));
                    open = null;
                }
                continue;
            }

            open.Add(tp, stage);
            if (definition.EndsJourney)
            {
                instances.Add(open.Close(InstanceState.Completed, tp.OccurredAt, knownByStart, newId));
                open = null;
            }
        }

        if (open is not null)
        {
            instances.Add(now - open.LastActivityAt > open.Spec.InactivityTimeout
                ? open.Close(InstanceState.Abandoned, open.LastActivityAt + open.Spec.InactivityTimeout, knownByStart, newId)
                : open.Close(InstanceState.Open, null, knownByStart, newId));
        }
        return (instances, unplaced);
    }

    private sealed class Draft(JourneySpec spec, RecordedTouchpoint start)
    {
        private readonly List<TimelineItem> _timeline = [];
        private int _furthest = -1;

        public JourneySpec Spec { get; } = spec;
        public DateTime LastActivityAt { get; private set; } = start.OccurredAt;

        public void Add(RecordedTouchpoint tp, int stage)
        {
            _timeline.Add(new TimelineItem(tp, stage));
            _furthest = Math.Max(_furthest, stage);
            LastActivityAt = tp.OccurredAt;
        }

        public BuiltInstance Close(InstanceState state, DateTime? endedAt, Dictionary<Guid, KnownInstance> knownByStart, Func<Guid> newId)
        {
            // Keep the id of the earliest already-known instance this one absorbs, so ids stay stable as late events arrive.
            var id = _timeline.Select(t => knownByStart.GetValueOrDefault(t.Touchpoint.Id)).FirstOrDefault(k => k is not null)?.Id ?? newId();
            var first = _timeline[0].Touchpoint;
            var segment = first.Attributes.GetValueOrDefault(Spec.SegmentAttribute) ?? "";
            return new BuiltInstance(id, Spec.Version, state, first.OccurredAt, LastActivityAt, endedAt, _furthest, segment, first.Id, _timeline.ToList());
        }
    }
}
