using System.Text;
using CxMesh.Notifications.Data;
using CxMesh.Notifications.Domain;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace CxMesh.Notifications.Workers;

/// <summary>
/// Sends due messages: gathers due digests into one message per channel, then sends each pending message by e-mail
/// (SMTP through MailKit) or to its chat webhook, retrying with exponential backoff until it is sent or given up.
/// </summary>
public sealed class NotificationSender(DeliveryStore store, IHttpClientFactory http, TimeProvider clock, IOptions<NotificationsOptions> options,
    IOptions<SmtpOptions> smtpOptions, ILogger<NotificationSender> logger) : BackgroundService
{
    public const string Client = "notification-webhooks";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await SendDueAsync(stoppingToken) > 0) continue;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Sending notifications failed; retrying");
            }
            try
            {
                await Task.Delay(options.Value.PollInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One round: digests composed, then up to 20 due messages sent. Returns how many were attempted.</summary>
    public async Task<int> SendDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await store.ComposeDigestsAsync((channel, items) =>
        {
            var digest = Digests.Compose(items.Select(i => new Message(i.Subject, i.Body, i.Link)).ToList(), options.Value.ConsoleBase.Length > 0 ? options.Value.ConsoleBase + "/" : null);
            return new DeliveryRow
            {
                DeliveryId = Guid.CreateVersion7(),
                ChannelId = channel.ChannelId,
                EventId = $"digest:{now:yyyyMMddHHmmss}",
                Topic = NotificationTopics.Digest,
                Subject = digest.Subject,
                Body = digest.Body,
                Link = digest.Link,
                State = "pending",
                NextAttemptAt = now,
            };
        }, now, ct);
        var o = options.Value;
        var due = await store.ClaimAsync(now, now + o.Timeout + TimeSpan.FromSeconds(30), ct);
        foreach (var delivery in due)
        {
            var error = delivery.Enabled ? await SendAsync(delivery, ct) : "the channel was unsubscribed.";
            var attempt = delivery.Attempts + 1;
            var at = clock.GetUtcNow().UtcDateTime;
            var backoff = TimeSpan.FromTicks(Math.Min(o.InitialBackoff.Ticks * (1L << Math.Min(attempt - 1, 20)), o.MaxBackoff.Ticks));
            var giveUp = error is not null && (!delivery.Enabled || at + backoff - delivery.CreatedAt > o.GiveUpAfter);
            if (error is not null) logger.LogInformation("Notification {Delivery} to a {Kind} channel failed (attempt {Attempt}): {Error}", delivery.DeliveryId, delivery.Kind, attempt, error);
            await store.RecordAsync(delivery.DeliveryId, error is null, error, at + backoff, giveUp, ct);
            NotificationsMetrics.SendAttempts.Add(1, new KeyValuePair<string, object?>("kind", delivery.Kind),
                new KeyValuePair<string, object?>("outcome", error is null ? "sent" : giveUp ? "gave_up" : "failed"));
        }
        return due.Count;
    }

    /// <summary>Sends one message; null when the channel took it, else why not.</summary>
    private async Task<string?> SendAsync(DeliveryRow d, CancellationToken ct)
    {
        var message = new Message(d.Subject, d.Body, d.Link);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.Value.Timeout);
            return d.Kind == "email" ? await EmailAsync(d, message, timeout.Token) : await ChatAsync(d, message, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"no answer within {options.Value.Timeout.TotalSeconds:0} s";
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or System.Net.Sockets.SocketException or MailKit.ProtocolException
                                       or MailKit.CommandException or AuthenticationException or SslHandshakeException or ParseException)
        {
            return ex.Message;
        }
    }

    private async Task<string?> ChatAsync(DeliveryRow d, Message message, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, d.Address) { Content = new StringContent(ChatPayloads.For(d.Kind, message), Encoding.UTF8, "application/json") };
        using var response = await http.CreateClient(Client).SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode) return $"HTTP {(int)response.StatusCode}";
        return ChatPayloads.Refusal(d.Kind, body);
    }

    private async Task<string?> EmailAsync(DeliveryRow d, Message message, CancellationToken ct)
    {
        var smtp = smtpOptions.Value;
        if (smtp.Host.Length == 0) return "no SMTP server is configured (Notifications:Smtp:Host).";
        var unsubscribe = $"{options.Value.PublicBase}/notifications/unsubscribe?token={Uri.EscapeDataString(d.UnsubscribeToken)}";
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress(smtp.FromName, smtp.From));
        mail.To.Add(MailboxAddress.Parse(d.Address));
        mail.Subject = message.Subject;
        mail.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(new Uri(options.Value.PublicBase.Length > 0 ? options.Value.PublicBase : "http://cxmesh.local").Host);
        // One-click unsubscribe (RFC 8058): a mail client may POST to the link; a person following it is asked to confirm.
        mail.Headers.Add("List-Unsubscribe", $"<{unsubscribe}>");
        mail.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        mail.Headers.Add("X-CxMesh-Delivery", d.DeliveryId.ToString());
        var text = new StringBuilder(message.Body);
        if (message.Link is { } link) text.Append("\n\nOpen in CxMesh: ").Append(link);
        text.Append("\n\n--\nYou receive this because of a notification channel set up in CxMesh. Unsubscribe: ").Append(unsubscribe);
        var html = new StringBuilder("<!doctype html><html><body style=\"font-family:system-ui,sans-serif\">")
            .Append("<h2 style=\"font-size:1.1rem\">").Append(System.Net.WebUtility.HtmlEncode(message.Subject)).Append("</h2><p>")
            .Append(System.Net.WebUtility.HtmlEncode(message.Body).Replace("\n", "<br>", StringComparison.Ordinal)).Append("</p>");
        if (message.Link is { } href) html.Append("<p><a href=\"").Append(System.Net.WebUtility.HtmlEncode(href)).Append("\">Open in CxMesh</a></p>");
        html.Append("<hr><p style=\"color:#666;font-size:.8rem\">You receive this because of a notification channel set up in CxMesh. <a href=\"")
            .Append(System.Net.WebUtility.HtmlEncode(unsubscribe)).Append("\">Unsubscribe</a></p></body></html>");
        mail.Body = new BodyBuilder { TextBody = text.ToString(), HtmlBody = html.ToString() }.ToMessageBody();

        using var client = new SmtpClient();
        var security = smtp.Security switch
        {
            "none" => SecureSocketOptions.None,
            "starttls" => SecureSocketOptions.StartTls,
            "tls" => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.StartTlsWhenAvailable,
        };
        await client.ConnectAsync(smtp.Host, smtp.Port, security, ct);
        if (smtp.Username.Length > 0) await client.AuthenticateAsync(smtp.Username, smtp.Password, ct);
        await client.SendAsync(mail, ct);
        await client.DisconnectAsync(quit: true, ct);
        return null;
    }
}
