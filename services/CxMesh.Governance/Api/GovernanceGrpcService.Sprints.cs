using System.Globalization;
using System.Text;
using CxMesh.Common.V1;
using CxMesh.Governance.Data;
using CxMesh.Governance.Domain;
using CxMesh.Governance.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Clients;
using CxMesh.Platform.Errors;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using ScoringApi = CxMesh.Scoring.V1;

namespace CxMesh.Governance.Api;

public sealed partial class GovernanceGrpcService
{
    // ---- Improvement sprints ----

    [Authorize(Roles = Roles.Admin)]
    public override async Task<CreateSprintResponse> CreateSprint(CreateSprintRequest request, ServerCallContext context)
    {
        var s = request.Sprint ?? throw new FieldViolationException("sprint", "sprint is required.");
        var name = Check.Text(s.Name, "sprint.name", 200);
        var start = Check.Date(s.StartDate, "sprint.start_date");
        var end = Check.Date(s.EndDate, "sprint.end_date");
        if (SprintRules.LengthProblem(start, end) is { } length)
        {
            throw new PreconditionFailedException("SPRINT_LENGTH", "The sprint rule: " + length, "sprint.end_date", new Dictionary<string, string>
            { ["rule"] = $"{SprintRules.LengthDays} days", ["expected_end_date"] = SprintRules.EndFor(start).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) });
        }
        if (SprintRules.PriorityCountProblem(s.Priorities.Count) is { } count)
        {
            throw new PreconditionFailedException("SPRINT_PRIORITY_COUNT", "The sprint rule: " + count, "sprint.priorities", new Dictionary<string, string>
            { ["rule"] = $"{SprintRules.MinPriorities}-{SprintRules.MaxPriorities} priorities", ["count"] = s.Priorities.Count.ToString(CultureInfo.InvariantCulture) });
        }
        var sprint = new SprintRow { Id = Guid.CreateVersion7(), Name = name, StartDate = start, EndDate = end };
        for (var i = 0; i < s.Priorities.Count; i++)
        {
            sprint.Priorities.Add(PriorityRow(s.Priorities[i], $"sprint.priorities[{i}]", sprint.Id, i));
        }
        return new CreateSprintResponse { Sprint = ProtoMapping.ToProto(await programme.CreateSprintAsync(sprint, context.CancellationToken)) };
    }

    private static PriorityRow PriorityRow(Priority p, string field, Guid sprintId, int position)
    {
        CheckScope(p.Scope, $"{field}.scope");
        if (p.Metric is Metric.Unspecified) throw new FieldViolationException($"{field}.metric", $"{field}.metric is required.");
        if (p.Metric is Metric.Custom && p.QuestionId.Length == 0)
        {
            throw new FieldViolationException($"{field}.question_id", "a custom metric needs its question_id.");
        }
        if (p.TargetChange == 0 || !double.IsFinite(p.TargetChange))
        {
            throw new FieldViolationException($"{field}.target_change", "target_change is the change aimed for, not zero (e.g. 5 for +5 NPS points).");
        }
        return new PriorityRow
        {
            Id = Guid.CreateVersion7(),
            SprintId = sprintId,
            Position = position,
            Title = Check.Text(p.Title, $"{field}.title", 200),
            OwnerId = Check.Key(p.OwnerId, $"{field}.owner_id"),
            Scope = JsonFormatter.Default.Format(p.Scope ?? new ScoringApi.Scope()),
            Metric = (int)p.Metric,
            QuestionId = Check.OptionalKey(p.QuestionId, $"{field}.question_id") ?? "",
            TargetChange = p.TargetChange,
        };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<AddPriorityResponse> AddPriority(AddPriorityRequest request, ServerCallContext context)
    {
        var sprintId = Check.Id(request.SprintId, "sprint_id");
        var priority = PriorityRow(request.Priority ?? throw new FieldViolationException("priority", "priority is required."), "priority", sprintId, 0);
        var ideaId = Check.OptionalId(request.IdeaId, "idea_id");
        return new() { Sprint = ProtoMapping.ToProto(await programme.AddPriorityAsync(priority, ideaId, context.CancellationToken)) };
    }

    private static void CheckScope(ScoringApi.Scope? scope, string field)
    {
        if (scope is null) return;
        if (scope.Dimensions.Count > 2) throw new FieldViolationException($"{field}.dimensions", "a scope has at most two dimensions.");
        for (var i = 0; i < scope.Dimensions.Count; i++)
        {
            var d = scope.Dimensions[i];
            if (d.Kind is ScoringApi.DimensionKind.Unspecified) throw new FieldViolationException($"{field}.dimensions[{i}].kind", "kind is required.");
            if (d.Value.Length is 0 or > 256) throw new FieldViolationException($"{field}.dimensions[{i}].value", "value must be 1-256 characters.");
        }
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetSprintResponse> GetSprint(GetSprintRequest request, ServerCallContext context) =>
        new() { Sprint = ProtoMapping.ToProto(await programme.SprintAsync(Check.Id(request.SprintId, "sprint_id"), context.CancellationToken)) };

    [Authorize(Roles = Readers)]
    public override async Task<ListSprintsResponse> ListSprints(ListSprintsRequest request, ServerCallContext context)
    {
        var page = Check.Page(request.PageSize, request.PageToken, 1000, 1000);
        // Newest first: sprint ids are UUIDv7, ordered by creation.
        var sprints = Pages.Slice((await programme.SprintsAsync(context.CancellationToken)).Select(ProtoMapping.ToProto), s => s.Id, page, out var next, descending: true);
        return new() { Sprints = { sprints }, NextPageToken = next };
    }

    [Authorize(Roles = Actors)]
    public override async Task<LinkToPriorityResponse> LinkToPriority(LinkToPriorityRequest request, ServerCallContext context)
    {
        var sprintId = Check.Id(request.SprintId, "sprint_id");
        var priorityId = Check.Id(request.PriorityId, "priority_id");
        var actionId = Check.OptionalId(request.ActionId, "action_id");
        var ideaId = Check.OptionalId(request.IdeaId, "idea_id");
        if ((actionId is null) == (ideaId is null)) throw new FieldViolationException("action_id", "give exactly one of action_id and idea_id.");
        return new() { Sprint = ProtoMapping.ToProto(await programme.LinkAsync(sprintId, priorityId, actionId, ideaId, context.CancellationToken)) };
    }

    /// <summary>
    /// Each priority's metric over the 84 days before the sprint against the sprint so far, compared by scoring
    /// (difference, interval, p-value). Any failure to reach scoring fails the whole call: a summary with holes
    /// would read as "no change".
    /// </summary>
    [Authorize(Roles = Readers)]
    public override async Task<GetSprintProgressResponse> GetSprintProgress(GetSprintProgressRequest request, ServerCallContext context)
    {
        var alpha = request.Alpha == 0 ? 0.05 : request.Alpha;
        if (alpha is <= 0 or >= 0.5) throw new FieldViolationException("alpha", "alpha must be between 0 and 0.5 (defaults to 0.05).");
        var sprint = await programme.SprintAsync(Check.Id(request.SprintId, "sprint_id"), context.CancellationToken);
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var elapsed = SprintRules.DaysElapsed(sprint.StartDate, today);
        var response = new GetSprintProgressResponse { Sprint = ProtoMapping.ToProto(sprint), DaysElapsed = elapsed };
        var before = Range(sprint.StartDate.AddDays(-SprintRules.LengthDays), Min(sprint.StartDate.AddDays(-1), today));
        var summary = new StringBuilder();
        foreach (var p in sprint.Priorities)
        {
            var scope = ScoringApi.Scope.Parser.ParseJson(p.Scope);
            var progress = new PriorityProgress { PriorityId = p.Id.ToString(), Title = p.Title, TargetChange = p.TargetChange };
            if (elapsed == 0)
            {
                if (before is not null)
                {
                    var score = await ServiceClients.CallAsync("scoring", async () => await scoring.GetScoreAsync(new ScoringApi.GetScoreRequest
                    {
                        Scope = scope,
                        Metric = (Metric)p.Metric,
                        QuestionId = p.QuestionId,
                        Window = new ScoringApi.Window { Range = before },
                    }, cancellationToken: context.CancellationToken));
                    progress.Before = score.Score;
                }
                summary.AppendLine(CultureInfo.InvariantCulture, $"{p.Title}: not started (starts {sprint.StartDate:yyyy-MM-dd}); target {Signed(p.TargetChange)}");
            }
            else
            {
                var compared = await ServiceClients.CallAsync("scoring", async () => await scoring.CompareScoresAsync(new ScoringApi.CompareScoresRequest
                {
                    Metric = (Metric)p.Metric,
                    QuestionId = p.QuestionId,
                    Alpha = alpha,
                    A = new ScoringApi.ScoreQuery { Scope = scope, Window = new ScoringApi.Window { Range = Range(sprint.StartDate, Min(sprint.EndDate, today)) } },
                    B = new ScoringApi.ScoreQuery { Scope = scope, Window = new ScoringApi.Window { Range = before } },
                }, cancellationToken: context.CancellationToken));
                progress.Before = compared.B;
                progress.Now = compared.A;
                progress.Change = compared.Difference;
                progress.ChangeMarginOfError = compared.DifferenceMarginOfError;
                progress.PValue = compared.PValue;
                progress.Significant = compared.Significant;
                progress.TargetMet = compared.A.N > 0 && compared.B.N > 0 && SprintRules.TargetMet(compared.Difference, p.TargetChange);
                if (progress.TargetMet)
                {
                    response.TargetsMet++;
                    if (progress.Significant) response.TargetsMetSignificantly++;
                }
                var verdict = compared.A.N == 0 || compared.B.N == 0
                    ? "no responses to compare yet"
                    : progress.TargetMet ? progress.Significant ? "met" : "met, not yet significant" : "not met";
                summary.AppendLine(CultureInfo.InvariantCulture,
                    $"{p.Title}: {Signed(compared.Difference)} (±{compared.DifferenceMarginOfError:0.0}, {(compared.HasPValue ? $"p={compared.PValue:0.###}" : "no test: no spread")}) vs target {Signed(p.TargetChange)} — {verdict}");
            }
            response.Priorities.Add(progress);
        }
        response.Summary = summary.ToString().TrimEnd();
        return response;

        static ScoringApi.DateRange? Range(DateOnly from, DateOnly to) => from > to ? null : new ScoringApi.DateRange
        {
            StartDate = from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            EndDate = to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
        static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;
        static string Signed(double v) => v.ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture);
    }

    // ---- The 1% challenge ----

    [Authorize(Roles = Internal)]
    public override async Task<SubmitIdeaResponse> SubmitIdea(SubmitIdeaRequest request, ServerCallContext context)
    {
        var i = request.Idea ?? throw new FieldViolationException("idea", "idea is required.");
        if (i.Effort is Effort.Unspecified || !Enum.IsDefined(i.Effort)) throw new FieldViolationException("idea.effort", "idea.effort is required: low, medium or high.");
        var row = await programme.SubmitIdeaAsync(new IdeaRow
        {
            Id = Guid.CreateVersion7(),
            Title = Check.Text(i.Title, "idea.title", 200),
            Description = Check.OptionalText(i.Description, "idea.description", 4000) ?? "",
            ThemeKey = Check.OptionalKey(i.ThemeKey, "idea.theme_key"),
            JourneyKey = Check.OptionalKey(i.JourneyKey, "idea.journey_key"),
            TouchpointKey = Check.OptionalKey(i.TouchpointKey, "idea.touchpoint_key"),
            Effort = (int)i.Effort,
            SubmittedBy = ActingMember(context, Check.Key(i.SubmittedBy, "idea.submitted_by"), "idea.submitted_by"),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        }, context.CancellationToken);
        return new SubmitIdeaResponse { Idea = ProtoMapping.ToProto(row) };
    }

    [Authorize(Roles = Internal)]
    public override async Task<VoteIdeaResponse> VoteIdea(VoteIdeaRequest request, ServerCallContext context) =>
        new()
        {
            Idea = ProtoMapping.ToProto(await programme.VoteAsync(Check.Id(request.IdeaId, "idea_id"),
                ActingMember(context, Check.Key(request.MemberId, "member_id"), "member_id"), context.CancellationToken)),
        };

    /// <summary>
    /// Who an idea or a vote is from: apps (an intranet acting for its signed-in user) and admins name the member;
    /// anyone else acts as themselves (the token's subject), so nobody votes twice under other people's names.
    /// </summary>
    private static string ActingMember(ServerCallContext context, string memberId, string field)
    {
        var user = context.GetHttpContext().User;
        if (user.IsInRole(Roles.App) || user.IsInRole(Roles.Admin) || user.Identity?.Name == memberId) return memberId;
        throw new RpcException(new Status(StatusCode.PermissionDenied,
            $"{field}: '{memberId}' is not you; only apps and admins act for other members."));
    }

    [Authorize(Roles = Actors)]
    public override async Task<AdvanceIdeaResponse> AdvanceIdea(AdvanceIdeaRequest request, ServerCallContext context)
    {
        var id = Check.Id(request.IdeaId, "idea_id");
        var to = ProtoMapping.IdeaStateName(request.To) ?? throw new FieldViolationException("to", "to must name the idea's next state.");
        var note = to == IdeaFlow.Measured ? Check.Text(request.Note, "note", 2000) : Check.OptionalText(request.Note, "note", 2000);
        return new() { Idea = ProtoMapping.ToProto(await programme.AdvanceIdeaAsync(id, to, note, context.CancellationToken)) };
    }

    [Authorize(Roles = Internal)]
    public override async Task<ListIdeasResponse> ListIdeas(ListIdeasRequest request, ServerCallContext context)
    {
        var states = request.States.Select((s, i) => ProtoMapping.IdeaStateName(s) ?? throw new FieldViolationException($"states[{i}]", "states[] must name a state.")).ToList();
        var page = Check.Page(request.PageSize, request.PageToken, 200, 50);
        var after = page.After is null ? null : ProgrammeStore.IdeaPosition.Parse(page.After)
            ?? throw new FieldViolationException("page_token", "page_token is not one this method gave (list again from the first page).");
        var rows = Pages.Trim((await programme.IdeasAsync(states, Check.OptionalKey(request.ThemeKey, "theme_key"), Check.OptionalKey(request.JourneyKey, "journey_key"),
            after, page.Size + 1, context.CancellationToken)).ToList(), page, i => ProgrammeStore.IdeaPosition.Of(i).ToString(), out var next);
        return new ListIdeasResponse { Ideas = { rows.Select(ProtoMapping.ToProto) }, NextPageToken = next };
    }
}
