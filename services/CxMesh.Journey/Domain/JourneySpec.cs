namespace CxMesh.Journey.Domain;

public sealed record TouchpointSpec(string Key, bool StartsJourney, bool EndsJourney, bool IsReferral);

public sealed record StageSpec(string Key, IReadOnlyList<TouchpointSpec> Touchpoints);

/// <summary>One version of a journey definition, as instance building needs it.</summary>
public sealed class JourneySpec
{
    private readonly Dictionary<string, (int Stage, TouchpointSpec Touchpoint)> _byTouchpoint;

    public JourneySpec(string key, int version, IReadOnlyList<StageSpec> stages, TimeSpan inactivityTimeout, string segmentAttribute)
    {
        Key = key;
        Version = version;
        Stages = stages;
        InactivityTimeout = inactivityTimeout;
        SegmentAttribute = segmentAttribute;
        _byTouchpoint = new Dictionary<string, (int, TouchpointSpec)>(StringComparer.Ordinal);
        for (var s = 0; s < stages.Count; s++)
        {
            foreach (var tp in stages[s].Touchpoints) _byTouchpoint.TryAdd(tp.Key, (s, tp));
        }
    }

    public string Key { get; }
    public int Version { get; }
    public IReadOnlyList<StageSpec> Stages { get; }
    public TimeSpan InactivityTimeout { get; }
    /// <summary>The start touchpoint's attribute that names an instance's segment.</summary>
    public string SegmentAttribute { get; }

    public bool Has(string touchpointKey) => _byTouchpoint.ContainsKey(touchpointKey);

    public (int Stage, TouchpointSpec Touchpoint)? Find(string touchpointKey) =>
        _byTouchpoint.TryGetValue(touchpointKey, out var found) ? found : null;
}
