using CxMesh.Events.V1;
using CxMesh.Governance.Data;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Governance.UseCases;

/// <summary>
/// Marks actions past their due time overdue, escalates each to its journey's sponsor and publishes action.overdue, one
/// write per batch; each action is claimed once however many replicas sweep.
/// </summary>
public sealed class SweepOverdueActions([FromKeyedServices(GovernanceModule.Name)] ServiceDatabase database)
{
    /// <summary>Sweeps up to <paramref name="limit"/> actions; returns how many.</summary>
    public async Task<int> SweepAsync(int limit, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var now = write.Now.UtcDateTime;
        var swept = await ActionStore.ClaimOverdueAsync(write, now, limit, ct);
        foreach (var action in swept)
        {
            await ActionStore.AddHistoryAsync(write, action.Id, "overdue", ActionStore.System,
                action.EscalatedTo is null ? "escalated to the CX team (the journey has no sponsor)" : $"escalated to {action.EscalatedTo}", now, ct);
            await write.PublishAsync(Topics.ActionOverdue, new ActionOverdue
            {
                OccurredAt = Timestamp.FromDateTime(now),
                ActionId = action.Id.ToString(),
                OwnerId = action.OwnerId ?? "",
                TeamId = action.TeamId ?? "",
                JourneyKey = action.JourneyKey ?? "",
                DueAt = Timestamp.FromDateTime(action.DueAt),
                EscalatedTo = action.EscalatedTo ?? "",
            }, action.Id.ToString(), ct);
        }
        await write.CommitAsync(ct);
        return swept.Count;
    }
}
