using System.ComponentModel.DataAnnotations;

namespace CxMesh.Platform.Hosting;

public enum EventDelivery
{
    /// <summary>The relay hands events to the handlers in this process (all-in-one mode).</summary>
    InProcess,
    /// <summary>The relay publishes through the Dapr sidecar; handlers are reached through Dapr subscriptions.</summary>
    Dapr,
}

/// <summary>Configuration section <c>CxMesh</c>.</summary>
public sealed class CxMeshOptions
{
    public const string Section = "CxMesh";

    /// <summary><c>all</c> or a comma-separated list of service names.</summary>
    [Required(ErrorMessage = "CxMesh:Services is required (all, or a comma-separated list of services).")]
    public string Services { get; set; } = "all";

    [Range(0, 65535, ErrorMessage = "CxMesh:GrpcPort must be a TCP port (0-65535).")]
    public int GrpcPort { get; set; } = 5080;

    [Range(0, 65535, ErrorMessage = "CxMesh:HttpPort must be a TCP port (0-65535).")]
    public int HttpPort { get; set; } = 5081;

    [Required(ErrorMessage = "CxMesh:BindAddress is required.")]
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>Defaults to InProcess when every service is hosted, Dapr otherwise.</summary>
    public EventDelivery? Delivery { get; set; }

    /// <summary>Defaults to true when every service is hosted (all-in-one), false otherwise (a migrate Job runs them).</summary>
    public bool? MigrateOnStart { get; set; }

    /// <summary>
    /// The Dapr sidecar's app API token (its APP_API_TOKEN; also read from that variable): with Dapr delivery, event
    /// routes accept only calls that carry it in the dapr-api-token header. Required then.
    /// </summary>
    public string? AppApiToken { get; set; }

    [Required(ErrorMessage = "CxMesh:PubSubName is required.")]
    public string PubSubName { get; set; } = "pubsub";
}
