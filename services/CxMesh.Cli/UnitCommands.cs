using System.CommandLine;
using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Scoring.V1;
using Spectre.Console;
using Unit = CxMesh.Feedback.V1.Unit;

namespace CxMesh.Cli;

/// <summary>
/// `cxmesh units` (register and list stores, teams and agents; eNPS beside NPS per unit with their correlation; one unit's
/// scorecard) and `cxmesh praise` (sentences praising a unit by name).
/// </summary>
internal static class UnitCommands
{
    private static readonly Option<int> Days = new("--days") { Description = "The window: the last N days", DefaultValueFactory = _ => 90 };

    private static UnitKind Kind(string? name) => name switch
    {
        null or "" => UnitKind.Unspecified,
        "store" => UnitKind.Store,
        "team" => UnitKind.Team,
        "agent" => UnitKind.Agent,
        _ => throw new ArgumentException($"--kind must be store, team or agent; got '{name}'."),
    };

    private static string KindName(UnitKind kind) => kind.ToString().ToLowerInvariant();

    public static Command Units(Func<ParseResult, Connection> connect, ValueCommands.Runner run)
    {
        var command = new Command("units", "Stores, teams and agents: register them, list them, eNPS beside NPS across them, one unit's scorecard");

        var kind = new Option<string?>("--kind") { Description = "store, team or agent" };
        kind.AcceptOnlyFromAmong("store", "team", "agent");
        var parent = new Option<string?>("--parent") { Description = "Only the units directly under this one" };
        var list = new Command("list", "Registered units") { kind, parent };
        list.SetAction((result, ct) => run(result, async () =>
        {
            var client = new FeedbackService.FeedbackServiceClient(connect(result).Channel());
            var units = new List<Unit>();
            var request = new ListUnitsRequest { Kind = Kind(result.GetValue(kind)), ParentKey = result.GetValue(parent) ?? "" };
            do
            {
                var page = await client.ListUnitsAsync(request, deadline: Connection.Deadline(), cancellationToken: ct);
                units.AddRange(page.Units);
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken.Length > 0);
            var response = new ListUnitsResponse { Units = { units } };
            Output.Print(result, response, () =>
            {
                var table = new Table().AddColumns("key", "kind", "name", "parent", "aliases", "recognition");
                foreach (var u in units)
                {
                    table.AddRow(Markup.Escape(u.Key), KindName(u.Kind), Markup.Escape(u.Name), Markup.Escape(u.ParentKey), Markup.Escape(string.Join(", ", u.Aliases)),
                        Markup.Escape(string.Join(", ", new[] { u.RecognitionMemberId, u.RecognitionTeamId }.Where(x => x.Length > 0))));
                }
                AnsiConsole.Write(table);
            });
        }));
        command.Subcommands.Add(list);

        var key = new Argument<string>("key") { Description = "The unit's key (a-z, 0-9, . _ -)" };
        var saveKind = new Option<string>("--kind") { Description = "store, team or agent", Required = true };
        saveKind.AcceptOnlyFromAmong("store", "team", "agent");
        var name = new Option<string>("--name") { Description = "What people call it", Required = true };
        var saveParent = new Option<string?>("--parent") { Description = "The store or team it belongs to" };
        var alias = new Option<string[]>("--alias") { Description = "A name people use for it in their words (repeatable)", AllowMultipleArgumentsPerToken = false };
        var member = new Option<string?>("--member") { Description = "The member who hears of its praise" };
        var team = new Option<string?>("--team") { Description = "The team that hears of its praise" };
        var save = new Command("save", "Register a unit, or replace one") { key, saveKind, name, saveParent, alias, member, team };
        save.SetAction((result, ct) => run(result, async () =>
        {
            var client = new FeedbackService.FeedbackServiceClient(connect(result).Channel());
            var saved = await client.SaveUnitAsync(new SaveUnitRequest
            {
                Unit = new Unit
                {
                    Key = result.GetValue(key)!,
                    Kind = Kind(result.GetValue(saveKind)),
                    Name = result.GetValue(name)!,
                    ParentKey = result.GetValue(saveParent) ?? "",
                    Aliases = { result.GetValue(alias) ?? [] },
                    RecognitionMemberId = result.GetValue(member) ?? "",
                    RecognitionTeamId = result.GetValue(team) ?? "",
                },
            }, deadline: Connection.Deadline(), cancellationToken: ct);
            Output.Print(result, saved, () => Console.WriteLine($"{(saved.Created ? "Registered" : "Replaced")} {KindName(saved.Unit.Kind)} {saved.Unit.Key} ({saved.Unit.Name})."));
        }));
        command.Subcommands.Add(save);

        var compareKind = new Option<string>("--kind") { Description = "store, team or agent", DefaultValueFactory = _ => "store" };
        compareKind.AcceptOnlyFromAmong("store", "team", "agent");
        var minN = new Option<long>("--min-n") { Description = "Answers each figure needs for the unit to count in the correlation", DefaultValueFactory = _ => 10 };
        var compare = new Command("compare", "eNPS beside NPS for every unit of a kind, and how closely they go together") { compareKind, parent, Days, minN };
        compare.SetAction((result, ct) => run(result, async () =>
        {
            var client = new ScoringService.ScoringServiceClient(connect(result).Channel());
            var c = await client.CompareUnitsAsync(new CompareUnitsRequest
            {
                Kind = Kind(result.GetValue(compareKind)),
                ParentKey = result.GetValue(parent) ?? "",
                Window = new Window { LastDays = result.GetValue(Days) },
                MinN = result.GetValue(minN),
            }, deadline: Connection.Deadline(), cancellationToken: ct);
            Output.Print(result, c, () => PrintComparison(c));
        }));
        command.Subcommands.Add(compare);

        var unitKey = new Argument<string>("key") { Description = "The unit's key" };
        var scorecard = new Command("scorecard", "One unit's NPS, CSAT and eNPS beside its parent and peers, and its latest praise") { unitKey, Days };
        scorecard.SetAction((result, ct) => run(result, async () =>
        {
            var connection = connect(result);
            var card = await new ScoringService.ScoringServiceClient(connection.Channel()).GetUnitScorecardAsync(
                new GetUnitScorecardRequest { UnitKey = result.GetValue(unitKey)!, Window = new Window { LastDays = result.GetValue(Days) } },
                deadline: Connection.Deadline(), cancellationToken: ct);
            var praise = await new FeedbackService.FeedbackServiceClient(connection.Channel()).ListPraiseAsync(
                new ListPraiseRequest { UnitKey = card.Unit.Key, IncludeDescendants = true, PageSize = 5 }, deadline: Connection.Deadline(), cancellationToken: ct);
            Output.Print(result, card, () =>
            {
                Console.WriteLine($"{KindName(card.Unit.Kind)} {card.Unit.Key} ({card.Unit.Name}){(card.Unit.ParentKey.Length > 0 ? $", in {card.Unit.ParentKey}" : "")}");
                Console.WriteLine("  " + ScoreLine.Of(Metric.Nps, card.Nps));
                if (card.ParentNps.HasValue) Console.WriteLine($"  {card.Unit.ParentKey}: " + ScoreLine.Of(Metric.Nps, card.ParentNps));
                Console.WriteLine(card.NpsRank > 0 ? $"  Rank {card.NpsRank} of {card.Peers} by NPS among its peers." : $"  Not ranked: fewer than 10 customers' answers ({card.Peers} peers ranked).");
                Console.WriteLine("  " + ScoreLine.Of(Metric.Csat, card.Csat));
                Console.WriteLine("  " + (card.EnpsWithheld ? "eNPS: withheld, too few employees answered to keep their answers apart" : ScoreLine.Of(Metric.Enps, card.Enps)));
                Console.WriteLine($"  Praise: {card.Praise:N0} in the window{card.UnitsBelow switch { 0 => "", 1 => " (with the unit under it)", var n => $" (with the {n} units under it)" }}.");
                foreach (var p in praise.Praise) Console.WriteLine($"    {p.GivenAt.ToDateTime():yyyy-MM-dd} {p.UnitName}: “{p.Excerpt}”");
            });
        }));
        command.Subcommands.Add(scorecard);
        return command;
    }

    public static Command Praise(Func<ParseResult, Connection> connect, ValueCommands.Runner run)
    {
        var unit = new Option<string?>("--unit") { Description = "One unit's praise" };
        var below = new Option<bool>("--below") { Description = "With --unit: the praise of the units under it too" };
        var limit = new Option<int>("--limit") { Description = "How many, newest first", DefaultValueFactory = _ => 20 };
        var command = new Command("praise", "Sentences of feedback praising a store, team or agent by name, newest first") { unit, below, limit };
        command.SetAction((result, ct) => run(result, async () =>
        {
            var client = new FeedbackService.FeedbackServiceClient(connect(result).Channel());
            var response = await client.ListPraiseAsync(new ListPraiseRequest
            {
                UnitKey = result.GetValue(unit) ?? "",
                IncludeDescendants = result.GetValue(below),
                PageSize = Math.Clamp(result.GetValue(limit), 1, 200),
            }, deadline: Connection.Deadline(), cancellationToken: ct);
            Output.Print(result, response, () =>
            {
                if (response.Praise.Count == 0) Console.WriteLine("No praise yet.");
                foreach (var p in response.Praise)
                {
                    Console.WriteLine($"{p.GivenAt.ToDateTime():yyyy-MM-dd} {p.UnitName} ({p.UnitKey}), from a {(p.Audience == Audience.Employee ? "colleague" : "customer")}: “{p.Excerpt}”");
                }
            });
        }));
        return command;
    }

    private static void PrintComparison(CompareUnitsResponse c)
    {
        Console.WriteLine($"{c.StartDate}..{c.EndDate}: customers' NPS beside employees' eNPS.");
        var table = new Table().AddColumns("unit", "NPS", "n", "eNPS", "n", "in r");
        foreach (var u in c.Units)
        {
            table.AddRow(Markup.Escape($"{u.Unit.Key} ({u.Unit.Name})"),
                u.Nps.HasValue ? $"{u.Nps.Value:+0;-0;0} ± {u.Nps.MarginOfError:0}" : "-", $"{u.Nps.N:N0}",
                u.EnpsWithheld ? "withheld" : u.Enps.HasValue ? $"{u.Enps.Value:+0;-0;0} ± {u.Enps.MarginOfError:0}" : "-", $"{u.Enps.N:N0}",
                u.InCorrelation ? "yes" : "");
        }
        AnsiConsole.Write(table);
        var r = c.Correlation;
        Console.WriteLine(r.HasValue
            ? $"Across {r.Units} units: r = {r.R:0.00} (95% {r.RLow:0.00}..{r.RHigh:0.00}), p {r.PValue:0.000}; Spearman {r.SpearmanRho:0.00}; " +
              $"{r.Slope:0.00} NPS points per eNPS point."
            : $"Correlation: needs at least 4 units with enough answers on both sides ({r.Units} now).");
        if (c.Units.Any(u => u.EnpsWithheld)) Console.WriteLine("Withheld: fewer employees answered than keep their answers apart (Scoring:EmployeeMinResponses).");
    }
}
