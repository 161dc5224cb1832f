using System.Globalization;
using CxMesh.Scoring.Data;
using CxMesh.Scoring.Domain;
using CxMesh.Scoring.V1;
using Google.Protobuf.WellKnownTypes;
using ProtoStageModel = CxMesh.Scoring.V1.StageModel;
using ProtoStageRule = CxMesh.Scoring.V1.StageRule;

namespace CxMesh.Scoring.Api;

/// <summary>Relationship stages between the domain (<see cref="Domain.StageModel"/>, <see cref="StageTransitions"/>) and the protos.</summary>
public static class StageResponses
{
    public static ProtoStageModel ToProto(StoredStageModel stored)
    {
        var model = new ProtoStageModel
        {
            Version = stored.Model.Version,
            UpdatedAt = stored.UpdatedAt is { } at ? Timestamp.FromDateTime(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null,
            UpdatedBy = stored.UpdatedBy,
        };
        foreach (var stage in stored.Model.Stages)
        {
            var rule = new ProtoStageRule
            {
                MinPurchases = stage.Rule.MinPurchases,
                MinPurchaseMonths = stage.Rule.MinPurchaseMonths,
                MinReferrals = stage.Rule.MinReferrals,
                Promoter = stage.Rule.Promoter,
            };
            foreach (var t in stage.Rule.RequiredTouchpoints)
            {
                var bar = t.Touchpoint.IndexOf('|', StringComparison.Ordinal);
                rule.Touchpoints.Add(new TouchpointRequirement { JourneyKey = t.Touchpoint[..bar], TouchpointKey = t.Touchpoint[(bar + 1)..], MinCount = t.MinCount });
            }
            model.Stages.Add(new V1.StageDefinition { Key = stage.Key, Name = stage.Name, Description = stage.Description, Rule = rule });
        }
        return model;
    }

    public static Domain.StageDefinition FromProto(V1.StageDefinition stage) => new(stage.Key, stage.Name, stage.Description,
        new Domain.StageRule(stage.Rule?.MinPurchases ?? 0, stage.Rule?.MinPurchaseMonths ?? 0, stage.Rule?.MinReferrals ?? 0, stage.Rule?.Promoter ?? false,
            stage.Rule?.Touchpoints.Select(t => new TouchpointCount(Domain.StageRule.TouchpointKey(t.JourneyKey, t.TouchpointKey), t.MinCount)).ToList() ?? []));

    public static GetRelationshipStagesResponse Stages(Domain.StageModel model, bool rebuilding, DateOnly from, DateOnly to, DateOnly today,
        StageTransitions.Result transitions, IReadOnlyDictionary<string, StageMonth> figures)
    {
        var response = new GetRelationshipStagesResponse { StartMonth = Month(from), EndMonth = Month(to), ModelVersion = model.Version, Rebuilding = rebuilding };
        foreach (var stage in model.Stages)
        {
            var f = figures.GetValueOrDefault(stage.Key);
            var nps = f.Answers;
            var value = ExperienceValue.Figures(NpsCategory.Promoter, f.Active);
            response.Stages.Add(new StageFigures
            {
                StageKey = stage.Key,
                Name = stage.Name,
                Customers = transitions.AtEnd.GetValueOrDefault(stage.Key),
                CustomersAtStart = transitions.AtStart.GetValueOrDefault(stage.Key),
                Answers = nps.N,
                Nps = nps.Value,
                NpsMarginOfError = nps.MarginOfError,
                ActiveCustomers = f.Active.Customers,
                Retained = ValueResponses.ToProto(value.Retained),
                Spend = ValueResponses.ToProto(value.Spend),
                CostToServe = ValueResponses.ToProto(value.CostToServe),
            });
        }
        var order = new[] { "" }.Concat(model.Stages.Select(s => s.Key)).ToList();
        int Rank(string stage) => order.IndexOf(stage) is var i and >= 0 ? i : order.Count;
        var rows = transitions.Cells.GroupBy(c => c.Key.From).ToDictionary(g => g.Key, g => g.Sum(c => c.Value));
        foreach (var ((fromStage, toStage), n) in transitions.Cells.OrderBy(c => Rank(c.Key.From)).ThenBy(c => Rank(c.Key.To)))
        {
            response.Transitions.Add(new StageTransition
            {
                FromStage = fromStage,
                ToStage = toStage,
                Customers = n,
                Percent = rows[fromStage] > 0 ? 100.0 * n / rows[fromStage] : 0,
            });
        }
        response.IncompleteMonths.AddRange(ValueResponses.IncompleteMonths(from, to, today));
        return response;
    }

    public static GetStagePathsResponse Paths(string stage, bool rebuilding, DateOnly from, DateOnly to, IReadOnlyDictionary<string, (long Customers, long MovedUp)> experiences,
        int minCustomers)
    {
        var (customers, movedUp) = experiences.GetValueOrDefault(StageContribution.AllExperiences);
        var response = new GetStagePathsResponse
        {
            StageKey = stage,
            StartMonth = Month(from),
            EndMonth = Month(to),
            Rebuilding = rebuilding,
            Customers = customers,
            MovedUp = movedUp,
        };
        var steps = new List<PathStep>();
        foreach (var (experience, (with, movedWith)) in experiences)
        {
            var (without, movedWithout) = (customers - with, movedUp - movedWith);
            // An experience every customer had (or too few) has nothing to be compared with.
            if (experience == StageContribution.AllExperiences || with < minCustomers || without == 0) continue;
            var rateWith = ShareFigure.Of(movedWith, with);
            var rateWithout = ShareFigure.Of(movedWithout, without);
            var step = new PathStep
            {
                Experience = experience,
                Customers = with,
                MovedUp = movedWith,
                MovedPercentWith = rateWith.Percent,
                MovedPercentWithout = rateWithout.Percent,
                Lift = rateWithout.Percent > 0 ? rateWith.Percent / rateWithout.Percent : 0,
                DifferencePoints = ValueResponses.ToProto(ExperienceValue.SharePoints(rateWith, rateWithout)),
            };
            if (experience.StartsWith("touchpoint:", StringComparison.Ordinal))
            {
                var key = experience["touchpoint:".Length..];
                var at = key.IndexOf('|', StringComparison.Ordinal);
                (step.JourneyKey, step.TouchpointKey) = (key[..at], key[(at + 1)..]);
            }
            steps.Add(step);
        }
        response.Steps.AddRange(steps.OrderByDescending(s => s.Lift).ThenByDescending(s => s.Customers).ThenBy(s => s.Experience, StringComparer.Ordinal));
        return response;
    }

    public static GetCustomerStageResponse Customer(string customerId, Domain.StageModel model, IReadOnlyList<HistoryMonth> history)
    {
        var contribution = StageContribution.Of(model, history);
        var response = new GetCustomerStageResponse
        {
            CustomerId = customerId,
            ModelVersion = model.Version,
            StageKey = contribution.Path.Count > 0 ? contribution.Path[^1].Stage : "",
        };
        var previous = "";
        foreach (var (month, stage) in contribution.Path)
        {
            if (stage != previous) response.History.Add(new StageChange { Month = Month(month), FromStage = previous, ToStage = stage });
            previous = stage;
        }
        return response;
    }

    private static string Month(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);
}
