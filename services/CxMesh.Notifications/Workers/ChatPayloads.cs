using System.Text.Json;
using System.Text.Json.Nodes;
using CxMesh.Notifications.Domain;

namespace CxMesh.Notifications.Workers;

/// <summary>
/// Messages in the formats of each chat tool's incoming webhook: Slack (text with mrkdwn link), Microsoft Teams (an
/// Adaptive Card, as Workflows and the older connectors accept), WeCom group robots (markdown) and DingTalk robots
/// (markdown). No contact details or customer ids ever enter a message: only titles, redacted words and links.
/// </summary>
public static class ChatPayloads
{
    public static string For(string kind, Message message)
    {
        if (kind == "slack") return Json(new JsonObject { ["text"] = $"*{Escape(message.Subject)}*\n{Escape(message.Body)}" + (message.Link is { } l ? $"\n<{l}|Open in CxMesh>" : "") });
        if (kind == "teams")
        {
            return Json(new JsonObject
            {
                ["type"] = "message",
                ["attachments"] = new JsonArray(new JsonObject
                {
                    ["contentType"] = "application/vnd.microsoft.card.adaptive",
                    ["content"] = new JsonObject
                    {
                        ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
                        ["type"] = "AdaptiveCard",
                        ["version"] = "1.4",
                        ["body"] = new JsonArray(
                            new JsonObject { ["type"] = "TextBlock", ["text"] = message.Subject, ["weight"] = "Bolder", ["wrap"] = true },
                            new JsonObject { ["type"] = "TextBlock", ["text"] = message.Body, ["wrap"] = true }),
                        ["actions"] = message.Link is { } link
                            ? new JsonArray(new JsonObject { ["type"] = "Action.OpenUrl", ["title"] = "Open in CxMesh", ["url"] = link })
                            : new JsonArray(),
                    },
                }),
            });
        }
        if (kind == "wecom") return Json(new JsonObject { ["msgtype"] = "markdown", ["markdown"] = new JsonObject { ["content"] = Markdown(message) } });
        if (kind == "dingtalk") return Json(new JsonObject { ["msgtype"] = "markdown", ["markdown"] = new JsonObject { ["title"] = message.Subject, ["text"] = Markdown(message) } });
        throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a chat channel kind.");
    }

    /// <summary>
    /// Why a chat tool refused a message it answered with HTTP 2xx, or null: WeCom and DingTalk answer 200 with
    /// <c>{"errcode": n}</c>, where anything but 0 is a refusal.
    /// </summary>
    public static string? Refusal(string kind, string responseBody)
    {
        if (kind is not ("wecom" or "dingtalk")) return null;
        try
        {
            using var doc = JsonDocument.Parse(responseBody);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("errcode", out var code) && code.ValueKind == JsonValueKind.Number)
            {
                return code.GetInt32() == 0 ? null : $"errcode {code.GetInt32()}: {(doc.RootElement.TryGetProperty("errmsg", out var m) ? m.ToString() : "")}";
            }
            return "the answer carried no errcode.";
        }
        catch (JsonException)
        {
            return "the answer was not JSON.";
        }
    }

    private static string Markdown(Message m) => $"**{m.Subject}**\n\n{m.Body}" + (m.Link is { } l ? $"\n\n[Open in CxMesh]({l})" : "");

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Json(JsonNode node) => node.ToJsonString();
}
