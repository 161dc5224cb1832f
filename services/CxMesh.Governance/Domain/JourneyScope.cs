namespace CxMesh.Governance.Domain;

/// <summary>
/// What a journey-owner may act on: the journeys they sponsor, own or own a touchpoint of, and those journeys' actions,
/// plus any action assigned to them. Admins act on everything; other roles are decided by the RPC's roles alone.
/// </summary>
public static class JourneyScope
{
    /// <summary>Null when allowed; otherwise why not, naming the journey.</summary>
    public static string? RefuseJourney(string member, string journeyKey, IReadOnlySet<string> ownJourneys) =>
        ownJourneys.Contains(journeyKey)
            ? null
            : $"journey '{journeyKey}' is not yours: {member} does not sponsor or own it, nor own one of its touchpoints.";

    /// <summary>Null when allowed; otherwise why not, naming the action's journey.</summary>
    public static string? RefuseAction(string member, Guid actionId, string? actionOwner, string? journeyKey, IReadOnlySet<string> ownJourneys) =>
        actionOwner == member || journeyKey is not null && ownJourneys.Contains(journeyKey)
            ? null
            : journeyKey is null
                ? $"action {actionId} is not yours: it is assigned to {(actionOwner ?? "a team")} and belongs to no journey of yours."
                : $"action {actionId} belongs to journey '{journeyKey}', which {member} does not sponsor or own, nor own one of its touchpoints.";
}
