namespace CxMesh.Governance.Domain;

/// <summary>Closed-loop performance over a set of actions.</summary>
public static class ActionMetrics
{
    public sealed record Timing(DateTime CreatedAt, DateTime DueAt, DateTime? FirstResponseAt, DateTime? ResolvedAt, DateTime? ClosedAt, string State);

    public sealed record Summary(
        double MedianHoursToFirstResponse, double MeanHoursToFirstResponse, double MedianHoursToResolve, double MeanHoursToResolve,
        double WithinSlaPercent, long SlaDecided);

    /// <summary>
    /// Within SLA: of the actions whose outcome against their due time is known (finished, or still open past due), the
    /// share finished by the due time.
    /// </summary>
    public static Summary Summarise(IReadOnlyList<Timing> actions, DateTime now)
    {
        var firstResponse = actions.Where(a => a.FirstResponseAt is not null).Select(a => (a.FirstResponseAt!.Value - a.CreatedAt).TotalHours).ToList();
        var resolve = actions.Where(a => a.ResolvedAt is not null).Select(a => (a.ResolvedAt!.Value - a.CreatedAt).TotalHours).ToList();
        long decided = 0, onTime = 0;
        foreach (var a in actions)
        {
            var finished = a.ResolvedAt ?? a.ClosedAt;
            if (finished is { } f)
            {
                decided++;
                if (f <= a.DueAt) onTime++;
            }
            else if (a.DueAt < now)
            {
                decided++;
            }
        }
        return new Summary(Median(firstResponse), Mean(firstResponse), Median(resolve), Mean(resolve),
            decided == 0 ? 0 : 100.0 * onTime / decided, decided);
    }

    private static double Mean(List<double> values) => values.Count == 0 ? 0 : values.Average();

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return 0;
        values.Sort();
        var mid = values.Count / 2;
        return values.Count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}

/// <summary>What an action raised from an alert is called: the thing to do, in a line an owner understands.</summary>
public static class ActionTitles
{
    public enum AlertKind
    {
        Other,
        Detractor,
        NegativeComplaint,
        ScoreDrop,
    }

    /// <remarks>An employee's alert asks for what a people team does — a conversation through their manager or HR that
    /// respects anonymity — never a customer call-back.</remarks>
    public static string OfAlert(AlertKind kind, string metric, int rating, string? channel, double value, double previousValue, string scopeKey, int windowDays,
        bool employee = false) => (kind, employee) switch
        {
            (AlertKind.Detractor, true) => $"Follow up an unhappy employee ({metric} {rating}) through their manager or HR, keeping their answer anonymous",
            (AlertKind.NegativeComplaint, true) => "Look into an employee's strongly negative comment with their manager or HR, keeping it anonymous",
            (AlertKind.ScoreDrop, true) => $"Find why {metric} fell to {value:0.#} (from {previousValue:0.#}) for {scopeKey} over {windowDays} days: talk to the teams concerned",
            (AlertKind.Detractor, _) => $"Call back a detractor ({metric} {rating}) via {channel ?? "an unknown channel"}",
            (AlertKind.NegativeComplaint, _) => "Answer a strongly negative complaint",
            (AlertKind.ScoreDrop, _) => $"Find why {metric} fell to {value:0.#} (from {previousValue:0.#}) for {scopeKey} over {windowDays} days",
            _ => "Look into an alert",
        };
}
