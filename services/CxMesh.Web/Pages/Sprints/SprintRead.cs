using CxMesh.Governance.V1;
using CxMesh.Web.Calls;

namespace CxMesh.Web.Pages.Sprints;

/// <summary>
/// A sprint as its board and its one-page plan read it: every sprint (newest first), the one shown (asked for, else the
/// one running today, else the newest), its progress as governance computes it from scoring, and the actions and ideas
/// linked to its priorities.
/// </summary>
public sealed record SprintRead(
    IReadOnlyList<Sprint> Sprints,
    GetSprintProgressResponse? Progress,
    IReadOnlyDictionary<string, CxMesh.Governance.V1.Action> Actions,
    IReadOnlyDictionary<string, Idea> Ideas,
    CallError? Error)
{
    /// <summary>Members' names by id, for owners.</summary>
    public IReadOnlyDictionary<string, string> Names { get; init; } = new Dictionary<string, string>();

    public static async Task<SprintRead> LoadAsync(ConsoleClients clients, string? sprintId, DateOnly today)
    {
        var list = await ServiceCall.RunAsync(async () => await clients.Governance.ListSprintsAsync(new ListSprintsRequest()));
        var sprints = list.Value?.Sprints.ToList() ?? [];
        var day = today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var id = sprintId
            ?? sprints.FirstOrDefault(s => string.CompareOrdinal(s.StartDate, day) <= 0 && string.CompareOrdinal(day, s.EndDate) <= 0)?.Id
            ?? sprints.FirstOrDefault()?.Id;
        if (id is null) return new SprintRead(sprints, null, new Dictionary<string, CxMesh.Governance.V1.Action>(), new Dictionary<string, Idea>(), list.Error);

        var progress = await ServiceCall.RunAsync(async () => await clients.Governance.GetSprintProgressAsync(new GetSprintProgressRequest { SprintId = id }));
        var error = list.Error ?? progress.Error;
        var actions = new Dictionary<string, CxMesh.Governance.V1.Action>(StringComparer.Ordinal);
        var ideas = new Dictionary<string, Idea>(StringComparer.Ordinal);
        if (progress.Value?.Sprint is { } sprint)
        {
            foreach (var actionId in sprint.Priorities.SelectMany(p => p.ActionIds).Distinct())
            {
                var action = await ServiceCall.RunAsync(async () => await clients.Governance.GetActionAsync(new GetActionRequest { ActionId = actionId }));
                if (action.Value?.Action is { } a) actions[a.Id] = a;
                error ??= action.Error;
            }
            if (sprint.Priorities.Any(p => p.IdeaIds.Count > 0))
            {
                var all = await ServiceCall.RunAsync(async () => await clients.Governance.ListIdeasAsync(new ListIdeasRequest { PageSize = 200 }));
                foreach (var idea in all.Value?.Ideas ?? []) ideas[idea.Id] = idea;
                error ??= all.Error;
            }
        }
        var members = await ServiceCall.RunAsync(async () => await clients.Governance.ListMembersAsync(new ListMembersRequest()));
        return new SprintRead(sprints, progress.Value, actions, ideas, error)
        {
            Names = members.Value?.Members.ToDictionary(m => m.Id, m => m.Name, StringComparer.Ordinal) ?? new Dictionary<string, string>(),
        };
    }
}
