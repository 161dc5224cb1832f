using CxMesh.Common.V1;
using CxMesh.Platform.Auth;
using CxMesh.Scoring.Data;
using CxMesh.Scoring.Domain;
using CxMesh.Scoring.V1;
using FluentValidation;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace CxMesh.Scoring.Api;

public sealed class ScoringGrpcService(ScoreStore store, HotScores hotScores, IValidator<GetScoreRequest> validator, TimeProvider clock)
    : ScoringService.ScoringServiceBase
{
    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.JourneyOwner},{Roles.App}")]
    public override async Task<GetScoreResponse> GetScore(GetScoreRequest request, ServerCallContext context)
    {
        await validator.ValidateAndThrowAsync(request, context.CancellationToken);

        var scope = request.Scope is null
            ? ScoreScope.All
            : new ScoreScope(request.Scope.Dimensions.Select(d => (ScopeDimension.Journey, d.Value)).ToList());
        var window = ToWindow(request.Window, hotScores.Today());

        NpsTally tally;
        string source;
        if (window == hotScores.HotWindow())
        {
            (tally, source) = await hotScores.GetAsync(scope.Key, context.CancellationToken);
        }
        else
        {
            tally = (await store.SumNpsAsync(scope.Key, window, context.CancellationToken)).Tally;
            source = "store";
        }

        return new GetScoreResponse
        {
            Score = new Score
            {
                Metric = Metric.Nps,
                Value = tally.Value,
                N = tally.N,
                MarginOfError = tally.MarginOfError,
                Promoters = tally.Promoters,
                Passives = tally.Passives,
                Detractors = tally.Detractors,
                StartDate = window.Start.ToString("yyyy-MM-dd"),
                EndDate = window.End.ToString("yyyy-MM-dd"),
                Source = source,
                ComputedAt = Timestamp.FromDateTimeOffset(clock.GetUtcNow()),
            },
        };
    }

    private static DayWindow ToWindow(Window? window, DateOnly today) => window?.WindowCase switch
    {
        Window.WindowOneofCase.LastDays => DayWindow.LastDays(window.LastDays, today),
        Window.WindowOneofCase.Range => new DayWindow(GetScoreValidator.ParseDate(window.Range.StartDate), GetScoreValidator.ParseDate(window.Range.EndDate)),
        _ => DayWindow.LastDays(DayWindow.HotDays, today),
    };
}
