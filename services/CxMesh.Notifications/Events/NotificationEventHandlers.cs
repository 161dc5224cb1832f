using System.Globalization;
using CxMesh.Events.V1;
using CxMesh.Notifications.Domain;
using CxMesh.Notifications.UseCases;
using CxMesh.Platform.Messaging;

namespace CxMesh.Notifications.Events;

/// <summary>A new action: its owner and its team hear of it, with its title, the redacted words it is about and a link.</summary>
public sealed class ActionCreatedHandler(Notify notify) : IEventHandler<ActionCreated>
{
    public Task HandleAsync(ActionCreated evt, EventContext context, CancellationToken ct)
    {
        if (evt.ActionId.Length == 0) throw new InvalidEventException("action_id is missing.");
        var title = evt.Title.Length > 0 ? evt.Title : $"New action ({evt.Source})";
        var lines = new List<string>();
        if (evt.Summary.Length > 0) lines.Add($"“{evt.Summary}”");
        lines.Add(Where(evt.JourneyKey, evt.TouchpointKey) + (evt.DueAt is { } due ? $" · due {due.ToDateTime():yyyy-MM-dd HH:mm} UTC" : ""));
        return notify.NotifyAsync(context, new Audience(NotificationTopics.ActionCreated, Ids(evt.OwnerId), Ids(evt.TeamId)),
            new Message($"New action: {title}", string.Join("\n", lines), notify.Link($"/actions?open={Uri.EscapeDataString(evt.ActionId)}")), ct);
    }

    internal static string Where(string journey, string touchpoint) =>
        journey.Length == 0 ? "no journey" : touchpoint.Length == 0 ? $"journey {journey}" : $"journey {journey}, touchpoint {touchpoint}";

    internal static IReadOnlyList<string> Ids(string id) => id.Length > 0 ? [id] : [];
}

/// <summary>An overdue action: its owner and team hear of it, and the person it was escalated to (as an escalation).</summary>
public sealed class ActionOverdueHandler(Notify notify) : IEventHandler<ActionOverdue>
{
    public async Task HandleAsync(ActionOverdue evt, EventContext context, CancellationToken ct)
    {
        if (evt.ActionId.Length == 0) throw new InvalidEventException("action_id is missing.");
        var link = notify.Link($"/actions?open={Uri.EscapeDataString(evt.ActionId)}");
        var due = evt.DueAt is { } d ? d.ToDateTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC" : "its due time";
        var where = ActionCreatedHandler.Where(evt.JourneyKey, "");
        await notify.NotifyAsync(context, new Audience(NotificationTopics.ActionOverdue, ActionCreatedHandler.Ids(evt.OwnerId), ActionCreatedHandler.Ids(evt.TeamId)),
            new Message("Overdue action", $"An action of {where} passed {due} unresolved" + (evt.EscalatedTo.Length > 0 ? $"; it was escalated to {evt.EscalatedTo}." : "."), link), ct);
        if (evt.EscalatedTo.Length > 0)
        {
            await notify.NotifyAsync(context, new Audience(NotificationTopics.ActionEscalated, [evt.EscalatedTo], []),
                new Message("Escalated to you: an overdue action", $"An action of {where} passed {due} unresolved and was escalated to you as the journey's sponsor.", link), ct);
        }
    }
}

/// <summary>A partner acknowledged, disputed or committed: the channels that asked for partner responses hear of it.</summary>
public sealed class PartnerResponseReceivedHandler(Notify notify) : IEventHandler<PartnerResponseReceived>
{
    public Task HandleAsync(PartnerResponseReceived evt, EventContext context, CancellationToken ct)
    {
        if (evt.PartnerId.Length == 0) throw new InvalidEventException("partner_id is missing.");
        var what = evt.Kind switch
        {
            "acknowledgement" => "acknowledged its report",
            "dispute" => "disputed a feedback item",
            "commitment" => "committed to an improvement action",
            _ => "answered its report",
        };
        // The partner's own words stay in the console: they are not redacted text.
        return notify.NotifyAsync(context, new Audience(NotificationTopics.PartnerResponse, [], []),
            new Message($"Partner {evt.PartnerId} {what}", $"Report {evt.ReportId}" + (evt.Kind is "dispute" or "commitment" ? ": it is an action in the console." : "."),
                notify.Link(evt.Kind is "dispute" or "commitment" ? "/actions" : "/")), ct);
    }
}

/// <summary>A partner report was published: the channels that asked for report publications hear of it.</summary>
public sealed class PartnerReportPublishedHandler(Notify notify) : IEventHandler<PartnerReportPublished>
{
    public Task HandleAsync(PartnerReportPublished evt, EventContext context, CancellationToken ct)
    {
        if (evt.PartnerId.Length == 0) throw new InvalidEventException("partner_id is missing.");
        return notify.NotifyAsync(context, new Audience(NotificationTopics.ReportPublished, [], []),
            new Message($"Report published for partner {evt.PartnerId}", $"{evt.StartDate} to {evt.EndDate}: {evt.Items} responses shared under agreement version {evt.AgreementVersion}.",
                notify.Link("/governance/audit")), ct);
    }
}

/// <summary>
/// Words of a customer or a colleague praised a unit by name: its recognition member and team, and those of the units
/// above it, hear them (the redacted sentence), with a link to the unit's page in the console; history older than a week
/// is not sent.
/// </summary>
public sealed class PraiseReceivedHandler(Notify notify) : IEventHandler<PraiseReceived>
{
    /// <summary>Recognition is news: praise given longer ago than this (imported history) is listed in the console, not sent.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);

    public Task HandleAsync(PraiseReceived evt, EventContext context, CancellationToken ct)
    {
        if (evt.PraiseId.Length == 0 || evt.Unit is not { Key.Length: > 0 } unit) throw new InvalidEventException("praise_id or unit is missing.");
        if (evt.GivenAt is { } given && context.Now - given.ToDateTimeOffset() > MaxAge) return Task.CompletedTask;
        var people = ActionCreatedHandler.Ids(evt.RecognitionMemberId).Concat(evt.AboveMemberIds).Where(id => id.Length > 0).Distinct().ToList();
        var teams = ActionCreatedHandler.Ids(evt.RecognitionTeamId).Concat(evt.AboveTeamIds).Where(id => id.Length > 0).Distinct().ToList();
        if (people.Count == 0 && teams.Count == 0) return Task.CompletedTask;
        var who = evt.Audience == "employee" ? "A colleague" : "A customer";
        var name = unit.Name.Length > 0 ? unit.Name : unit.Key;
        return notify.NotifyAsync(context, new Audience(NotificationTopics.Praise, people, teams),
            new Message($"Praise for {name}", $"{who} said: “{evt.Excerpt}”", notify.Link($"/units?unit={Uri.EscapeDataString(unit.Key)}")), ct);
    }
}
