using System.Buffers;
using System.Collections.Concurrent;
using CxMesh.TestKit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace CxMesh.Notifications.Tests;

/// <summary>A real SMTP server on loopback that keeps every message it receives.</summary>
public sealed class SmtpReceiver : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    public ConcurrentQueue<MimeMessage> Messages { get; } = new();
    public int Port { get; }

    private sealed class Store(SmtpReceiver receiver) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            receiver.Messages.Enqueue(MimeMessage.Load(stream, cancellationToken));
            return Task.FromResult(SmtpResponse.Ok);
        }
    }

    public SmtpReceiver()
    {
        Port = Ports.Free();
        var options = new SmtpServerOptionsBuilder().ServerName("localhost").Port(Port).Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(this));
        _running = new SmtpServer.SmtpServer(options, services).StartAsync(_stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}

/// <summary>
/// The incoming webhooks of Slack, Teams, WeCom and DingTalk on real loopback HTTP, answering as each does (WeCom and
/// DingTalk with an errcode), or failing the way it is told to.
/// </summary>
public sealed class ChatReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failuresLeft;

    public sealed record Received(string Tool, string Body, DateTimeOffset At);

    public ConcurrentQueue<Received> Requests { get; } = new();
    public string BaseUrl { get; }

    /// <summary>How the failing requests fail: "500", or an errcode answer ("errcode").</summary>
    public string FailMode { get; private set; } = "500";

    /// <summary>The next <paramref name="times"/> requests fail as <paramref name="mode"/> says.</summary>
    public void FailNext(string mode, int times) => (FailMode, _failuresLeft) = (mode, times);

    private ChatReceiver(WebApplication app, string baseUrl) => (_app, BaseUrl) = (app, baseUrl);

    public string Url(string tool) => $"{BaseUrl}/{tool}/hook";

    public static async Task<ChatReceiver> StartAsync()
    {
        var port = Ports.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        ChatReceiver? receiver = null;
        app.MapPost("/{tool}/hook", async (string tool, HttpContext http) =>
        {
            var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
            receiver!.Requests.Enqueue(new Received(tool, body, DateTimeOffset.UtcNow));
            var ok = tool is "wecom" or "dingtalk" ? Results.Json(new { errcode = 0, errmsg = "ok" }) : Results.Text("1");
            if (Interlocked.Decrement(ref receiver._failuresLeft) < 0) return ok;
            return receiver.FailMode == "errcode" ? Results.Json(new { errcode = 93000, errmsg = "invalid webhook url" }) : Results.StatusCode(500);
        });
        await app.StartAsync();
        receiver = new ChatReceiver(app, $"http://127.0.0.1:{port}");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
