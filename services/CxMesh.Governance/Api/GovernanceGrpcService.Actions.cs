using CxMesh.Governance.Data;
using CxMesh.Governance.Domain;
using CxMesh.Governance.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Errors;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace CxMesh.Governance.Api;

public sealed partial class GovernanceGrpcService
{
    /// <summary>
    /// A journey-owner's token (without admin) acts as its subject, who must be a member, within their journeys
    /// (<see cref="JourneyScope"/>). Null for callers the scope does not apply to.
    /// </summary>
    private async Task<(string Member, IReadOnlySet<string> Journeys)?> JourneyOwnerScopeAsync(ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        if (!user.IsInRole(Roles.JourneyOwner) || user.IsInRole(Roles.Admin)) return null;
        var member = user.Identity?.Name ?? "";
        var journeys = await people.JourneysOfAsync(member, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"the token's subject '{member}' is not a member of the CX programme: a journey-owner acts as a member (an admin adds them with SaveMember)."));
        return (member, journeys);
    }

    private async Task RequireJourneyInScopeAsync(string? journeyKey, string field, ServerCallContext context)
    {
        if (await JourneyOwnerScopeAsync(context) is not { } scope) return;
        if (journeyKey is null) throw new RpcException(new Status(StatusCode.PermissionDenied, $"{field}: a journey-owner names one of their journeys."));
        if (JourneyScope.RefuseJourney(scope.Member, journeyKey, scope.Journeys) is { } refusal) throw new RpcException(new Status(StatusCode.PermissionDenied, refusal));
    }

    private async Task<Guid> RequireActionInScopeAsync(Guid actionId, ServerCallContext context)
    {
        if (await JourneyOwnerScopeAsync(context) is not { } scope) return actionId;
        var action = (await actions.GetAsync(actionId, context.CancellationToken)).Action;
        if (JourneyScope.RefuseAction(scope.Member, actionId, action.OwnerId, action.JourneyKey, scope.Journeys) is { } refusal)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, refusal));
        }
        return actionId;
    }

    [Authorize(Roles = Actors)]
    public override async Task<CreateActionResponse> CreateAction(CreateActionRequest request, ServerCallContext context)
    {
        var a = request.Action ?? throw new FieldViolationException("action", "action is required.");
        await RequireJourneyInScopeAsync(Check.OptionalKey(a.JourneyKey, "action.journey_key"), "action.journey_key", context);
        var now = clock.GetUtcNow().UtcDateTime;
        DateTime due = default;
        if (a.DueAt is not null)
        {
            due = a.DueAt.ToDateTime();
            if (due <= now) throw new FieldViolationException("action.due_at", "action.due_at must be in the future.");
        }
        var row = await raiseAction.ByHandAsync(new ActionRow
        {
            Title = Check.Text(a.Title, "action.title", 200),
            Detail = Check.OptionalText(a.Detail, "action.detail", 4000),
            OwnerId = Check.OptionalKey(a.OwnerId, "action.owner_id"),
            TeamId = Check.OptionalKey(a.TeamId, "action.team_id"),
            JourneyKey = Check.OptionalKey(a.JourneyKey, "action.journey_key"),
            TouchpointKey = Check.OptionalKey(a.TouchpointKey, "action.touchpoint_key"),
            CaseStudyId = Check.OptionalId(a.CaseStudyId, "action.case_study_id"),
            IdeaId = Check.OptionalId(a.IdeaId, "action.idea_id"),
            DueAt = due,
        }, Actor(context), context.CancellationToken);
        return new CreateActionResponse { Action = ProtoMapping.ToProto(new ActionDetails(row, [], [])) };
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetActionResponse> GetAction(GetActionRequest request, ServerCallContext context) =>
        new() { Action = ProtoMapping.ToProto(await actions.GetAsync(Check.Id(request.ActionId, "action_id"), context.CancellationToken)) };

    [Authorize(Roles = Readers)]
    public override async Task<ListActionsResponse> ListActions(ListActionsRequest request, ServerCallContext context)
    {
        var limit = Check.PageSize(request.PageSize, "page_size", 200, 50);
        (DateTime, Guid)? after = null;
        if (request.PageToken.Length > 0)
        {
            if (!PageTokens.TryDecode(request.PageToken, out var position) || position.Split('|') is not [var ticks, var id]
                || !long.TryParse(ticks, out var t) || !Guid.TryParse(id, out var g))
            {
                throw new FieldViolationException("page_token", "page_token was not issued by ListActions.");
            }
            after = (new DateTime(t, DateTimeKind.Utc), g);
        }
        var states = request.States.Count == 0
            ? [ActionFlow.Open, ActionFlow.InProgress]
            : request.States.Select((s, i) => ProtoMapping.StateName(s) ?? throw new FieldViolationException($"states[{i}]", "states[] must name a state.")).ToList();
        var rows = await actions.ListAsync(new ActionFilter(Check.OptionalKey(request.OwnerId, "owner_id"), Check.OptionalKey(request.TeamId, "team_id"),
            Check.OptionalKey(request.JourneyKey, "journey_key"), states, request.OverdueOnly, after, limit + 1), context.CancellationToken);
        var response = new ListActionsResponse();
        response.Actions.AddRange(rows.Take(limit).Select(r => ProtoMapping.ToProto(new ActionDetails(r, [], []))));
        if (rows.Count > limit)
        {
            var last = rows[limit - 1];
            response.NextPageToken = PageTokens.Encode($"{last.DueAt.Ticks}|{last.Id}");
        }
        return response;
    }

    [Authorize(Roles = Actors)]
    public override async Task<StartActionResponse> StartAction(StartActionRequest request, ServerCallContext context) =>
        new()
        {
            Action = ProtoMapping.ToProto(await moveAction.MoveAsync(await RequireActionInScopeAsync(Check.Id(request.ActionId, "action_id"), context), ActionFlow.InProgress, Actor(context),
                null, null, null, Check.OptionalText(request.Comment, "comment", 4000), context.CancellationToken)),
        };

    [Authorize(Roles = Actors)]
    public override async Task<ResolveActionResponse> ResolveAction(ResolveActionRequest request, ServerCallContext context)
    {
        var id = await RequireActionInScopeAsync(Check.Id(request.ActionId, "action_id"), context);
        var rootCause = Check.Text(request.RootCause, "root_cause", 4000);
        var resolution = Check.Text(request.Resolution, "resolution", 4000);
        return new() { Action = ProtoMapping.ToProto(await moveAction.MoveAsync(id, ActionFlow.Resolved, Actor(context), rootCause, resolution, null, null, context.CancellationToken)) };
    }

    [Authorize(Roles = Actors)]
    public override async Task<CloseActionResponse> CloseAction(CloseActionRequest request, ServerCallContext context)
    {
        var id = await RequireActionInScopeAsync(Check.Id(request.ActionId, "action_id"), context);
        var reason = Check.Text(request.Reason, "reason", 4000);
        return new() { Action = ProtoMapping.ToProto(await moveAction.MoveAsync(id, ActionFlow.Closed, Actor(context), null, null, reason, null, context.CancellationToken)) };
    }

    [Authorize(Roles = Actors)]
    public override async Task<ReassignActionResponse> ReassignAction(ReassignActionRequest request, ServerCallContext context)
    {
        var id = await RequireActionInScopeAsync(Check.Id(request.ActionId, "action_id"), context);
        var owner = Check.OptionalKey(request.OwnerId, "owner_id");
        var team = Check.OptionalKey(request.TeamId, "team_id");
        if ((owner is null) == (team is null)) throw new FieldViolationException("owner_id", "give exactly one of owner_id (a member) and team_id.");
        return new()
        {
            Action = ProtoMapping.ToProto(await moveAction.ReassignAsync(id, owner, team, Actor(context), Check.OptionalText(request.Reason, "reason", 2000), context.CancellationToken)),
        };
    }

    [Authorize(Roles = Actors)]
    public override async Task<CommentOnActionResponse> CommentOnAction(CommentOnActionRequest request, ServerCallContext context)
    {
        var id = await RequireActionInScopeAsync(Check.Id(request.ActionId, "action_id"), context);
        return new() { Action = ProtoMapping.ToProto(await moveAction.CommentAsync(id, Actor(context), Check.Text(request.Text, "text", 4000), context.CancellationToken)) };
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetActionMetricsResponse> GetActionMetrics(GetActionMetricsRequest request, ServerCallContext context)
    {
        var journey = Check.OptionalKey(request.JourneyKey, "journey_key");
        var team = Check.OptionalKey(request.TeamId, "team_id");
        if (journey is not null && team is not null) throw new FieldViolationException("team_id", "give journey_key or team_id, not both.");
        var days = request.WindowDays == 0 ? 30 : request.WindowDays;
        if (days is < 1 or > 366) throw new FieldViolationException("window_days", "window_days must be 1-366 (defaults to 30).");
        var m = await actions.MetricsAsync(journey, team, clock.GetUtcNow().UtcDateTime.AddDays(-days), context.CancellationToken);
        return new GetActionMetricsResponse
        {
            Created = m.Created,
            Open = m.Open,
            InProgress = m.InProgress,
            Resolved = m.Resolved,
            Closed = m.Closed,
            Overdue = m.Overdue,
            MedianHoursToFirstResponse = m.Summary.MedianHoursToFirstResponse,
            MeanHoursToFirstResponse = m.Summary.MeanHoursToFirstResponse,
            MedianHoursToResolve = m.Summary.MedianHoursToResolve,
            MeanHoursToResolve = m.Summary.MeanHoursToResolve,
            WithinSlaPercent = m.Summary.WithinSlaPercent,
            SlaDecided = m.Summary.SlaDecided,
        };
    }
}
