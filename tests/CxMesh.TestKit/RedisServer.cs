using System.Diagnostics;
using System.Net.Sockets;

namespace CxMesh.TestKit;

/// <summary>A Redis for tests: <c>CXMESH_TEST_REDIS</c> (host:port) when set, otherwise a throwaway redis-server on a free port.</summary>
public sealed class RedisServer
{
    private RedisServer(string endpoint) => Endpoint = endpoint;

    /// <summary>host:port</summary>
    public string Endpoint { get; }

    public static RedisServer Start()
    {
        var external = Environment.GetEnvironmentVariable("CXMESH_TEST_REDIS");
        if (!string.IsNullOrWhiteSpace(external)) return new RedisServer(external);

        var binary = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server not found. Install it (apt-get install redis-server) or set CXMESH_TEST_REDIS.");
        var port = Ports.Free();
        var dir = Path.Combine(Path.GetTempPath(), $"cxmesh-redis-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var psi = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir })
        {
            psi.ArgumentList.Add(a);
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
            }
        };
        Watchdog.WhenProcessEnds($"kill {process.Id} 2>/dev/null; rm -rf '{dir}'");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient("127.0.0.1", port);
                return new RedisServer($"127.0.0.1:{port}");
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        throw new InvalidOperationException($"redis-server did not listen on {port}");
    }
}
