using System.Net.Sockets;
using Npgsql;
using StackExchange.Redis;

namespace CxMesh.Platform.Errors;

/// <summary>Recognises failures of a dependency that a retry may fix: Postgres or Redis down or slow.</summary>
public static class TransientFailures
{
    public static bool IsTransient(Exception? ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    // Server-side errors are transient only for the classes Npgsql marks so
                    // (connection exceptions, shutdown, too many connections, serialization...).
                    return pg.IsTransient;
                case NpgsqlException npg when npg.IsTransient:
                case RedisConnectionException:
                case RedisTimeoutException:
                case TimeoutException:
                case SocketException:
                case IOException:
                    return true;
            }
        }
        return false;
    }
}
