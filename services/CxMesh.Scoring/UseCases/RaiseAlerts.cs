using CxMesh.Events.V1;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Data;

namespace CxMesh.Scoring.UseCases;

/// <summary>
/// Where scoring raises alerts (the rules are <see cref="Domain.AlertRules"/>): each alert is stored once per dedupe key
/// and published as alert.raised in the same write, so one response or one weekly drop raises one alert however often
/// it is seen.
/// </summary>
public static class RaiseAlerts
{
    /// <summary>Returns how many alerts were new.</summary>
    public static async Task<int> RaiseAsync(WriteScope write, IReadOnlyList<(string DedupeKey, AlertRaised Alert)> alerts, CancellationToken ct)
    {
        var raised = await AlertStore.InsertNewAsync(write, alerts, ct);
        await write.PublishManyAsync(Topics.AlertRaised, raised, a => a.AlertId, ct);
        if (raised.Count > 0)
        {
            write.AfterCommit(_ =>
            {
                foreach (var kind in raised.GroupBy(a => a.Kind))
                {
                    ScoringMetrics.AlertsRaised.Add(kind.Count(), new KeyValuePair<string, object?>("kind", kind.Key.ToString()));
                }
                return Task.CompletedTask;
            });
        }
        return raised.Count;
    }
}
