using CxMesh.TestKit;

namespace CxMesh.Scoring.Tests;

/// <summary>A scoring host with databases of its own, for tests whose "all" figures must hold only what they deliver.</summary>
public sealed class OwnScoringHost : IAsyncLifetime
{
    public CxMeshTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await CxMeshTestHost.StartAsync(s => s.Services = "scoring");

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
