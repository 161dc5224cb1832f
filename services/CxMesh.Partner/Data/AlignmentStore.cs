using System.Text.Json;
using CxMesh.Partner.Domain;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Partner.Data;

public sealed record StoredQuestionnaire(int Version, IReadOnlyList<AlignmentItem> Questions, DateTime CreatedAt);

public sealed class StoredAssessment
{
    public Guid AssessmentId { get; set; }
    public string PartnerId { get; set; } = "";
    public int QuestionnaireVersion { get; set; }
    public DateOnly AssessedOn { get; set; }
    public double Score { get; set; }
    public string PrincipleScores { get; set; } = "{}";
    public string? Notes { get; set; }
    public string? AssessedBy { get; set; }
    public bool SelfAssessed { get; set; }
}

/// <summary>CX-alignment questionnaires and partners' assessments.</summary>
public sealed class AlignmentStore([FromKeyedServices(PartnerModule.Name)] ServiceDatabase database)
{
    public async Task<StoredQuestionnaire?> QuestionnaireAsync(int version, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<(int Version, string Questions, DateTime CreatedAt)?>(new CommandDefinition(
            "select version, questions::text, created_at from alignment_questionnaires where @version = 0 or version = @version order by version desc limit 1",
            new { version }, cancellationToken: ct));
        return row is { } r ? new StoredQuestionnaire(r.Version, JsonSerializer.Deserialize<List<AlignmentItem>>(r.Questions, PartnerStore.Json)!, r.CreatedAt) : null;
    }

    public async Task<StoredQuestionnaire> PublishAsync(IReadOnlyList<AlignmentItem> questions, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        await write.Connection.ExecuteAsync(new CommandDefinition("lock table alignment_questionnaires in share row exclusive mode", transaction: write.Transaction, cancellationToken: ct));
        var row = await write.Connection.QuerySingleAsync<(int Version, DateTime CreatedAt)>(new CommandDefinition(
            """
            insert into alignment_questionnaires (version, questions)
            select coalesce(max(version), 0) + 1, @questions::jsonb from alignment_questionnaires
            returning version, created_at
            """, new { questions = JsonSerializer.Serialize(questions, PartnerStore.Json) }, write.Transaction, cancellationToken: ct));
        await write.CommitAsync(ct);
        return new StoredQuestionnaire(row.Version, questions, row.CreatedAt);
    }

    public async Task<StoredAssessment> RecordAsync(StoredAssessment assessment, IReadOnlyDictionary<string, int> answers, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from partners where id = @PartnerId)", assessment, cancellationToken: ct)))
        {
            throw new NotFoundException("partner", assessment.PartnerId);
        }
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into alignment_assessments (assessment_id, partner_id, questionnaire_version, answers, score, principle_scores, assessed_on, notes,
                assessed_by, self_assessed)
            values (@AssessmentId, @PartnerId, @QuestionnaireVersion, @answers::jsonb, @Score, @PrincipleScores::jsonb, @AssessedOn, @Notes, @AssessedBy, @SelfAssessed)
            """,
            new
            {
                assessment.AssessmentId,
                assessment.PartnerId,
                assessment.QuestionnaireVersion,
                answers = JsonSerializer.Serialize(answers),
                assessment.Score,
                assessment.PrincipleScores,
                assessment.AssessedOn,
                assessment.Notes,
                assessment.AssessedBy,
                assessment.SelfAssessed,
            }, cancellationToken: ct));
        return assessment;
    }

    public async Task<IReadOnlyList<StoredAssessment>> ListAsync(string partnerId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<StoredAssessment>(new CommandDefinition(
            """
            select assessment_id as assessmentid, partner_id as partnerid, questionnaire_version as questionnaireversion, assessed_on as assessedon,
                   score, principle_scores::text as principlescores, notes, assessed_by as assessedby, self_assessed as selfassessed
            from alignment_assessments where partner_id = @partnerId order by assessed_on, created_at
            """, new { partnerId }, cancellationToken: ct))).ToList();
    }
}
