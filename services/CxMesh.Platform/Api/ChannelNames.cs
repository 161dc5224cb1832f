using CxMesh.Common.V1;

namespace CxMesh.Platform.Api;

/// <summary>
/// Channel names as scopes, alerts and settings show them (survey, complaint, contact-centre, web, self-service,
/// social, review, other); null for an unspecified channel.
/// </summary>
public static class ChannelNames
{
    public static string? Name(Channel channel) => channel switch
    {
        Channel.Unspecified => null,
        Channel.ContactCentre => "contact-centre",
        Channel.SelfService => "self-service",
        _ => channel.ToString().ToLowerInvariant(),
    };
}
