namespace CxMesh.Platform.Hosting;

public static class HealthTags
{
    /// <summary>Checks of dependencies (Postgres, Redis): readiness only, never liveness.</summary>
    public const string Ready = "ready";

    /// <summary>The process itself: liveness checks nothing external, so a dependency outage never restarts pods.</summary>
    public const string Live = "live";
}
