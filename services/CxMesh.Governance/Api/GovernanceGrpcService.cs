using CxMesh.Governance.Data;
using CxMesh.Governance.Domain;
using CxMesh.Governance.UseCases;
using CxMesh.Governance.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Clients;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Validation;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using ScoringApi = CxMesh.Scoring.V1;

namespace CxMesh.Governance.Api;

/// <summary>
/// The governance API. One class in several files, by area: people and the programme here; actions, sprints and ideas,
/// and case studies, culture, sharing and audit in their own files.
/// </summary>
public sealed partial class GovernanceGrpcService(
    PeopleStore people,
    ProgrammeStore programme,
    ActionStore actions, RaiseAction raiseAction, MoveAction moveAction, DecideSharing decideSharing,
    CaseStudyStore caseStudies,
    SharingStore sharing,
    AuditLog audit,
    ScoringApi.ScoringService.ScoringServiceClient scoring,
    CxMesh.Feedback.V1.FeedbackService.FeedbackServiceClient feedback,
    CxMesh.Journey.V1.JourneyService.JourneyServiceClient journeys,
    TimeProvider clock) : GovernanceService.GovernanceServiceBase
{
    private const string Internal = $"{Roles.Admin},{Roles.Analyst},{Roles.JourneyOwner},{Roles.App}";
    private const string Readers = $"{Roles.Admin},{Roles.Analyst},{Roles.JourneyOwner}";
    private const string Actors = $"{Roles.Admin},{Roles.JourneyOwner}";

    /// <summary>Governance requests are read field by field, failing at the first problem (see <see cref="Violations.FailFast"/>).</summary>
    private static readonly Violations Check = Violations.FailFast;

    private static string Actor(ServerCallContext context) => context.GetHttpContext().User.Identity?.Name ?? "unknown";

    // ---- People and ownership ----

    [Authorize(Roles = Roles.Admin)]
    public override async Task<CreateTeamResponse> CreateTeam(CreateTeamRequest request, ServerCallContext context)
    {
        var team = request.Team ?? throw new FieldViolationException("team", "team is required.");
        var row = await people.CreateTeamAsync(Check.Key(team.Id, "team.id"), Check.Text(team.Name, "team.name", 200), context.CancellationToken);
        return new CreateTeamResponse { Team = ProtoMapping.ToProto(row) };
    }

    [Authorize(Roles = Internal)]
    public override async Task<ListTeamsResponse> ListTeams(ListTeamsRequest request, ServerCallContext context)
    {
        var page = Check.Page(request.PageSize, request.PageToken, 1000, 1000);
        return new() { Teams = { Pages.Slice((await people.TeamsAsync(context.CancellationToken)).Select(ProtoMapping.ToProto), t => t.Id, page, out var next) }, NextPageToken = next };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<SaveMemberResponse> SaveMember(SaveMemberRequest request, ServerCallContext context)
    {
        var m = await UpdateMasks.ApplyAsync(request.UpdateMask, request.Member, "member", async named =>
        {
            var id = Check.Key(named.Id, "member.id");
            return ProtoMapping.ToProto(await people.MemberAsync(id, context.CancellationToken) ?? throw new NotFoundException("member", id));
        }, "id") ?? throw new FieldViolationException("member", "member is required.");
        if (m.Roles.Count > 10) throw new FieldViolationException("member.roles", "member.roles holds at most 10 roles.");
        var row = await people.SaveMemberAsync(new MemberRow
        {
            Id = Check.Key(m.Id, "member.id"),
            Name = Check.Text(m.Name, "member.name", 200),
            TeamId = Check.Key(m.TeamId, "member.team_id"),
            Roles = m.Roles.Select((r, i) => Check.Key(r, $"member.roles[{i}]")).Distinct().ToArray(),
        }, context.CancellationToken);
        return new SaveMemberResponse { Member = ProtoMapping.ToProto(row) };
    }

    [Authorize(Roles = Internal)]
    public override async Task<ListMembersResponse> ListMembers(ListMembersRequest request, ServerCallContext context)
    {
        var page = Check.Page(request.PageSize, request.PageToken, 1000, 1000);
        var members = await people.MembersAsync(Check.OptionalKey(request.TeamId, "team_id"), context.CancellationToken);
        return new() { Members = { Pages.Slice(members.Select(ProtoMapping.ToProto), m => m.Id, page, out var next) }, NextPageToken = next };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<AssignJourneyOwnersResponse> AssignJourneyOwners(AssignJourneyOwnersRequest request, ServerCallContext context)
    {
        var ownership = await people.AssignJourneyOwnersAsync(Check.Key(request.JourneyKey, "journey_key"), Check.Key(request.SponsorId, "sponsor_id"),
            Check.Key(request.OwnerId, "owner_id"), Actor(context), Check.OptionalText(request.Reason, "reason", 2000), context.CancellationToken);
        return new AssignJourneyOwnersResponse { Ownership = ProtoMapping.ToProto(ownership) };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<AssignTouchpointOwnerResponse> AssignTouchpointOwner(AssignTouchpointOwnerRequest request, ServerCallContext context)
    {
        var ownership = await people.AssignTouchpointOwnerAsync(Check.Key(request.JourneyKey, "journey_key"), Check.Key(request.TouchpointKey, "touchpoint_key"),
            Check.OptionalKey(request.OwnerId, "owner_id"), Actor(context), Check.OptionalText(request.Reason, "reason", 2000), context.CancellationToken);
        return new AssignTouchpointOwnerResponse { Ownership = ProtoMapping.ToProto(ownership) };
    }

    [Authorize(Roles = Internal)]
    public override async Task<GetJourneyOwnershipResponse> GetJourneyOwnership(GetJourneyOwnershipRequest request, ServerCallContext context) =>
        new() { Ownership = ProtoMapping.ToProto(await people.OwnershipAsync(Check.Key(request.JourneyKey, "journey_key"), context.CancellationToken)) };

    [Authorize(Roles = Roles.Admin)]
    public override async Task<SetPartnerContactResponse> SetPartnerContact(SetPartnerContactRequest request, ServerCallContext context)
    {
        await people.SetPartnerContactAsync(Check.Key(request.PartnerId, "partner_id"), Check.Key(request.MemberId, "member_id"), Actor(context), context.CancellationToken);
        return new SetPartnerContactResponse();
    }

    // ---- Vision and CX code ----

    [Authorize(Roles = Roles.Admin)]
    public override async Task<PublishVisionResponse> PublishVision(PublishVisionRequest request, ServerCallContext context)
    {
        var row = await programme.PublishVisionAsync(Check.Text(request.Vision, "vision", 2000), Check.Text(request.Mission, "mission", 2000),
            Actor(context), context.CancellationToken);
        return new PublishVisionResponse { Vision = ProtoMapping.ToProto(row) };
    }

    [Authorize(Roles = Internal)]
    public override async Task<GetVisionResponse> GetVision(GetVisionRequest request, ServerCallContext context)
    {
        if (request.Version < 0) throw new FieldViolationException("version", "version is 0 (the latest) or a version number.");
        var all = await programme.VisionsAsync(context.CancellationToken);
        var chosen = (request.Version == 0 ? all.FirstOrDefault() : all.FirstOrDefault(v => v.Version == request.Version))
            ?? throw new NotFoundException("vision", request.Version == 0 ? "latest" : $"version {request.Version}");
        var response = new GetVisionResponse { Vision = ProtoMapping.ToProto(chosen) };
        response.History.AddRange(all.Select(v => new Vision { Version = v.Version, PublishedBy = v.PublishedBy, PublishedAt = ProtoMapping.Time(v.PublishedAt) }));
        return response;
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<SetCxCodeResponse> SetCxCode(SetCxCodeRequest request, ServerCallContext context)
    {
        var drivers = request.Drivers.Select((d, i) => new CodeDriverRow(
            Check.Text(d.Name, $"drivers[{i}].name", 100),
            Check.Key(d.ThemeKey, $"drivers[{i}].theme_key"),
            Check.Text(d.Definition, $"drivers[{i}].definition", 2000),
            Check.Text(d.Target, $"drivers[{i}].target", 500))).ToList();
        var repeated = drivers.GroupBy(d => d.ThemeKey).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
        {
            throw new FieldViolationException($"drivers[{drivers.FindLastIndex(d => d.ThemeKey == repeated.Key)}].theme_key",
                $"theme '{repeated.Key}' is linked to two drivers; each driver has its own theme.");
        }
        // Each driver is measured by its theme, so the theme has to exist in feedback's taxonomy.
        var themes = (await ServiceClients.CallAsync("feedback", async () => await feedback.ListThemesAsync(new CxMesh.Feedback.V1.ListThemesRequest(),
            cancellationToken: context.CancellationToken))).Themes.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        if (drivers.FindIndex(d => !themes.Contains(d.ThemeKey)) is var unknown and >= 0)
        {
            throw new FieldViolationException($"drivers[{unknown}].theme_key",
                $"theme '{drivers[unknown].ThemeKey}' is not in the theme taxonomy (feedback's ListThemes); create it first or pick an existing one.");
        }
        if (CxCodeRules.DriverCountProblem(drivers.Count) is { } problem)
        {
            throw new PreconditionFailedException("CX_CODE_DRIVER_COUNT", "The CX code rule: " + problem, "drivers", new Dictionary<string, string>
            { ["rule"] = $"{CxCodeRules.MinDrivers}-{CxCodeRules.MaxDrivers} drivers", ["count"] = drivers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }
        return new SetCxCodeResponse { Code = ProtoMapping.ToProto(await programme.SetCxCodeAsync(drivers, Actor(context), context.CancellationToken)) };
    }

    [Authorize(Roles = Internal)]
    public override async Task<GetCxCodeResponse> GetCxCode(GetCxCodeRequest request, ServerCallContext context)
    {
        if (request.Version < 0) throw new FieldViolationException("version", "version is 0 (the current code) or a version number.");
        var code = await programme.CxCodeAsync(request.Version, context.CancellationToken)
            ?? throw new NotFoundException("cx code", request.Version == 0 ? "current" : $"version {request.Version}");
        return new GetCxCodeResponse { Code = ProtoMapping.ToProto(code) };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst}")]
    public override async Task<SuggestCxCodeResponse> SuggestCxCode(SuggestCxCodeRequest request, ServerCallContext context)
    {
        var days = request.WindowDays == 0 ? 90 : request.WindowDays;
        if (days is < 30 or > 366) throw new FieldViolationException("window_days", "window_days must be 30-366 (defaults to 90).");
        if (request.Scope?.Dimensions.Count > 1) throw new FieldViolationException("scope.dimensions", "key drivers take all feedback or one dimension.");
        var outcome = request.Outcome == ScoringApi.Outcome.Unspecified ? ScoringApi.Outcome.NpsRating : request.Outcome;
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var start = today.AddDays(1 - days);

        Task<ScoringApi.GetKeyDriversResponse> Drivers(DateOnly from, DateOnly to) => ServiceClients.CallAsync("scoring", async () =>
            await scoring.GetKeyDriversAsync(new ScoringApi.GetKeyDriversRequest
            {
                Scope = request.Scope ?? new ScoringApi.Scope(),
                Outcome = outcome,
                Window = new ScoringApi.Window { Range = new ScoringApi.DateRange { StartDate = from.ToString("yyyy-MM-dd"), EndDate = to.ToString("yyyy-MM-dd") } },
            }, cancellationToken: context.CancellationToken));

        var whole = await Drivers(start, today);
        var third = days / 3;
        var parts = new List<IReadOnlyDictionary<string, double>>();
        for (var i = 0; i < 3; i++)
        {
            var from = start.AddDays(i * third);
            var to = i == 2 ? today : from.AddDays(third - 1);
            var part = await Drivers(from, to);
            parts.Add(part.Drivers.ToDictionary(d => d.ThemeKey, d => d.RelativeWeightPercent));
        }
        var ranked = DriverSuggestion.Rank(
            whole.Drivers.Select(d => new DriverSuggestion.Candidate(d.ThemeKey, d.RelativeWeightPercent, d.Significant, d.Correlation, d.NegativePercent, d.Mentions)).ToList(),
            parts);
        var count = DriverSuggestion.SuggestedCount(ranked);
        var response = new SuggestCxCodeResponse { SuggestedCount = count, N = whole.N, RSquared = whole.RSquared };
        response.Drivers.AddRange(ranked.Select(r => new SuggestedDriver
        {
            ThemeKey = r.Driver.ThemeKey,
            Importance = r.Driver.Importance,
            Stability = r.Stability,
            RankScore = r.RankScore,
            Significant = r.Driver.Significant,
            Correlation = r.Driver.Correlation,
            NegativePercent = r.Driver.NegativePercent,
            Mentions = r.Driver.Mentions,
        }));
        if (count < CxCodeRules.MinDrivers)
        {
            response.Note = whole.Note.Length > 0
                ? $"Only {count} driver(s) to suggest: {whole.Note}"
                : $"Only {count} theme(s) are drivers in this scope and window; a CX code needs {CxCodeRules.MinDrivers}. Widen the window or the scope.";
        }
        return response;
    }
}
