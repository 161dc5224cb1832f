using System.Text.Json;
using CxMesh.Governance.Data;
using CxMesh.Governance.Domain;
using CxMesh.Governance.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Clients;
using CxMesh.Platform.Errors;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using FeedbackApi = CxMesh.Feedback.V1;
using JourneyApi = CxMesh.Journey.V1;

namespace CxMesh.Governance.Api;

public sealed partial class GovernanceGrpcService
{
    // ---- Case studies ----

    [Authorize(Roles = Actors)]
    public override async Task<CreateCaseStudyResponse> CreateCaseStudy(CreateCaseStudyRequest request, ServerCallContext context)
    {
        var c = request.CaseStudy ?? throw new FieldViolationException("case_study", "case_study is required.");
        var row = WrittenParts(c, Guid.CreateVersion7(), Actor(context));
        await RequireJourneyInScopeAsync(row.JourneyKey, "case_study.journey_key", context);
        return new CreateCaseStudyResponse { CaseStudy = ProtoMapping.ToProto(await caseStudies.CreateAsync(row, context.CancellationToken)) };
    }

    private static CaseStudyRow WrittenParts(CaseStudy c, Guid id, string actor) => new()
    {
        Id = id,
        Title = Check.Text(c.Title, "case_study.title", 200),
        JourneyKey = Check.OptionalKey(c.JourneyKey, "case_study.journey_key"),
        TouchpointKeys = c.TouchpointKeys.Select((k, i) => Check.Key(k, $"case_study.touchpoint_keys[{i}]")).Distinct().ToArray(),
        ThemeKeys = c.ThemeKeys.Select((k, i) => Check.Key(k, $"case_study.theme_keys[{i}]")).Distinct().ToArray(),
        CustomerPainPoints = Check.Texts(c.CustomerPainPoints, "case_study.customer_pain_points", 20, 1000),
        BusinessPainPoints = Check.Texts(c.BusinessPainPoints, "case_study.business_pain_points", 20, 1000),
        Lessons = Check.Texts(c.Lessons, "case_study.lessons", 20, 1000),
        PerfectJourney = Check.OptionalText(c.PerfectJourney, "case_study.perfect_journey", 4000) ?? "",
        CreatedBy = actor,
    };

    /// <summary>
    /// Pulls the item from feedback (as an analyst: the redacted verbatim only, never the raw text or contact details)
    /// and the customer's journeys from journey, both over gRPC with deadlines; either being down is UNAVAILABLE.
    /// </summary>
    [Authorize(Roles = Actors)]
    public override async Task<CreateCaseStudyFromFeedbackResponse> CreateCaseStudyFromFeedback(CreateCaseStudyFromFeedbackRequest request, ServerCallContext context)
    {
        var feedbackId = Check.Id(request.FeedbackId, "feedback_id");
        var title = Check.OptionalText(request.Title, "title", 200);
        var item = (await ServiceClients.CallAsync("feedback",
            async () => await feedback.GetFeedbackAsync(new FeedbackApi.GetFeedbackRequest { Id = feedbackId.ToString() }, cancellationToken: context.CancellationToken),
            _ => new NotFoundException("feedback", feedbackId.ToString()))).Item;
        if (item.Erased)
        {
            throw new PreconditionFailedException("FEEDBACK_ERASED", $"feedback {feedbackId} belongs to an erased customer; it cannot become a case study.", "feedback_id");
        }
        var timeline = new List<CaseTimelineEntry>();
        if (item.CustomerId.Length > 0)
        {
            var journeysOfCustomer = await ServiceClients.CallAsync("journey", async () => await journeys.GetCustomerJourneysAsync(new JourneyApi.GetCustomerJourneysRequest
            {
                CustomerId = item.CustomerId,
                JourneyKey = item.Journey,
                MaxInstances = 5,
            }, cancellationToken: context.CancellationToken));
            foreach (var instance in journeysOfCustomer.Instances)
            {
                timeline.AddRange(instance.Timeline.Select(t => new CaseTimelineEntry
                {
                    JourneyKey = instance.JourneyKey,
                    TouchpointKey = t.TouchpointKey,
                    StageKey = t.StageKey,
                    OccurredAt = t.OccurredAt,
                }));
            }
            timeline.Sort((a, b) => a.OccurredAt.CompareTo(b.OccurredAt));
        }
        var themes = item.Themes.Select(t => t.ThemeKey).Distinct().ToArray();
        var negative = item.Themes.Where(t => t.SentimentScore < 0).Select(t => t.ThemeKey).Distinct().ToArray();
        var journeyKey = item.Journey.Length > 0 ? item.Journey : timeline.Select(t => t.JourneyKey).FirstOrDefault();
        await RequireJourneyInScopeAsync(journeyKey, "feedback_id", context);
        var row = new CaseStudyRow
        {
            Id = Guid.CreateVersion7(),
            Title = title ?? $"{(journeyKey is null ? "A customer" : journeyKey)}: {(themes.Length > 0 ? string.Join(", ", negative.Length > 0 ? negative : themes) : "a customer's story")}",
            JourneyKey = journeyKey,
            TouchpointKeys = new[] { item.Links?.TouchpointKey ?? "" }.Concat(timeline.Select(t => t.TouchpointKey)).Where(k => k.Length > 0).Distinct().ToArray(),
            ThemeKeys = themes,
            // A starting point the author rewrites: the themes the customer spoke badly of.
            CustomerPainPoints = negative.Select(t => $"Negative about {t}").ToArray(),
            FeedbackId = feedbackId,
            CustomerId = item.CustomerId.Length > 0 ? item.CustomerId : null,
            RedactedVerbatim = item.RedactedVerbatim.Length > 0 ? item.RedactedVerbatim : null,
            Ratings = JsonSerializer.Serialize(item.Ratings.Select(r => new { questionId = r.QuestionId, value = r.Value }), ProgrammeStore.Json),
            Timeline = JsonSerializer.Serialize(timeline.Select(t => new
            {
                journeyKey = t.JourneyKey,
                touchpointKey = t.TouchpointKey,
                stageKey = t.StageKey,
                occurredAt = t.OccurredAt?.ToDateTime(),
            }), ProgrammeStore.Json),
            CreatedBy = Actor(context),
        };
        return new CreateCaseStudyFromFeedbackResponse { CaseStudy = ProtoMapping.ToProto(await caseStudies.CreateAsync(row, context.CancellationToken)) };
    }

    [Authorize(Roles = Actors)]
    public override async Task<UpdateCaseStudyResponse> UpdateCaseStudy(UpdateCaseStudyRequest request, ServerCallContext context)
    {
        var c = await UpdateMasks.ApplyAsync(request.UpdateMask, request.CaseStudy, "case_study", async named =>
            ProtoMapping.ToProto(await caseStudies.GetAsync(Check.Id(named.Id, "case_study.id"), context.CancellationToken)), "id")
            ?? throw new FieldViolationException("case_study", "case_study is required.");
        var row = WrittenParts(c, Check.Id(c.Id, "case_study.id"), Actor(context));
        // A journey-owner edits the case studies of their journeys, and cannot move one into another's.
        await RequireJourneyInScopeAsync((await caseStudies.GetAsync(row.Id, context.CancellationToken)).JourneyKey, "case_study.journey_key", context);
        await RequireJourneyInScopeAsync(row.JourneyKey, "case_study.journey_key", context);
        return new UpdateCaseStudyResponse { CaseStudy = ProtoMapping.ToProto(await caseStudies.UpdateAsync(row, context.CancellationToken)) };
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetCaseStudyResponse> GetCaseStudy(GetCaseStudyRequest request, ServerCallContext context) =>
        new() { CaseStudy = ProtoMapping.ToProto(await caseStudies.GetAsync(Check.Id(request.CaseStudyId, "case_study_id"), context.CancellationToken)) };

    [Authorize(Roles = Readers)]
    public override async Task<ListCaseStudiesResponse> ListCaseStudies(ListCaseStudiesRequest request, ServerCallContext context)
    {
        var page = Check.Page(request.PageSize, request.PageToken, 1000, 1000);
        var all = await caseStudies.ListAsync(Check.OptionalKey(request.JourneyKey, "journey_key"), Check.OptionalKey(request.ThemeKey, "theme_key"), context.CancellationToken);
        // Newest first: case study ids are UUIDv7, ordered by creation.
        return new() { CaseStudies = { Pages.Slice(all.Select(ProtoMapping.ToProto), c => c.Id, page, out var next, descending: true) }, NextPageToken = next };
    }

    // ---- Culture scorecard ----

    [Authorize(Roles = Actors)]
    public override async Task<RecordCultureAssessmentResponse> RecordCultureAssessment(RecordCultureAssessmentRequest request, ServerCallContext context)
    {
        var a = request.Assessment ?? throw new FieldViolationException("assessment", "assessment is required.");
        if (!CultureScorecard.TryParsePeriod(a.Period, out var start))
        {
            throw new FieldViolationException("assessment.period", "assessment.period must be a quarter (2026-Q3) or a month (2026-07).");
        }
        short Score(int value, string c) => value is >= 1 and <= 5
            ? (short)value
            : throw new FieldViolationException($"assessment.{c}", $"assessment.{c} is scored 1-5.");
        var row = await programme.RecordCultureAsync(new CultureRow
        {
            TeamId = Check.Key(a.TeamId, "assessment.team_id"),
            Period = a.Period,
            PeriodStart = start,
            Conscience = Score(a.Conscience, CultureScorecard.Conscience),
            Communication = Score(a.Communication, CultureScorecard.Communication),
            Consistency = Score(a.Consistency, CultureScorecard.Consistency),
            Credibility = Score(a.Credibility, CultureScorecard.Credibility),
            Note = Check.OptionalText(a.Note, "assessment.note", 2000) ?? "",
            RecordedBy = Actor(context),
            RecordedAt = clock.GetUtcNow().UtcDateTime,
        }, context.CancellationToken);
        return new RecordCultureAssessmentResponse { Assessment = ProtoMapping.ToProto(row) };
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetCultureScorecardResponse> GetCultureScorecard(GetCultureScorecardRequest request, ServerCallContext context)
    {
        var rows = await programme.CultureAsync(Check.OptionalKey(request.TeamId, "team_id"), context.CancellationToken);
        var response = new GetCultureScorecardResponse();
        foreach (var team in rows.GroupBy(r => r.TeamId))
        {
            var history = team.ToList();
            var latest = history[^1];
            var previous = history.Count > 1 ? history[^2] : null;
            response.Teams.Add(new TeamCulture
            {
                TeamId = team.Key,
                Latest = ProtoMapping.ToProto(latest),
                ConscienceChange = previous is null ? 0 : latest.Conscience - previous.Conscience,
                CommunicationChange = previous is null ? 0 : latest.Communication - previous.Communication,
                ConsistencyChange = previous is null ? 0 : latest.Consistency - previous.Consistency,
                CredibilityChange = previous is null ? 0 : latest.Credibility - previous.Credibility,
                MostRoomToGrow = CultureScorecard.MostRoomToGrow(latest.Scores, previous?.Scores),
                History = { history.Select(ProtoMapping.ToProto) },
            });
        }
        foreach (var period in rows.GroupBy(r => (r.PeriodStart, r.Period)).OrderBy(g => g.Key.PeriodStart).ThenBy(g => g.Key.Period, StringComparer.Ordinal))
        {
            response.Organisation.Add(new CulturePeriodAverage
            {
                Period = period.Key.Period,
                Teams = period.Count(),
                Conscience = period.Average(r => r.Conscience),
                Communication = period.Average(r => r.Communication),
                Consistency = period.Average(r => r.Consistency),
                Credibility = period.Average(r => r.Credibility),
            });
        }
        if (response.Organisation.Count > 0)
        {
            var last = response.Organisation[^1];
            response.MostRoomToGrow = new[]
            {
                (CultureScorecard.Conscience, last.Conscience), (CultureScorecard.Communication, last.Communication),
                (CultureScorecard.Consistency, last.Consistency), (CultureScorecard.Credibility, last.Credibility),
            }.OrderBy(c => c.Item2).First().Item1;
        }
        return response;
    }

    // ---- Sharing approvals and audit ----

    [Authorize(Roles = Roles.Admin)]
    public override async Task<ListSharingApprovalsResponse> ListSharingApprovals(ListSharingApprovalsRequest request, ServerCallContext context)
    {
        var states = request.States.Count == 0
            ? ["pending"]
            : request.States.Select((s, i) => ProtoMapping.ApprovalStateName(s) ?? throw new FieldViolationException($"states[{i}]", "states[] must name a state.")).ToList();
        var page = Check.Page(request.PageSize, request.PageToken, 1000, 1000);
        var approvals = Pages.Slice((await sharing.ListAsync(states, context.CancellationToken)).Select(ProtoMapping.ToProto),
            a => $"{a.AgreementId}|{a.Version:D10}", page, out var next);
        return new() { Approvals = { approvals }, NextPageToken = next };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<DecideSharingResponse> DecideSharing(DecideSharingRequest request, ServerCallContext context)
    {
        var agreementId = Check.Id(request.AgreementId, "agreement_id");
        if (request.Version < 1) throw new FieldViolationException("version", "version is required (1 or more).");
        var reason = request.Approved ? Check.OptionalText(request.Reason, "reason", 2000) ?? "" : Check.Text(request.Reason, "reason", 2000);
        var row = await decideSharing.DecideAsync(agreementId, request.Version, request.Approved, Actor(context), reason, context.CancellationToken);
        return new DecideSharingResponse { Approval = ProtoMapping.ToProto(row) };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<ListAuditEntriesResponse> ListAuditEntries(ListAuditEntriesRequest request, ServerCallContext context)
    {
        if (request.AfterSequence < 0) throw new FieldViolationException("after_sequence", "after_sequence is 0 or more.");
        var page = Check.Page(request.PageSize, request.PageToken, 1000, 100);
        // A page token carries the last sequence returned; after_sequence stays for callers that keep their own place.
        var after = Math.Max(request.AfterSequence, Check.Number(page) ?? 0);
        var entries = Pages.Trim((await audit.ListAsync(request.Kind.Length == 0 ? null : request.Kind, after, page.Size + 1, context.CancellationToken)).ToList(),
            page, e => e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), out var next);
        return new ListAuditEntriesResponse { Entries = { entries.Select(ProtoMapping.ToProto) }, NextPageToken = next };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<VerifyAuditLogResponse> VerifyAuditLog(VerifyAuditLogRequest request, ServerCallContext context)
    {
        var verdict = await audit.VerifyAsync(context.CancellationToken);
        return new VerifyAuditLogResponse
        {
            Intact = verdict.Intact,
            Entries = verdict.Entries,
            FirstBrokenSequence = verdict.FirstBrokenSequence,
            Problem = verdict.Problem,
            HeadHash = verdict.HeadHash,
        };
    }
}
