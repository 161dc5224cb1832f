using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace CxMesh.TestKit;

/// <summary>
/// A loopback TCP proxy in front of a real server that a test can take down and bring back:
/// <see cref="GoDown"/> cuts every open connection and refuses new ones, <see cref="ComeBack"/> listens again
/// on the same port. Lets a test fail Postgres or Redis for one host without disturbing other tests.
/// </summary>
public sealed class TcpFaultProxy : IAsyncDisposable
{
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly ConcurrentDictionary<TcpClient, byte> _open = new();
    private TcpListener? _listener;
    private CancellationTokenSource _cts = new();

    public TcpFaultProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        Port = Ports.Free();
        ComeBack();
    }

    public int Port { get; }
    public bool IsDown => _listener is null;

    public void GoDown()
    {
        _cts.Cancel();
        _listener?.Stop();
        _listener = null;
        foreach (var client in _open.Keys)
        {
            try
            {
                // Reset rather than close, as a dead server or a cut network would.
                client.Client?.LingerState = new LingerOption(true, 0);
            }
            catch (Exception)
            {
                // Already closed.
            }
            client.Dispose();
        }
        _open.Clear();
    }

    public void ComeBack()
    {
        if (_listener is not null) return;
        _cts = new CancellationTokenSource();
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        var ct = _cts.Token;
        _ = Task.Run(async () =>
        {
            while (!ct.IsCancellationRequested)
            {
                TcpClient inbound;
                try
                {
                    inbound = await listener.AcceptTcpClientAsync(ct);
                }
                catch (Exception)
                {
                    return;
                }
                _ = PipeAsync(inbound, ct);
            }
        }, ct);
    }

    private async Task PipeAsync(TcpClient inbound, CancellationToken ct)
    {
        var outbound = new TcpClient();
        _open[inbound] = 0;
        _open[outbound] = 0;
        try
        {
            await outbound.ConnectAsync(_targetHost, _targetPort, ct);
            var a = inbound.GetStream();
            var b = outbound.GetStream();
            await Task.WhenAny(a.CopyToAsync(b, ct), b.CopyToAsync(a, ct));
        }
        catch (Exception)
        {
            // A cut connection ends here.
        }
        finally
        {
            _open.TryRemove(inbound, out _);
            _open.TryRemove(outbound, out _);
            inbound.Dispose();
            outbound.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        GoDown();
        return ValueTask.CompletedTask;
    }
}
