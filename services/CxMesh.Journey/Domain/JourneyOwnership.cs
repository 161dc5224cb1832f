namespace CxMesh.Journey.Domain;

/// <summary>Whose journey it is: its sponsor, its owner and the owners of its touchpoints may change it.</summary>
public static class JourneyOwnership
{
    public static bool Includes(string? sponsorId, string? ownerId, IEnumerable<string> touchpointOwners, string member) =>
        member.Length > 0 && (sponsorId == member || ownerId == member || touchpointOwners.Contains(member));
}
