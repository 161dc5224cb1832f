namespace CxMesh.Platform.Redis;

public sealed class RedisOptions
{
    public const string ConnectionStringKey = "ConnectionStrings:redis";
    public const string Section = "Redis";

    /// <summary>Prefix of every key, <c>&lt;prefix&gt;:&lt;service&gt;:&lt;thing&gt;:&lt;id&gt;</c>. Lets several deployments share one Redis.</summary>
    [System.ComponentModel.DataAnnotations.RegularExpression("^[A-Za-z0-9._-]{1,64}$", ErrorMessage = "Redis:KeyPrefix must be 1-64 characters of letters, digits, '.', '_' or '-'.")]
    public string KeyPrefix { get; set; } = "cxmesh";
}
