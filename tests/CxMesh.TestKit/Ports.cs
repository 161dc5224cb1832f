using System.Net;
using System.Net.Sockets;

namespace CxMesh.TestKit;

public static class Ports
{
    /// <summary>A free loopback port, chosen by the OS at run time.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
