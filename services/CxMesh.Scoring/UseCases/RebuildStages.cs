using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Data;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.UseCases;

/// <summary>
/// Recomputes, a page of customers per write, the stage parts of customers computed under an older model (after
/// UpdateStageModel emptied the sums). Safe with any number of replicas: each write takes its customers' locks, and a
/// customer already rebuilt changes by zero.
/// </summary>
public sealed class RebuildStages([FromKeyedServices(ScoringModule.Name)] ServiceDatabase database)
{
    /// <summary>Rebuilds up to <paramref name="batch"/> customers; returns how many (0: nothing is left).</summary>
    public async Task<int> RebuildAsync(int batch, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var (version, rebuilt) = await StageStore.VersionsAsync(write, ct);
        if (rebuilt == version) return 0;
        var stale = await StageStore.StaleAsync(write, version, batch, ct);
        if (stale.Count == 0)
        {
            // Every customer is under the current model: readers stop saying "rebuilding".
            await StageStore.MarkRebuiltAsync(write, version, ct);
            await write.CommitAsync(ct);
            return 0;
        }
        var snapshot = await StageStore.BeforeAsync(write, stale, ct);
        await StageStore.AfterAsync(write, snapshot, ct);
        await write.CommitAsync(ct);
        return stale.Count;
    }
}
