namespace CxMesh.Platform.Hosting;

public static class HealthTags
{
    /// <summary>Checks of dependencies (Postgres, Redis): readiness only, never liveness.</summary>
    public const string Ready = "ready";
}
