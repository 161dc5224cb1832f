namespace CxMesh.Governance.Domain;

/// <summary>The CX code: a handful of drivers everyone can remember.</summary>
public static class CxCodeRules
{
    public const int MinDrivers = 3;
    public const int MaxDrivers = 5;

    /// <summary>Null when the count is allowed, else the rule in words.</summary>
    public static string? DriverCountProblem(int count) =>
        count is >= MinDrivers and <= MaxDrivers
            ? null
            : $"a CX code has {MinDrivers} to {MaxDrivers} key drivers (got {count}): fewer leaves out what matters, more is not remembered.";
}

/// <summary>Improvement sprints: twelve weeks, four to six priorities.</summary>
public static class SprintRules
{
    public const int LengthDays = 84;
    public const int MinPriorities = 4;
    public const int MaxPriorities = 6;

    /// <summary>end_date is the sprint's last day: twelve weeks from start_date, both inclusive.</summary>
    public static DateOnly EndFor(DateOnly start) => start.AddDays(LengthDays - 1);

    public static string? LengthProblem(DateOnly start, DateOnly end)
    {
        var days = end.DayNumber - start.DayNumber + 1;
        return days == LengthDays
            ? null
            : $"a sprint lasts 12 weeks ({LengthDays} days, end_date = start_date + {LengthDays - 1}); {start:yyyy-MM-dd} to {end:yyyy-MM-dd} is {days} days.";
    }

    public static string? PriorityCountProblem(int count) =>
        count is >= MinPriorities and <= MaxPriorities
            ? null
            : $"a sprint holds {MinPriorities} to {MaxPriorities} priorities (got {count}): focus beats a long list.";

    /// <summary>Days elapsed of a sprint on <paramref name="today"/>, 0 before it starts, 84 after it ends.</summary>
    public static int DaysElapsed(DateOnly start, DateOnly today) => Math.Clamp(today.DayNumber - start.DayNumber + 1, 0, LengthDays);

    /// <summary>The target is reached when the change goes at least as far as the target, in its direction.</summary>
    public static bool TargetMet(double change, double target) => target >= 0 ? change >= target : change <= target;
}

/// <summary>Closed-loop action states and the moves between them.</summary>
public static class ActionFlow
{
    public const string Open = "open";
    public const string InProgress = "in_progress";
    public const string Resolved = "resolved";
    public const string Closed = "closed";

    public static bool IsActive(string state) => state is Open or InProgress;

    /// <summary>open → in progress; open or in progress → resolved or closed. Resolved and closed are final.</summary>
    public static bool CanMove(string from, string to) =>
        (from, to) is (Open, InProgress) or (Open, Resolved) or (Open, Closed) or (InProgress, Resolved) or (InProgress, Closed);
}

/// <summary>The 1% challenge: proposed → accepted (or rejected) → implemented → measured.</summary>
public static class IdeaFlow
{
    public const string Proposed = "proposed";
    public const string Accepted = "accepted";
    public const string Implemented = "implemented";
    public const string Measured = "measured";
    public const string Rejected = "rejected";

    public static bool CanMove(string from, string to) =>
        (from, to) is (Proposed, Accepted) or (Proposed, Rejected) or (Accepted, Implemented) or (Implemented, Measured);
}

/// <summary>Scope keys as scoring writes them in alerts: "journey=coffee|touchpoint=delivered".</summary>
public static class ScopeKeys
{
    public static string? Value(string scopeKey, string dimension)
    {
        foreach (var part in scopeKey.Split('|', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq > 0 && part.AsSpan(0, eq).SequenceEqual(dimension)) return part[(eq + 1)..];
        }
        return null;
    }
}

/// <summary>Sharing customer data outside the company takes two people: who submitted an agreement cannot approve it.</summary>
public static class SharingRules
{
    /// <summary>Null when <paramref name="decider"/> may decide; otherwise the rule in words.</summary>
    public static string? FourEyesProblem(string submittedBy, string decider) =>
        string.Equals(submittedBy, decider, StringComparison.Ordinal)
            ? $"{decider} submitted this agreement and cannot also decide it: a second admin decides (four eyes)."
            : null;
}

/// <summary>A partner's dispute of a feedback item, as an action: what it says, and what settling it tells the partner.</summary>
public static class PartnerDisputes
{
    public const string Source = "partner-dispute";

    public static string Detail(string reason, string disputedWords) =>
        $"The partner's reason: {reason}" + (disputedWords.Length > 0 ? $"\n\nThe disputed item (redacted): {disputedWords}" : "");

    /// <summary>The outcome the partner is told when the action is resolved or closed.</summary>
    public static string Outcome(string to, string? resolution, string? closeReason) =>
        to == "resolved" ? resolution ?? "resolved" : closeReason ?? "closed";
}
