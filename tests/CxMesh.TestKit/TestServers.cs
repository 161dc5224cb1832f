namespace CxMesh.TestKit;

/// <summary>The Postgres and Redis shared by every test in this process (each test class still gets its own databases and key prefix).</summary>
public static class TestServers
{
    private static readonly Lazy<PostgresServer> LazyPostgres = new(PostgresServer.Start);
    private static readonly Lazy<RedisServer> LazyRedis = new(RedisServer.Start);

    public static PostgresServer Postgres => LazyPostgres.Value;
    public static RedisServer Redis => LazyRedis.Value;
}
