using Microsoft.AspNetCore.Builder;

namespace CxMesh.Platform.Hosting;

/// <summary>A service the one executable can host: its name and its Add/Map pair.</summary>
public sealed record ServiceModule(string Name, Action<WebApplicationBuilder> Add, Action<WebApplication> Map);

/// <summary>What this process hosts, decided at start-up from <c>CxMesh:Services</c>.</summary>
public sealed record HostedServices(IReadOnlyList<string> Names, bool AllInOne, EventDelivery Delivery);
