using System.Net;
using CxMesh.Notifications.Data;
using Microsoft.AspNetCore.Http;

namespace CxMesh.Notifications.Api;

/// <summary>
/// The unsubscribe link of every e-mail. Opening it asks to confirm (mail scanners open links; only a POST switches a
/// channel off); a mail client's one-click unsubscribe (RFC 8058) POSTs to it directly. The token is the only key: it
/// switches off that one channel and reveals nothing.
/// </summary>
public static class Unsubscribe
{
    public const string Path = "/notifications/unsubscribe";

    public static IResult Confirm(string? token) =>
        string.IsNullOrEmpty(token) || token.Length > 100
            ? Page(StatusCodes.Status400BadRequest, "This unsubscribe link is incomplete.", null)
            : Page(StatusCodes.Status200OK, "Stop these CxMesh notifications?", token);

    public static async Task<IResult> ApplyAsync(HttpContext http, ChannelStore channels, CancellationToken ct)
    {
        string? token = http.Request.Query["token"];
        if (string.IsNullOrEmpty(token) && http.Request.HasFormContentType) token = (await http.Request.ReadFormAsync(ct))["token"];
        if (string.IsNullOrEmpty(token) || token.Length > 100) return Page(StatusCodes.Status400BadRequest, "This unsubscribe link is incomplete.", null);
        var channel = await channels.UnsubscribeAsync(token, ct);
        return channel is null
            ? Page(StatusCodes.Status404NotFound, "This unsubscribe link is not known (the channel may have been removed).", null)
            : Page(StatusCodes.Status200OK, $"Done: this {channel.Kind} channel sends nothing more. Turn it on again in CxMesh by saving it.", null);
    }

    private static IResult Page(int status, string text, string? token)
    {
        var form = token is null ? "" :
            $"<form method=post action=\"{Path}\"><input type=hidden name=token value=\"{WebUtility.HtmlEncode(token)}\"><button type=submit>Unsubscribe</button></form>";
        return Results.Content(
            $"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\"><title>CxMesh notifications</title></head>" +
            $"<body style=\"font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem\"><h1 style=\"font-size:1.3rem\">{WebUtility.HtmlEncode(text)}</h1>{form}</body></html>",
            "text/html; charset=utf-8", statusCode: status);
    }
}
