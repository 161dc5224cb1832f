using System.CommandLine;
using Google.Protobuf;

namespace CxMesh.Cli;

/// <summary>
/// What a command prints: <c>table</c> (for people: tables and sentences) or <c>json</c> (for scripts: the response
/// message as proto JSON, one document on stdout; progress bars and chatter are left out).
/// </summary>
internal static class Output
{
    public static readonly Option<string> Option = CreateOption();

    private static Option<string> CreateOption()
    {
        var option = new Option<string>("--output", "-o")
        {
            Description = "table (for people) or json (the response as proto JSON, for scripts)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CXMESH_OUTPUT") ?? "table",
            Recursive = true,
        };
        option.AcceptOnlyFromAmong("table", "json");
        return option;
    }

    public static bool Json(ParseResult result) => result.GetValue(Option) == "json";

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation());

    /// <summary>Prints <paramref name="message"/> as JSON, or runs <paramref name="human"/>.</summary>
    public static void Print(ParseResult result, IMessage message, Action human)
    {
        if (Json(result))
        {
            Console.Out.WriteLine(Formatter.Format(message));
        }
        else
        {
            human();
        }
    }
}
