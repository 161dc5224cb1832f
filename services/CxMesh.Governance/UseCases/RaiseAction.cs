using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Governance.Data;
using CxMesh.Governance.Domain;
using CxMesh.Platform.Api;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static CxMesh.Platform.Validation.Identifiers;

namespace CxMesh.Governance.UseCases;

/// <summary>
/// Where an action is raised, from an alert, a partner's commitment or dispute, or by hand: who owns it, when it is due,
/// and action.created for the people who act on it, in the same write.
/// </summary>
public sealed class RaiseAction([FromKeyedServices(GovernanceModule.Name)] ServiceDatabase database, IOptions<GovernanceOptions> options)
{
    /// <summary>
    /// Every alert becomes one action (idempotent per alert id): owned by the touchpoint's owner, else the journey's
    /// owner, else the CX team, due after the SLA of the feedback's channel (score drops: Governance:ScoreDropSla).
    /// </summary>
    public async Task FromAlertAsync(WriteScope write, AlertRaised evt, CancellationToken ct)
    {
        if (evt.AlertId.Length == 0) throw new InvalidEventException("alert_id is missing.");
        var drop = evt.Kind == AlertKind.ScoreDrop;
        var journey = NullIfEmpty(drop ? ScopeKeys.Value(evt.ScopeKey, "journey") ?? "" : evt.Journey);
        var touchpoint = NullIfEmpty(drop ? ScopeKeys.Value(evt.ScopeKey, "touchpoint") ?? "" : evt.TouchpointKey);
        // An employee's voice goes to the people team, never to a journey's owner as a customer call-back.
        var employee = evt.Audience == "employee";
        var (owner, team) = employee ? (null, options.Value.PeopleTeam) : await ActionStore.ResolveOwnerAsync(write, journey, touchpoint, options.Value.CxTeam, ct);
        if (employee) await ActionStore.EnsureTeamAsync(write, team, ct, name: "People");
        var raisedAt = evt.OccurredAt?.ToDateTime() ?? write.Now.UtcDateTime;
        await InsertAsync(write, new ActionRow
        {
            Id = Guid.CreateVersion7(),
            Source = "alert",
            Title = ActionTitles.OfAlert(ToAlertKind(evt.Kind), MetricName(evt.Metric), evt.Rating, ChannelNames.Name(evt.Channel), evt.Value, evt.PreviousValue,
                evt.ScopeKey, evt.WindowDays, employee),
            Detail = NullIfEmpty(evt.RedactedVerbatim),
            OwnerId = owner,
            TeamId = team,
            JourneyKey = journey,
            TouchpointKey = touchpoint,
            Channel = (int)evt.Channel,
            CreatedAt = raisedAt,
            DueAt = raisedAt + (drop ? options.Value.ScoreDropSla : options.Value.SlaFor(ChannelNames.Name(evt.Channel))),
            AlertId = evt.AlertId,
            FeedbackId = Guid.TryParse(evt.FeedbackId, out var feedbackId) ? feedbackId : null,
            CustomerId = NullIfEmpty(evt.CustomerId),
        }, ActionStore.System, ct);
    }

    /// <summary>
    /// A partner's commitment or dispute becomes an action owned by the partner's internal contact (else the CX team), due
    /// at the end of the day the partner committed to; later updates of the same commitment are recorded on that action;
    /// an acknowledgement is kept in the audit trail beside the disclosure it acknowledges.
    /// </summary>
    public async Task FromPartnerResponseAsync(WriteScope write, PartnerResponseReceived evt, CancellationToken ct)
    {
        if (evt.ResponseId.Length == 0 || evt.PartnerId.Length == 0) throw new InvalidEventException("response_id and partner_id are required.");
        var at = evt.OccurredAt?.ToDateTime() ?? write.Now.UtcDateTime;
        if (evt.Kind == "acknowledgement")
        {
            await AuditLog.AppendAsync(write, AuditLog.PartnerAcknowledged, $"report/{evt.ReportId}", $"partner/{evt.PartnerId}",
                new { responseId = evt.ResponseId, text = evt.Text }, write.Now.UtcDateTime, ct);
            return;
        }
        if (evt.Kind is not ("commitment" or "dispute")) throw new InvalidEventException($"kind '{evt.Kind}' is not a partner response kind.");
        if (await ActionStore.OfResponseAsync(write, evt.ResponseId, ct) is { } actionId)
        {
            await ActionStore.AddCommentAsync(write, actionId, ActionStore.System,
                $"Partner {evt.PartnerId} update: {evt.Status}{(evt.Text.Length > 0 ? " — " + evt.Text : "")}", at, ct);
            return;
        }
        var contact = await ActionStore.PartnerContactAsync(write, evt.PartnerId, ct);
        var team = contact.TeamId ?? options.Value.CxTeam;
        if (contact.MemberId is null) await ActionStore.EnsureTeamAsync(write, team, ct);
        var dispute = evt.Kind == "dispute";
        var due = !dispute && DateOnly.TryParseExact(evt.DueDate, "yyyy-MM-dd", out var date)
            ? date.ToDateTime(new TimeOnly(23, 59, 59), DateTimeKind.Utc)
            : at + options.Value.DefaultSla;
        await InsertAsync(write, new ActionRow
        {
            Id = Guid.CreateVersion7(),
            Source = dispute ? PartnerDisputes.Source : "partner-commitment",
            Title = dispute
                ? $"Partner {evt.PartnerId} disputes feedback item {evt.FeedbackId}"
                : $"Partner {evt.PartnerId} commitment{(evt.Owner.Length > 0 ? $" (their owner: {evt.Owner})" : "")}",
            Detail = dispute ? PartnerDisputes.Detail(evt.Text, evt.DisputedVerbatim) : NullIfEmpty(evt.Text),
            OwnerId = contact.MemberId,
            TeamId = team,
            CreatedAt = at,
            DueAt = due,
            ResponseId = evt.ResponseId,
            FeedbackId = Guid.TryParse(evt.FeedbackId, out var feedbackId) ? feedbackId : null,
            PartnerId = evt.PartnerId,
        }, ActionStore.System, ct);
    }

    /// <summary>An action by hand (or from a case study or an idea): owner or team as given, else resolved from the journey.</summary>
    public async Task<ActionRow> ByHandAsync(ActionRow draft, string actor, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        string? owner = draft.OwnerId, team = draft.TeamId;
        if (owner is not null)
        {
            var member = await PeopleStore.RequireMemberAsync(write, owner, "action.owner_id", ct);
            team ??= member.TeamId;
        }
        else if (team is not null)
        {
            await PeopleStore.RequireTeamAsync(write, team, "action.team_id", ct);
        }
        else
        {
            (owner, team) = await ActionStore.ResolveOwnerAsync(write, draft.JourneyKey, draft.TouchpointKey, options.Value.CxTeam, ct);
        }
        if (draft.CaseStudyId is { } caseStudy && !await ActionStore.ExistsAsync(write, "case_studies", caseStudy, ct))
        {
            throw new FieldViolationException("action.case_study_id", $"case study '{caseStudy}' does not exist.");
        }
        if (draft.IdeaId is { } idea)
        {
            var state = await ProgrammeStore.IdeaStateAsync(write, idea, ct) ?? throw new FieldViolationException("action.idea_id", $"idea '{idea}' does not exist.");
            if (state != IdeaFlow.Accepted)
            {
                throw new PreconditionFailedException("IDEA_NOT_ACCEPTED", $"idea '{idea}' is {state}; only accepted ideas become actions.", "action.idea_id",
                    new Dictionary<string, string> { ["state"] = state });
            }
        }
        var now = write.Now.UtcDateTime;
        var created = await InsertAsync(write, new ActionRow
        {
            Id = Guid.CreateVersion7(),
            Source = draft.CaseStudyId is not null ? "case-study" : draft.IdeaId is not null ? "idea" : "manual",
            Title = draft.Title,
            Detail = draft.Detail,
            OwnerId = owner,
            TeamId = team,
            JourneyKey = draft.JourneyKey,
            TouchpointKey = draft.TouchpointKey,
            CreatedAt = now,
            DueAt = draft.DueAt == default ? now + options.Value.DefaultSla : draft.DueAt,
            CaseStudyId = draft.CaseStudyId,
            IdeaId = draft.IdeaId,
        }, actor, ct) ?? throw new InvalidOperationException("a new action id collided.");
        await write.CommitAsync(ct);
        return created;
    }

    /// <summary>Inserts the action and publishes action.created; null (and nothing published) when it exists already.</summary>
    private static async Task<ActionRow?> InsertAsync(WriteScope write, ActionRow action, string actor, CancellationToken ct)
    {
        var created = await ActionStore.InsertAsync(write, action, actor, ct);
        if (created is null) return null;
        write.AfterCommit(_ =>
        {
            GovernanceMetrics.ActionsCreated.Add(1, new KeyValuePair<string, object?>("source", created.Source));
            return Task.CompletedTask;
        });
        await write.PublishAsync(Topics.ActionCreated, new ActionCreated
        {
            OccurredAt = Timestamp.FromDateTime(created.CreatedAt),
            ActionId = created.Id.ToString(),
            Source = created.Source,
            AlertId = created.AlertId ?? "",
            OwnerId = created.OwnerId ?? "",
            TeamId = created.TeamId ?? "",
            JourneyKey = created.JourneyKey ?? "",
            TouchpointKey = created.TouchpointKey ?? "",
            DueAt = Timestamp.FromDateTime(created.DueAt),
            PartnerId = created.PartnerId ?? "",
            Title = created.Title,
            // Only words that went through redaction (an alert's verbatim): never free text typed by a person.
            Summary = created.Source == "alert" && created.Detail is { Length: > 0 } detail
                ? (detail.Length <= 500 ? detail : detail[..499] + "…")
                : "",
        }, created.Id.ToString(), ct);
        return created;
    }

    private static ActionTitles.AlertKind ToAlertKind(AlertKind kind) => kind switch
    {
        AlertKind.Detractor => ActionTitles.AlertKind.Detractor,
        AlertKind.NegativeComplaint => ActionTitles.AlertKind.NegativeComplaint,
        AlertKind.ScoreDrop => ActionTitles.AlertKind.ScoreDrop,
        _ => ActionTitles.AlertKind.Other,
    };

    private static string MetricName(Metric metric) => metric switch { Metric.Unspecified => "score", Metric.Enps => "eNPS", _ => metric.ToString().ToUpperInvariant() };

}
