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

    /// <summary>Independent reads go out together: the page waits for the slowest, not for the sum.</summary>
    public static async Task<SprintRead> LoadAsync(ConsoleClients clients, string? sprintId, DateOnly today)
    {
        var listing = ServiceCall.RunAsync(async () => await clients.Governance.ListSprintsAsync(new ListSprintsRequest()));
        var members = ServiceCall.RunAsync(async () => await clients.Governance.ListMembersAsync(new ListMembersRequest()));
        var ideas = ServiceCall.RunAsync(async () => await clients.Governance.ListIdeasAsync(new ListIdeasRequest { PageSize = 200 }));
        var day = today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Task<Outcome<GetSprintProgressResponse>> Progress(string id) =>
            ServiceCall.RunAsync(async () => await clients.Governance.GetSprintProgressAsync(new GetSprintProgressRequest { SprintId = id }));
        var asked = sprintId is null ? null : Progress(sprintId);

        var list = await listing;
        var sprints = list.Value?.Sprints.ToList() ?? [];
        var id = sprintId
            ?? sprints.FirstOrDefault(s => string.CompareOrdinal(s.StartDate, day) <= 0 && string.CompareOrdinal(day, s.EndDate) <= 0)?.Id
            ?? sprints.FirstOrDefault()?.Id;
        var names = (await members).Value?.Members.ToDictionary(m => m.Id, m => m.Name, StringComparer.Ordinal) ?? new Dictionary<string, string>();
        if (id is null) return new SprintRead(sprints, null, new Dictionary<string, CxMesh.Governance.V1.Action>(), new Dictionary<string, Idea>(), list.Error) { Names = names };

        var progress = await (asked ?? Progress(id));
        var error = list.Error ?? progress.Error;
        var linked = progress.Value?.Sprint.Priorities.SelectMany(p => p.ActionIds).Distinct().ToList() ?? [];
        var actions = await Task.WhenAll(linked.Select(actionId =>
            ServiceCall.RunAsync(async () => await clients.Governance.GetActionAsync(new GetActionRequest { ActionId = actionId }))));
        var allIdeas = await ideas;
        error ??= actions.Select(a => a.Error).FirstOrDefault(e => e is not null) ?? allIdeas.Error;
        return new SprintRead(
            sprints,
            progress.Value,
            actions.Where(a => a.Value?.Action is not null).ToDictionary(a => a.Value!.Action.Id, a => a.Value!.Action, StringComparer.Ordinal),
            allIdeas.Value?.Ideas.ToDictionary(i => i.Id, StringComparer.Ordinal) ?? new Dictionary<string, Idea>(),
            error)
        { Names = names };
    }
}
