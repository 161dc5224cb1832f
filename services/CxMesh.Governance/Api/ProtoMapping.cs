using System.Text.Json;
using CxMesh.Common.V1;
using CxMesh.Governance.Data;
using CxMesh.Governance.Domain;
using CxMesh.Governance.V1;
using Google.Protobuf.WellKnownTypes;
using ScoringApi = CxMesh.Scoring.V1;

namespace CxMesh.Governance.Api;

/// <summary>Rows to messages, and the proto enums to the names stored.</summary>
internal static class ProtoMapping
{
    public static Timestamp Time(DateTime utc) => Timestamp.FromDateTime(DateTime.SpecifyKind(utc, DateTimeKind.Utc));

    private static Timestamp? Time(DateTime? utc) => utc is { } t ? Time(t) : null;

    public static Team ToProto(TeamRow row) => new() { Id = row.Id, Name = row.Name, CreatedAt = Time(row.CreatedAt) };

    public static Member ToProto(MemberRow row) => new() { Id = row.Id, Name = row.Name, TeamId = row.TeamId, Roles = { row.Roles }, UpdatedAt = Time(row.UpdatedAt) };

    public static JourneyOwnership ToProto(Ownership o)
    {
        var proto = new JourneyOwnership { JourneyKey = o.JourneyKey, SponsorId = o.SponsorId ?? "", OwnerId = o.OwnerId ?? "" };
        proto.TouchpointOwners.AddRange(o.TouchpointOwners.Select(t => new TouchpointOwner { TouchpointKey = t.TouchpointKey, OwnerId = t.OwnerId }));
        proto.History.AddRange(o.History.Select(h => new OwnershipChange
        {
            Role = h.Role,
            TouchpointKey = h.TouchpointKey ?? "",
            PreviousMemberId = h.PreviousMemberId ?? "",
            MemberId = h.MemberId ?? "",
            ChangedBy = h.ChangedBy,
            Reason = h.Reason ?? "",
            ChangedAt = Time(h.ChangedAt),
        }));
        return proto;
    }

    public static Vision ToProto(VisionRow row) => new()
    {
        Version = row.Version,
        Vision_ = row.Vision,
        Mission = row.Mission,
        PublishedBy = row.PublishedBy,
        PublishedAt = Time(row.PublishedAt),
    };

    public static CxCode ToProto(CxCodeRow row) => new()
    {
        Version = row.Version,
        SetBy = row.SetBy,
        SetAt = Time(row.SetAt),
        Drivers = { row.DriverList.Select(d => new CodeDriver { Name = d.Name, ThemeKey = d.ThemeKey, Definition = d.Definition, Target = d.Target }) },
    };

    public static string? StateName(ActionState state) => state switch
    {
        ActionState.Open => ActionFlow.Open,
        ActionState.InProgress => ActionFlow.InProgress,
        ActionState.Resolved => ActionFlow.Resolved,
        ActionState.Closed => ActionFlow.Closed,
        _ => null,
    };

    private static ActionState ActionStateOf(string name) => name switch
    {
        ActionFlow.Open => ActionState.Open,
        ActionFlow.InProgress => ActionState.InProgress,
        ActionFlow.Resolved => ActionState.Resolved,
        ActionFlow.Closed => ActionState.Closed,
        _ => ActionState.Unspecified,
    };

    public static V1.Action ToProto(ActionDetails details)
    {
        var a = details.Action;
        var proto = new V1.Action
        {
            Id = a.Id.ToString(),
            Source = a.Source,
            Title = a.Title,
            Detail = a.Detail ?? "",
            State = ActionStateOf(a.State),
            OwnerId = a.OwnerId ?? "",
            TeamId = a.TeamId ?? "",
            JourneyKey = a.JourneyKey ?? "",
            TouchpointKey = a.TouchpointKey ?? "",
            Channel = (Channel)a.Channel,
            CreatedAt = Time(a.CreatedAt),
            DueAt = Time(a.DueAt),
            FirstResponseAt = Time(a.FirstResponseAt),
            ResolvedAt = Time(a.ResolvedAt),
            ClosedAt = Time(a.ClosedAt),
            RootCause = a.RootCause ?? "",
            Resolution = a.Resolution ?? "",
            CloseReason = a.CloseReason ?? "",
            Overdue = a.OverdueAt is not null,
            EscalatedTo = a.EscalatedTo ?? "",
            AlertId = a.AlertId ?? "",
            FeedbackId = a.FeedbackId?.ToString() ?? "",
            CustomerId = a.CustomerId ?? "",
            PartnerId = a.PartnerId ?? "",
            CaseStudyId = a.CaseStudyId?.ToString() ?? "",
            IdeaId = a.IdeaId?.ToString() ?? "",
        };
        proto.Comments.AddRange(details.Comments.Select(c => new V1.ActionComment { Author = c.Author, Text = c.Text, CreatedAt = Time(c.CreatedAt) }));
        proto.History.AddRange(details.History.Select(h => new V1.ActionEvent { Kind = h.Kind, Actor = h.Actor, Detail = h.Detail ?? "", OccurredAt = Time(h.OccurredAt) }));
        return proto;
    }

    public static Sprint ToProto(SprintRow row) => new()
    {
        Id = row.Id.ToString(),
        Name = row.Name,
        StartDate = row.StartDate.ToString("yyyy-MM-dd"),
        EndDate = row.EndDate.ToString("yyyy-MM-dd"),
        CreatedAt = Time(row.CreatedAt),
        Priorities =
        {
            row.Priorities.Select(p => new Priority
            {
                Id = p.Id.ToString(),
                Title = p.Title,
                OwnerId = p.OwnerId,
                Scope = ScoringApi.Scope.Parser.ParseJson(p.Scope),
                Metric = (Metric)p.Metric,
                QuestionId = p.QuestionId,
                TargetChange = p.TargetChange,
                ActionIds = { p.ActionIds.Select(id => id.ToString()) },
                IdeaIds = { p.IdeaIds.Select(id => id.ToString()) },
            }),
        },
    };

    public static string? IdeaStateName(IdeaState state) => state switch
    {
        IdeaState.Proposed => IdeaFlow.Proposed,
        IdeaState.Accepted => IdeaFlow.Accepted,
        IdeaState.Implemented => IdeaFlow.Implemented,
        IdeaState.Measured => IdeaFlow.Measured,
        IdeaState.Rejected => IdeaFlow.Rejected,
        _ => null,
    };

    public static Idea ToProto(IdeaRow row) => new()
    {
        Id = row.Id.ToString(),
        Title = row.Title,
        Description = row.Description,
        ThemeKey = row.ThemeKey ?? "",
        JourneyKey = row.JourneyKey ?? "",
        TouchpointKey = row.TouchpointKey ?? "",
        Effort = (Effort)row.Effort,
        State = System.Enum.GetValues<IdeaState>().First(s => IdeaStateName(s) == row.State),
        Votes = row.Votes,
        SubmittedBy = row.SubmittedBy,
        CreatedAt = Time(row.CreatedAt),
        MeasuredResult = row.MeasuredResult ?? "",
        DecisionNote = row.DecisionNote ?? "",
    };

    private sealed record StoredRating(string QuestionId, int Value);

    private sealed record StoredTimelineEntry(string JourneyKey, string TouchpointKey, string StageKey, DateTime? OccurredAt);

    public static CaseStudy ToProto(CaseStudyRow row)
    {
        var proto = new CaseStudy
        {
            Id = row.Id.ToString(),
            Title = row.Title,
            JourneyKey = row.JourneyKey ?? "",
            TouchpointKeys = { row.TouchpointKeys },
            ThemeKeys = { row.ThemeKeys },
            CustomerPainPoints = { row.CustomerPainPoints },
            BusinessPainPoints = { row.BusinessPainPoints },
            Lessons = { row.Lessons },
            PerfectJourney = row.PerfectJourney,
            NextStepActionIds = { row.NextStepActionIds.Select(id => id.ToString()) },
            FeedbackId = row.FeedbackId?.ToString() ?? "",
            RedactedVerbatim = row.RedactedVerbatim ?? "",
            CreatedBy = row.CreatedBy,
            CreatedAt = Time(row.CreatedAt),
            UpdatedAt = Time(row.UpdatedAt),
        };
        foreach (var r in JsonSerializer.Deserialize<List<StoredRating>>(row.Ratings, ProgrammeStore.Json)!)
        {
            proto.Ratings.Add(new CaseRating { QuestionId = r.QuestionId, Value = r.Value, Metric = StandardMetric(r.QuestionId) });
        }
        foreach (var t in JsonSerializer.Deserialize<List<StoredTimelineEntry>>(row.Timeline, ProgrammeStore.Json)!)
        {
            proto.Timeline.Add(new CaseTimelineEntry
            {
                JourneyKey = t.JourneyKey,
                TouchpointKey = t.TouchpointKey,
                StageKey = t.StageKey,
                OccurredAt = Time(t.OccurredAt?.ToUniversalTime()),
            });
        }
        return proto;
    }

    /// <summary>The standard questions feedback seeds carry their metric in their id; others are left unspecified.</summary>
    private static Metric StandardMetric(string questionId) => questionId switch
    {
        "nps" => Metric.Nps,
        "enps" => Metric.Enps,
        "csat" => Metric.Csat,
        "ces" => Metric.Ces,
        _ => Metric.Unspecified,
    };

    public static CultureAssessment ToProto(CultureRow row) => new()
    {
        TeamId = row.TeamId,
        Period = row.Period,
        Conscience = row.Conscience,
        Communication = row.Communication,
        Consistency = row.Consistency,
        Credibility = row.Credibility,
        Note = row.Note,
        RecordedBy = row.RecordedBy,
        RecordedAt = Time(row.RecordedAt),
    };

    public static string? ApprovalStateName(ApprovalState state) => state switch
    {
        ApprovalState.Pending => "pending",
        ApprovalState.Approved => "approved",
        ApprovalState.Rejected => "rejected",
        _ => null,
    };

    public static SharingApproval ToProto(SharingApprovalRow row) => new()
    {
        PartnerId = row.PartnerId,
        PartnerName = row.PartnerName,
        AgreementId = row.AgreementId.ToString(),
        Version = row.Version,
        Fields = { row.Fields },
        Scope = { row.Scope },
        MinGroupSize = row.MinGroupSize,
        Cadence = row.Cadence,
        RetentionDays = row.RetentionDays,
        ExpiresOn = row.ExpiresOn,
        SubmittedBy = row.SubmittedBy,
        SubmittedAt = Time(row.SubmittedAt),
        State = row.State switch { "approved" => ApprovalState.Approved, "rejected" => ApprovalState.Rejected, _ => ApprovalState.Pending },
        DecidedBy = row.DecidedBy ?? "",
        Reason = row.Reason ?? "",
        DecidedAt = Time(row.DecidedAt),
    };

    public static AuditEntry ToProto(AuditChain.Entry e) => new()
    {
        Sequence = e.Sequence,
        OccurredAt = Time(e.OccurredAt),
        Kind = e.Kind,
        Subject = e.Subject,
        Actor = e.Actor,
        Details = e.Details,
        PreviousHash = e.PreviousHash,
        Hash = e.Hash,
    };
}
