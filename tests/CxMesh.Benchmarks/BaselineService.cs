using CxMesh.Benchmarks.V1;
using CxMesh.Platform.Auth;
using CxMesh.Scoring.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace CxMesh.Benchmarks;

/// <summary>The no-op RPC of baseline.proto: the same roles as GetScore, a fixed answer.</summary>
[Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.JourneyOwner},{Roles.App}")]
internal sealed class BaselineService : Baseline.BaselineBase
{
    /// <summary>Set to a real GetScore answer before the run, so both answers are the same size.</summary>
    public static GetScoreResponse Answer { get; set; } = new();

    public override Task<GetScoreResponse> Echo(GetScoreRequest request, ServerCallContext context) => Task.FromResult(Answer);
}
