using CxMesh.Events.V1;
using CxMesh.Governance.Data;
using CxMesh.Governance.Domain;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Governance.UseCases;

/// <summary>
/// An action moves through its states (open → in progress → resolved → closed), changes hands and gathers comments; a
/// settled partner dispute goes back to the partner (partner.response.updated) in the same write.
/// </summary>
public sealed class MoveAction([FromKeyedServices(GovernanceModule.Name)] ServiceDatabase database)
{
    /// <summary>Moves an action to <paramref name="to"/> (FAILED_PRECONDITION ACTION_TRANSITION when the move is not allowed).</summary>
    public async Task<ActionDetails> MoveAsync(Guid id, string to, string actor, string? rootCause, string? resolution, string? reason, string? comment, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var state = await ActionStore.LockAsync(write, id, ct);
        if (!ActionFlow.CanMove(state, to))
        {
            throw new PreconditionFailedException("ACTION_TRANSITION", $"action {id} is {state.Replace('_', ' ')}; it cannot move to {to.Replace('_', ' ')}.", "action_id",
                new Dictionary<string, string> { ["from"] = state, ["to"] = to });
        }
        var now = write.Now.UtcDateTime;
        await ActionStore.SetStateAsync(write, id, to, now, rootCause, resolution, reason, ct);
        var kind = to switch { ActionFlow.InProgress => "started", ActionFlow.Resolved => "resolved", _ => "closed" };
        await ActionStore.AddHistoryAsync(write, id, kind, actor, rootCause ?? reason, now, ct);
        if (to is ActionFlow.Resolved or ActionFlow.Closed && await ActionStore.DisputeOfAsync(write, id, ct) is { ResponseId: { } responseId, PartnerId: { } partnerId })
        {
            await write.PublishAsync(Topics.PartnerResponseUpdated, new PartnerResponseUpdated
            {
                OccurredAt = Timestamp.FromDateTime(now),
                ResponseId = responseId,
                PartnerId = partnerId,
                Status = to,
                Outcome = PartnerDisputes.Outcome(to, resolution, reason),
            }, $"{id}/{to}", ct);
        }
        if (!string.IsNullOrEmpty(comment)) await ActionStore.AddCommentAsync(write, id, actor, comment, now, ct);
        await write.CommitAsync(ct);
        return await ActionStore.DetailsAsync(write, id, ct);
    }

    public async Task<ActionDetails> ReassignAsync(Guid id, string? ownerId, string? teamId, string actor, string? reason, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var state = await ActionStore.LockAsync(write, id, ct);
        if (!ActionFlow.IsActive(state))
        {
            throw new PreconditionFailedException("ACTION_TRANSITION", $"action {id} is {state}; only open or in-progress actions are reassigned.", "action_id",
                new Dictionary<string, string> { ["from"] = state });
        }
        if (ownerId is not null) teamId = (await PeopleStore.RequireMemberAsync(write, ownerId, "owner_id", ct)).TeamId;
        else await PeopleStore.RequireTeamAsync(write, teamId!, "team_id", ct);
        await ActionStore.AssignAsync(write, id, ownerId, teamId, ct);
        await ActionStore.AddHistoryAsync(write, id, "reassigned", actor, $"to {ownerId ?? "team " + teamId}{(string.IsNullOrEmpty(reason) ? "" : ": " + reason)}",
            write.Now.UtcDateTime, ct);
        await write.CommitAsync(ct);
        return await ActionStore.DetailsAsync(write, id, ct);
    }

    public async Task<ActionDetails> CommentAsync(Guid id, string author, string text, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        await ActionStore.LockAsync(write, id, ct);
        await ActionStore.AddCommentAsync(write, id, author, text, write.Now.UtcDateTime, ct);
        await write.CommitAsync(ct);
        return await ActionStore.DetailsAsync(write, id, ct);
    }
}
