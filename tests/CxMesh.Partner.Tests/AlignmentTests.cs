using CxMesh.Partner.Domain;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Grpc.Core;

namespace CxMesh.Partner.Tests;

public sealed class AlignmentTests(PartnerFixture fixture) : IClassFixture<PartnerFixture>
{
    private readonly PartnerService.PartnerServiceClient _admin = fixture.Host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);

    [Fact]
    public void Answers_map_from_1_5_to_0_100_weighted_overall_and_per_principle()
    {
        AlignmentItem[] questions = [new("a", "responsiveness", "A", 2), new("b", "responsiveness", "B", 1), new("c", "data-sharing", "C", 1)];
        var (score, byPrinciple) = AlignmentScore.Of(questions, new Dictionary<string, int> { ["a"] = 5, ["b"] = 1, ["c"] = 3 });
        Assert.Equal((2 * 100 + 0 + 50) / 4.0, score, 9);
        Assert.Equal(200 / 3.0, byPrinciple["responsiveness"], 9);
        Assert.Equal(50, byPrinciple["data-sharing"], 9);
        // b and c unanswered, zz unknown, a off the scale.
        Assert.Equal(4, AlignmentScore.Problems(questions, new Dictionary<string, int> { ["a"] = 6, ["zz"] = 1 }).Count);
    }

    [Fact]
    public async Task A_partner_is_assessed_against_the_shipped_questionnaire_over_time()
    {
        var partnerId = $"align-{Guid.NewGuid():N}"[..16];
        await _admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = new V1.Partner { Id = partnerId, Name = "Roaster", Kind = PartnerKind.Supplier } });
        var questionnaire = (await _admin.GetQuestionnaireAsync(new GetQuestionnaireRequest())).Questionnaire;
        Assert.Equal(["customer-first-promise", "data-sharing", "joint-improvement", "responsiveness"], questionnaire.Questions.Select(q => q.Principle).Distinct().Order());
        var v1 = (await _admin.GetQuestionnaireAsync(new GetQuestionnaireRequest { Version = 1 })).Questionnaire;

        RecordAssessmentRequest Answers(int value, string on) => new()
        {
            PartnerId = partnerId,
            QuestionnaireVersion = 1,
            AssessedOn = on,
            Answers = { v1.Questions.ToDictionary(q => q.Key, _ => value) },
        };
        var today = DateTime.UtcNow.Date;
        var first = (await _admin.RecordAssessmentAsync(Answers(2, today.AddDays(-90).ToString("yyyy-MM-dd")))).Assessment;
        var second = (await _admin.RecordAssessmentAsync(Answers(4, today.ToString("yyyy-MM-dd")))).Assessment;
        Assert.Equal((25.0, 75.0), (first.Score, second.Score));
        Assert.Equal(75, second.PrincipleScores["joint-improvement"], 9);
        var history = (await _admin.ListAssessmentsAsync(new ListAssessmentsRequest { PartnerId = partnerId })).Assessments;
        Assert.Equal([first.AssessmentId, second.AssessmentId], history.Select(a => a.AssessmentId));

        var incomplete = Answers(3, "");
        incomplete.Answers.Remove(v1.Questions[0].Key);
        await RpcAssert.InvalidArgumentAsync(() => _admin.RecordAssessmentAsync(incomplete).ResponseAsync, "answers");
        await RpcAssert.InvalidArgumentAsync(() => _admin.RecordAssessmentAsync(Change.With(Answers(3, ""), r => r.QuestionnaireVersion = 99)).ResponseAsync, "questionnaire_version");
        await RpcAssert.StatusAsync(() => _admin.RecordAssessmentAsync(Change.With(Answers(3, ""), r => r.PartnerId = "nobody")).ResponseAsync, StatusCode.NotFound);
    }

    [Fact]
    public async Task A_new_questionnaire_version_is_numbered_after_the_last()
    {
        var published = (await _admin.PublishQuestionnaireAsync(new PublishQuestionnaireRequest
        {
            Questions = { new AlignmentQuestion { Key = "co-design", Principle = "joint-improvement", Text = "Designs changes with us.", Weight = 3 } },
        })).Questionnaire;
        Assert.True(published.Version >= 2);
        Assert.Equal(published.Version, (await _admin.GetQuestionnaireAsync(new GetQuestionnaireRequest())).Questionnaire.Version);
        await RpcAssert.InvalidArgumentAsync(() => _admin.PublishQuestionnaireAsync(new PublishQuestionnaireRequest
        {
            Questions = { new AlignmentQuestion { Key = "x", Principle = "p", Text = "", Weight = 3 } },
        }).ResponseAsync, "questions[0].text");
    }

}
