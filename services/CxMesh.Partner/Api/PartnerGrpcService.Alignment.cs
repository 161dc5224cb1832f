using System.Globalization;
using System.Text.Json;
using CxMesh.Partner.Data;
using CxMesh.Partner.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Validation;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using static CxMesh.Platform.Validation.Identifiers;

namespace CxMesh.Partner.Api;

/// <summary>The CX-alignment questionnaire and partners' self-assessments.</summary>
public sealed partial class PartnerGrpcService
{
    // ---- CX alignment -----------------------------------------------------------------------------------------------

    [Authorize(Roles = Roles.Admin)]
    public override async Task<PublishQuestionnaireResponse> PublishQuestionnaire(PublishQuestionnaireRequest request, ServerCallContext context)
    {
        var check = new Violations();
        if (request.Questions.Count is 0 or > 50) check.Add("questions", "questions must hold 1 to 50 questions.");
        for (var i = 0; i < request.Questions.Count; i++)
        {
            var q = request.Questions[i];
            if (!Identifiers.Key().IsMatch(q.Key)) check.Add($"questions[{i}].key", "a question's key is 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");
            if (!Identifiers.Key().IsMatch(q.Principle)) check.Add($"questions[{i}].principle", "a question's principle is 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");
            if (q.Text.Trim().Length is 0 or > 500) check.Add($"questions[{i}].text", "a question's text is 1-500 characters.");
            if (q.Weight is < 0 or > 10) check.Add($"questions[{i}].weight", "a question's weight is 1 to 10 (0 means 1).");
        }
        if (request.Questions.Select(q => q.Key).Distinct().Count() != request.Questions.Count) check.Add("questions", "question keys must be unique.");
        check.ThrowIfAny();
        var stored = await alignment.PublishAsync(request.Questions.Select(q => new Domain.AlignmentItem(q.Key, q.Principle, q.Text.Trim(), q.Weight == 0 ? 1 : q.Weight)).ToList(),
            context.CancellationToken);
        return new PublishQuestionnaireResponse { Questionnaire = ToProto(stored) };
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetQuestionnaireResponse> GetQuestionnaire(GetQuestionnaireRequest request, ServerCallContext context) =>
        new() { Questionnaire = ToProto(await alignment.QuestionnaireAsync(request.Version, context.CancellationToken) ?? throw new NotFoundException("questionnaire", $"version {request.Version}")) };

    [Authorize(Roles = Readers)]
    public override async Task<RecordAssessmentResponse> RecordAssessment(RecordAssessmentRequest request, ServerCallContext context) =>
        new() { Assessment = ToProto(await RecordAssessmentAsync(request.PartnerId, request.QuestionnaireVersion, request.Answers, request.AssessedOn, request.Notes, Actor(context), false, context.CancellationToken)) };

    [Authorize(Roles = Roles.Partner)]
    public override async Task<GetMyQuestionnaireResponse> GetMyQuestionnaire(GetMyQuestionnaireRequest request, ServerCallContext context)
    {
        _ = await CallerAsync(context);
        return new() { Questionnaire = ToProto(await alignment.QuestionnaireAsync(0, context.CancellationToken) ?? throw new NotFoundException("questionnaire", "latest")) };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<RecordMyAssessmentResponse> RecordMyAssessment(RecordMyAssessmentRequest request, ServerCallContext context)
    {
        var caller = await CallerAsync(context);
        return new() { Assessment = ToProto(await RecordAssessmentAsync(caller.PartnerId, request.QuestionnaireVersion, request.Answers, "", request.Notes, caller.Subject, true, context.CancellationToken)) };
    }

    [Authorize(Roles = Roles.Partner)]
    public override async Task<ListMyAssessmentsResponse> ListMyAssessments(ListMyAssessmentsRequest request, ServerCallContext context)
    {
        var page = Violations.FailFast.Page(request.PageSize, request.PageToken, 1000, 1000);
        var caller = await CallerAsync(context);
        var assessments = Pages.Slice((await alignment.ListAsync(caller.PartnerId, context.CancellationToken)).Select(ToProto), a => a.AssessmentId, page, out var next);
        return new() { Assessments = { assessments }, NextPageToken = next };
    }

    private async Task<StoredAssessment> RecordAssessmentAsync(string partnerId, int version, IReadOnlyDictionary<string, int> answers, string assessedOn, string notes,
        string actor, bool selfAssessed, CancellationToken ct)
    {
        var questionnaire = await alignment.QuestionnaireAsync(version, ct);
        if (version < 1 || questionnaire is null || questionnaire.Version != version)
        {
            throw new FieldViolationException("questionnaire_version", $"questionnaire_version {version} is not a published questionnaire.");
        }
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var on = assessedOn.Length == 0 ? today : ParseDate(assessedOn);
        var check = new Violations();
        foreach (var problem in Domain.AlignmentScore.Problems(questionnaire.Questions, answers)) check.Add("answers", problem);
        if (on is null || on > today) check.Add("assessed_on", "assessed_on must be a date (yyyy-MM-dd), not in the future.");
        if (notes.Length > 2000) check.Add("notes", "notes are at most 2000 characters.");
        check.ThrowIfAny();
        var (score, byPrinciple) = Domain.AlignmentScore.Of(questionnaire.Questions, answers);
        return await alignment.RecordAsync(new StoredAssessment
        {
            AssessmentId = Guid.CreateVersion7(),
            PartnerId = partnerId,
            QuestionnaireVersion = questionnaire.Version,
            AssessedOn = on!.Value,
            Score = score,
            PrincipleScores = JsonSerializer.Serialize(byPrinciple),
            Notes = NullIfEmpty(notes.Trim()),
            AssessedBy = actor,
            SelfAssessed = selfAssessed,
        }, answers, ct);
    }

    [Authorize(Roles = Readers)]
    public override async Task<ListAssessmentsResponse> ListAssessments(ListAssessmentsRequest request, ServerCallContext context)
    {
        var page = Violations.FailFast.Page(request.PageSize, request.PageToken, 1000, 1000);
        _ = await partners.GetAsync(request.PartnerId, context.CancellationToken) ?? throw new NotFoundException("partner", request.PartnerId);
        var response = new ListAssessmentsResponse();
        response.Assessments.AddRange(Pages.Slice((await alignment.ListAsync(request.PartnerId, context.CancellationToken)).Select(ToProto), a => a.AssessmentId, page, out var next));
        response.NextPageToken = next;
        return response;
    }

    private static Questionnaire ToProto(StoredQuestionnaire q)
    {
        var proto = new Questionnaire { Version = q.Version, CreatedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(q.CreatedAt, DateTimeKind.Utc)) };
        proto.Questions.AddRange(q.Questions.Select(i => new AlignmentQuestion { Key = i.Key, Principle = i.Principle, Text = i.Text, Weight = i.Weight }));
        return proto;
    }

    private static Assessment ToProto(StoredAssessment a)
    {
        var proto = new Assessment
        {
            AssessmentId = a.AssessmentId.ToString(),
            PartnerId = a.PartnerId,
            QuestionnaireVersion = a.QuestionnaireVersion,
            AssessedOn = a.AssessedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Score = a.Score,
            Notes = a.Notes ?? "",
            AssessedBy = a.AssessedBy ?? "",
            SelfAssessed = a.SelfAssessed,
        };
        foreach (var (principle, score) in JsonSerializer.Deserialize<Dictionary<string, double>>(a.PrincipleScores)!) proto.PrincipleScores[principle] = score;
        return proto;
    }
}
