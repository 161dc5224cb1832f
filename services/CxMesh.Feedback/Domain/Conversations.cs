using System.Text.RegularExpressions;

namespace CxMesh.Feedback.Domain;

public enum Speaker
{
    Customer,
    Agent,
    System,
}

/// <summary>One turn of a conversation.</summary>
public sealed record Turn(Speaker Speaker, string Text, DateTimeOffset? At);

/// <summary>
/// Contact-centre conversations: who a speaker label means, transcripts read as turns, and the customer's words
/// (the only part of a conversation that is analysed).
/// </summary>
public static partial class Conversations
{
    public const int MaxTurns = 2_000;

    private static readonly Dictionary<string, Speaker> Labels = new(StringComparer.OrdinalIgnoreCase)
    {
        ["customer"] = Speaker.Customer,
        ["client"] = Speaker.Customer,
        ["user"] = Speaker.Customer,
        ["end-user"] = Speaker.Customer,
        ["end_user"] = Speaker.Customer,
        ["enduser"] = Speaker.Customer,
        ["caller"] = Speaker.Customer,
        ["consumer"] = Speaker.Customer,
        ["visitor"] = Speaker.Customer,
        ["requester"] = Speaker.Customer,
        ["客户"] = Speaker.Customer,
        ["顾客"] = Speaker.Customer,
        ["用户"] = Speaker.Customer,
        ["买家"] = Speaker.Customer,
        ["来电人"] = Speaker.Customer,
        ["agent"] = Speaker.Agent,
        ["rep"] = Speaker.Agent,
        ["representative"] = Speaker.Agent,
        ["advisor"] = Speaker.Agent,
        ["adviser"] = Speaker.Agent,
        ["staff"] = Speaker.Agent,
        ["support"] = Speaker.Agent,
        ["operator"] = Speaker.Agent,
        ["employee"] = Speaker.Agent,
        ["客服"] = Speaker.Agent,
        ["坐席"] = Speaker.Agent,
        ["卖家"] = Speaker.Agent,
        ["员工"] = Speaker.Agent,
        ["bot"] = Speaker.System,
        ["system"] = Speaker.System,
        ["ivr"] = Speaker.System,
        ["automated"] = Speaker.System,
        ["auto"] = Speaker.System,
        ["机器人"] = Speaker.System,
        ["系统"] = Speaker.System,
    };

    /// <summary>The speaker a label names ("Customer", "客服", "end-user"), or null.</summary>
    public static Speaker? SpeakerOf(string label) => Labels.TryGetValue(label.Trim(), out var speaker) ? speaker : null;

    /// <summary>The labels understood, for messages.</summary>
    public static string KnownLabels => "customer, client, user, caller, 客户, 顾客, 用户 / agent, rep, advisor, support, 客服, 坐席 / bot, system, ivr, 机器人";

    /// <summary>The customer's words: their turns, one per line. This is what is analysed.</summary>
    public static string CustomerText(IEnumerable<Turn> turns) =>
        string.Join("\n", turns.Where(t => t.Speaker == Speaker.Customer && t.Text.Trim().Length > 0).Select(t => t.Text.Trim()));

    /// <summary>
    /// A transcript as contact-centre tools export it: each turn starts a line with its speaker's label and a colon
    /// ("Agent: How can I help?", "客户：快递还没到"), optionally after a time in brackets; lines without a label continue
    /// the turn before. Null and the problem when a line before any label, or no label at all, is found.
    /// </summary>
    public static (IReadOnlyList<Turn>? Turns, string? Problem) ParseTranscript(string transcript)
    {
        var turns = new List<(Speaker Speaker, List<string> Lines)>();
        var lines = transcript.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var labelled = LabelledLine().Match(line);
            if (labelled.Success && SpeakerOf(labelled.Groups["label"].Value) is { } speaker)
            {
                if (turns.Count >= MaxTurns) return (null, $"a conversation holds at most {MaxTurns:N0} turns.");
                turns.Add((speaker, [labelled.Groups["text"].Value]));
            }
            else if (turns.Count > 0)
            {
                turns[^1].Lines.Add(line);
            }
            else if (line.Trim().Length > 0)
            {
                var label = labelled.Success ? $"'{labelled.Groups["label"].Value.Trim()}' is not a speaker label ({KnownLabels})" : "it names no speaker";
                return (null, $"line {i + 1} of the transcript starts no turn: {label}. Each turn starts with its speaker and a colon (\"Customer: ...\").");
            }
        }
        if (turns.Count == 0) return (null, "the transcript holds no turn (\"Customer: ...\", \"Agent: ...\").");
        return (turns.Select(t => new Turn(t.Speaker, string.Join("\n", t.Lines).Trim(), null)).ToList(), null);
    }

    [GeneratedRegex(@"^\s*(?:\[[^\]\n]{1,40}\]\s*)?(?<label>[^:：\n]{1,30}?)\s*[:：]\s?(?<text>.*)$")]
    private static partial Regex LabelledLine();
}
