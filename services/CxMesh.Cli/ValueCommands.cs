using System.CommandLine;
using CxMesh.Scoring.V1;
using Spectre.Console;

namespace CxMesh.Cli;

/// <summary>
/// `cxmesh value` (what a promoter is worth against a detractor, and whether journey or touchpoint answers predict
/// coming back better) and `cxmesh stages` (relationship stages, their transitions, path maps, one customer's stage).
/// </summary>
internal static class ValueCommands
{
    public delegate Task<int> Runner(ParseResult result, Func<Task> action);

    private static readonly Option<string?> From = new("--from") { Description = "First answer month (yyyy-MM); default: six months up to the last whose following month has ended" };
    private static readonly Option<string?> To = new("--to") { Description = "Last answer month (yyyy-MM)" };

    public static Command Value(Func<ParseResult, Connection> connect, Runner run)
    {
        var journey = new Option<string?>("--journey") { Description = "Only answers about this journey (its own journey and touchpoints are compared)" };
        var command = new Command("value", "What customer experience is worth: what promoters, passives and detractors did the month after, and journey vs touchpoint predictive power")
        {
            journey, From, To,
        };
        command.SetAction((result, ct) => run(result, async () =>
        {
            var client = new ScoringService.ScoringServiceClient(connect(result).Channel());
            var request = new GetValueOfExperienceRequest { StartMonth = result.GetValue(From) ?? "", EndMonth = result.GetValue(To) ?? "", Scope = new Scope() };
            if (result.GetValue(journey) is { Length: > 0 } j) request.Scope.Dimensions.Add(new Dimension { Kind = DimensionKind.Journey, Value = j });
            var v = await client.GetValueOfExperienceAsync(request, deadline: Connection.Deadline(), cancellationToken: ct);
            Output.Print(result, v, () => PrintValue(v));
        }));
        return command;
    }

    private static string Pct(Share s) => s.Count == 0 && s.Low == 0 && s.High == 100 ? "-" : $"{s.Percent:0.0}% ({s.Low:0}-{s.High:0})";

    private static string Money(Average a) => a.HasMargin ? $"{a.Mean:0.00} ± {a.MarginOfError:0.00}" : $"{a.Mean:0.00}";

    private static string Diff(Difference d, string unit) => !d.HasValue
        ? "-"
        : $"{d.Value:+0.0;-0.0}{unit} ({d.Low:0.0}..{d.High:0.0}), p {d.PValue:0.000}{(d.Significant ? "" : " (n.s.)")}";

    private static void PrintValue(GetValueOfExperienceResponse v)
    {
        Console.WriteLine($"Answers of {v.StartMonth}..{v.EndMonth}, each customer followed through the month after.");
        var table = new Table().AddColumns("class", "customers", "came back", "bought again", "spend / customer", "cost to serve");
        foreach (var c in v.Classes)
        {
            table.AddRow(c.NpsClass.ToString().ToLowerInvariant(), $"{c.Customers:N0}", Pct(c.Retained), Pct(c.RepeatPurchase), Money(c.Spend), Money(c.CostToServe));
        }
        AnsiConsole.Write(table);
        Console.WriteLine($"Promoters vs detractors: came back {Diff(v.RetainedPoints, " pts")}; spend {Diff(v.Spend, "")}; cost to serve {Diff(v.CostToServe, "")}.");
        if (v.RevenueAtRisk.HasValue) Console.WriteLine($"Revenue at risk from detractors (the month after): {v.RevenueAtRisk.Value:N0} ({v.RevenueAtRisk.Low:N0}..{v.RevenueAtRisk.High:N0}).");
        if (v.IncompleteMonths.Count > 0) Console.WriteLine($"Still running, so rates read low: {string.Join(", ", v.IncompleteMonths)}.");
        if (v.Journeys.Count + v.Touchpoints.Count == 0)
        {
            Console.WriteLine("Journey vs touchpoint: no answers about a journey or a touchpoint in these months.");
            return;
        }
        var power = new Table().AddColumns("predicts coming back", "customers", "AUC (95%)");
        foreach (var p in v.Journeys.Concat(v.Touchpoints))
        {
            var name = p.Level == PredictorLevel.Journey ? $"journey {p.JourneyKey}" : $"touchpoint {p.JourneyKey}/{p.TouchpointKey}";
            power.AddRow(name, $"{p.Customers:N0}", p.HasValue ? $"{p.Auc:0.000} ({p.AucLow:0.000}-{p.AucHigh:0.000})" : "-");
        }
        AnsiConsole.Write(power);
        var d = v.JourneyMinusTouchpointAuc;
        Console.WriteLine(d.HasValue
            ? $"Journey answers {v.JourneysPooled.Auc:0.000} vs touchpoint answers {v.TouchpointsPooled.Auc:0.000}: " +
              (d.Significant ? (d.Value > 0 ? "journeys predict coming back better" : "touchpoints predict coming back better") : "no significant difference") +
              $" (difference {d.Value:+0.000;-0.000}, {d.Low:0.000}..{d.High:0.000}, p {d.PValue:0.000})."
            : "Journey vs touchpoint: not enough answers at both levels.");
    }

    public static Command Stages(Func<ParseResult, Connection> connect, Runner run)
    {
        var command = new Command("stages", "Relationship stages: customers per stage, their NPS and value, and the transitions between stages") { From, To };
        command.SetAction((result, ct) => run(result, async () =>
        {
            var client = new ScoringService.ScoringServiceClient(connect(result).Channel());
            var s = await client.GetRelationshipStagesAsync(new GetRelationshipStagesRequest { StartMonth = result.GetValue(From) ?? "", EndMonth = result.GetValue(To) ?? "" },
                deadline: Connection.Deadline(), cancellationToken: ct);
            Output.Print(result, s, () => PrintStages(s));
        }));

        var stage = new Option<string>("--stage") { Description = "The stage customers started the month in", Required = true };
        var min = new Option<int>("--min-customers") { Description = "Leave out experiences had by fewer customers", DefaultValueFactory = _ => 5 };
        var paths = new Command("paths", "The path map of a stage: which experiences went with moving up, with lift and significance") { stage, min, From, To };
        paths.SetAction((result, ct) => run(result, async () =>
        {
            var client = new ScoringService.ScoringServiceClient(connect(result).Channel());
            var p = await client.GetStagePathsAsync(new GetStagePathsRequest
            {
                StageKey = result.GetValue(stage)!,
                MinCustomers = result.GetValue(min),
                StartMonth = result.GetValue(From) ?? "",
                EndMonth = result.GetValue(To) ?? "",
            }, deadline: Connection.Deadline(), cancellationToken: ct);
            Output.Print(result, p, () =>
            {
                Console.WriteLine($"{p.StageKey}, {p.StartMonth}..{p.EndMonth}: {p.MovedUp:N0} of {p.Customers:N0} active customer-months moved up.");
                var table = new Table().AddColumns("experience", "customers", "moved up with", "without", "lift", "difference");
                foreach (var step in p.Steps)
                {
                    var experience = step.TouchpointKey.Length > 0 ? $"{step.JourneyKey}/{step.TouchpointKey}" : step.Experience;
                    table.AddRow(experience, $"{step.Customers:N0}", $"{step.MovedPercentWith:0.0}%", $"{step.MovedPercentWithout:0.0}%", $"{step.Lift:0.00}",
                        Diff(step.DifferencePoints, " pts"));
                }
                AnsiConsole.Write(table);
                if (p.Rebuilding) Console.WriteLine("Rebuilding under a new stage model: figures are partial.");
            });
        }));
        command.Subcommands.Add(paths);

        var customer = new Argument<string>("customer-id") { Description = "The customer's pseudonymous id" };
        var one = new Command("customer", "One customer's current stage and when it changed") { customer };
        one.SetAction((result, ct) => run(result, async () =>
        {
            var client = new ScoringService.ScoringServiceClient(connect(result).Channel());
            var c = await client.GetCustomerStageAsync(new GetCustomerStageRequest { CustomerId = result.GetValue(customer)! }, deadline: Connection.Deadline(), cancellationToken: ct);
            Output.Print(result, c, () =>
            {
                Console.WriteLine(c.StageKey.Length == 0 ? $"{c.CustomerId}: not known to scoring." : $"{c.CustomerId}: {c.StageKey}");
                foreach (var change in c.History) Console.WriteLine($"  {change.Month}: {(change.FromStage.Length == 0 ? "(new)" : change.FromStage)} -> {change.ToStage}");
            });
        }));
        command.Subcommands.Add(one);
        return command;
    }

    private static void PrintStages(GetRelationshipStagesResponse s)
    {
        Console.WriteLine($"Stages {s.StartMonth}..{s.EndMonth} (model version {s.ModelVersion}){(s.Rebuilding ? ": rebuilding under a new model, figures are partial" : "")}.");
        var table = new Table().AddColumns("stage", "customers", "at start", "NPS (answers)", "active", "came back", "spend / customer");
        foreach (var stage in s.Stages)
        {
            table.AddRow(stage.StageKey, $"{stage.Customers:N0}", $"{stage.CustomersAtStart:N0}",
                stage.Answers == 0 ? "-" : $"{stage.Nps:+0;-0} ± {stage.NpsMarginOfError:0} ({stage.Answers:N0})", $"{stage.ActiveCustomers:N0}", Pct(stage.Retained), Money(stage.Spend));
        }
        AnsiConsole.Write(table);
        var order = s.Stages.Select(x => x.StageKey).ToList();
        var matrix = new Table().AddColumn("from \\ to");
        foreach (var to in order) matrix.AddColumn(to);
        foreach (var from in new[] { "" }.Concat(order))
        {
            var cells = order.Select(to => s.Transitions.FirstOrDefault(t => t.FromStage == from && t.ToStage == to) is { } t ? $"{t.Customers:N0} ({t.Percent:0}%)" : "").ToList();
            if (cells.All(c => c.Length == 0)) continue;
            matrix.AddRow([from.Length == 0 ? "(new)" : from, .. cells]);
        }
        AnsiConsole.Write(matrix);
        Console.WriteLine("Rows: the stage customers started a month in; columns: where they ended it; summed over the months.");
    }
}
