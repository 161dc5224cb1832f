using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Tests;

public sealed class QuestionRegistryTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly FeedbackService.FeedbackServiceClient _admin = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Admin);

    private static Question LegacyCes(string id) => new()
    {
        Id = id,
        Text = "How much effort did you personally have to put forth? (1 = very low)",
        Metric = Metric.Ces,
        ScaleMin = 1,
        ScaleMax = 5,
        HigherIsBetter = false,
        TopBoxValues = { 1, 2 },
    };

    [Fact]
    public async Task The_standard_questions_are_there_from_the_start()
    {
        var questions = (await _admin.ListQuestionsAsync(new ListQuestionsRequest())).Questions;
        var nps = Assert.Single(questions, q => q.Id == "nps");
        Assert.Equal((0, 10, true), (nps.ScaleMin, nps.ScaleMax, nps.HigherIsBetter));
        Assert.Equal([9, 10], nps.TopBoxValues);
        Assert.Equal([4, 5], questions.Single(q => q.Id == "csat").TopBoxValues);
        Assert.Equal((1, 7), (questions.Single(q => q.Id == "ces").ScaleMin, questions.Single(q => q.Id == "ces").ScaleMax));
        Assert.Contains(questions, q => q.Id == "enps");
    }

    [Fact]
    public async Task A_question_declares_its_audience_and_a_rating_from_the_other_audience_is_refused_naming_the_rating()
    {
        var questions = (await _admin.ListQuestionsAsync(new ListQuestionsRequest())).Questions;
        Assert.Equal(Audience.Employee, questions.Single(q => q.Id == "enps").Audience);
        Assert.All(questions.Where(q => q.Id is "nps" or "csat" or "ces"), q => Assert.Equal(Audience.Customer, q.Audience));

        var app = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        SubmitFeedbackRequest Rated(Audience audience, params (string Question, int Value)[] ratings)
        {
            var request = new SubmitFeedbackRequest { IdempotencyKey = $"aud-{Guid.NewGuid():N}", Channel = Channel.Survey, Audience = audience };
            request.Ratings.AddRange(ratings.Select(r => new Rating { QuestionId = r.Question, Value = r.Value }));
            return request;
        }
        // A customer's eNPS and an employee's NPS would land in the other group's figure.
        await RpcAssert.InvalidArgumentAsync(() => app.SubmitFeedbackAsync(Rated(Audience.Customer, ("csat", 4), ("enps", 9))).ResponseAsync, "ratings[1].question_id");
        await RpcAssert.InvalidArgumentAsync(() => app.SubmitFeedbackAsync(Rated(Audience.Unspecified, ("enps", 9))).ResponseAsync, "ratings[0].question_id");
        await RpcAssert.InvalidArgumentAsync(() => app.SubmitFeedbackAsync(Rated(Audience.Employee, ("nps", 3))).ResponseAsync, "ratings[0].question_id");
        Assert.Equal(Audience.Employee, (await app.SubmitFeedbackAsync(Rated(Audience.Employee, ("enps", 3)))).Item.Audience);

        // NPS questions are customers', eNPS employees'; a custom question may be either and binds its ratings.
        var npsForStaff = new Question { Id = "nps-staff", Text = "Recommend us?", Metric = Metric.Nps, ScaleMin = 0, ScaleMax = 10, HigherIsBetter = true, TopBoxValues = { 9, 10 }, Audience = Audience.Employee };
        await RpcAssert.InvalidArgumentAsync(() => _admin.RegisterQuestionAsync(new RegisterQuestionRequest { Question = npsForStaff }).ResponseAsync, "question.audience");
        var tools = new Question { Id = "tools-ok", Text = "I have the tools I need", Metric = Metric.Custom, ScaleMin = 1, ScaleMax = 5, HigherIsBetter = true, TopBoxValues = { 4, 5 }, Audience = Audience.Employee };
        Assert.Equal(Audience.Employee, (await _admin.RegisterQuestionAsync(new RegisterQuestionRequest { Question = tools })).Question.Audience);
        await RpcAssert.InvalidArgumentAsync(() => app.SubmitFeedbackAsync(Rated(Audience.Customer, ("tools-ok", 4))).ResponseAsync, "ratings[0].question_id");
        await app.SubmitFeedbackAsync(Rated(Audience.Employee, ("tools-ok", 4), ("enps", 10)));
    }

    [Fact]
    public async Task A_registered_question_is_rated_on_its_own_scale_and_its_definition_travels_with_the_rating()
    {
        var registered = (await _admin.RegisterQuestionAsync(new RegisterQuestionRequest { Question = LegacyCes("ces-legacy") })).Question;
        Assert.False(registered.HigherIsBetter);
        await RpcAssert.StatusAsync(() => _admin.RegisterQuestionAsync(new RegisterQuestionRequest { Question = LegacyCes("ces-legacy") }).ResponseAsync,
            StatusCode.AlreadyExists);
        Assert.Equal("ces-legacy", (await _admin.GetQuestionAsync(new GetQuestionRequest { Id = "ces-legacy" })).Question.Id);

        var app = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        var request = new SubmitFeedbackRequest
        {
            IdempotencyKey = $"q-{Guid.NewGuid():N}",
            Channel = Channel.SelfService,
            Ratings = { new Rating { QuestionId = "ces-legacy", Value = 2 }, new Rating { QuestionId = "nps", Value = 8 } },
        };
        var item = (await app.SubmitFeedbackAsync(request)).Item;
        request.IdempotencyKey = $"q-{Guid.NewGuid():N}";
        request.Ratings[0].Value = 6;
        await RpcAssert.InvalidArgumentAsync(() => app.SubmitFeedbackAsync(request).ResponseAsync, "ratings[0].value");

        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        var payload = await connection.ExecuteScalarAsync<string>("select payload from outbox where payload like @id", new { id = $"%{item.Id}%" });
        var evt = EventJson.Parse<FeedbackReceived>(payload!);
        var ces = evt.Ratings.Single(r => r.QuestionId == "ces-legacy");
        Assert.Equal((Metric.Ces, 1, 5, false), (ces.Metric, ces.ScaleMin, ces.ScaleMax, ces.HigherIsBetter));
        Assert.Equal([1, 2], ces.TopBoxValues);
    }

    [Fact]
    public async Task An_attribute_question_names_the_outcome_it_explains_and_its_ratings_carry_it_to_scoring()
    {
        var id = $"speed-{Guid.NewGuid():N}"[..20];
        var speed = new Question { Id = id, Text = "How fast did your order arrive?", Metric = Metric.Custom, ScaleMin = 1, ScaleMax = 5, HigherIsBetter = true, TopBoxValues = { 4, 5 }, DriverOf = "nps" };
        Assert.Equal("nps", (await _admin.RegisterQuestionAsync(new RegisterQuestionRequest { Question = speed })).Question.DriverOf);
        Assert.Equal("nps", (await _admin.GetQuestionAsync(new GetQuestionRequest { Id = id })).Question.DriverOf);
        Assert.Equal("", (await _admin.GetQuestionAsync(new GetQuestionRequest { Id = "csat" })).Question.DriverOf);

        var app = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        var item = (await app.SubmitFeedbackAsync(new SubmitFeedbackRequest
        {
            IdempotencyKey = $"attr-{Guid.NewGuid():N}",
            Channel = Channel.Survey,
            Ratings = { new Rating { QuestionId = "nps", Value = 9 }, new Rating { QuestionId = id, Value = 5 } },
        })).Item;
        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        var evt = EventJson.Parse<FeedbackReceived>((await connection.ExecuteScalarAsync<string>("select payload from outbox where payload like @id", new { id = $"%{item.Id}%" }))!);
        Assert.Equal(("nps", ""), (evt.Ratings.Single(r => r.QuestionId == id).DriverOf, evt.Ratings.Single(r => r.QuestionId == "nps").DriverOf));
    }

    public static TheoryData<string, string> BadQuestions => new()
    {
        { "bad id", "question.id" },
        { "no text", "question.text" },
        { "no metric", "question.metric" },
        { "empty scale", "question.scale_max" },
        { "top box off the scale", "question.top_box_values" },
        { "no top box", "question.top_box_values" },
        { "NPS on a 1-5 scale", "question.metric" },
        { "driver of an unregistered question", "question.driver_of" },
        { "driver of a CES question", "question.driver_of" },
        { "driver of itself", "question.driver_of" },
        { "driver of the other audience's outcome", "question.driver_of" },
        { "an NPS question as a driver", "question.driver_of" },
        { "driver_of that is no id", "question.driver_of" },
    };

    [Theory]
    [MemberData(nameof(BadQuestions))]
    public async Task A_bad_question_is_INVALID_ARGUMENT_naming_the_field(string how, string field)
    {
        var q = LegacyCes($"bad-{Guid.NewGuid():N}"[..20]);
        switch (how)
        {
            case "bad id": q.Id = "Bad Id!"; break;
            case "no text": q.Text = ""; break;
            case "no metric": q.Metric = Metric.Unspecified; break;
            case "empty scale": q.ScaleMax = q.ScaleMin; break;
            case "top box off the scale": q.TopBoxValues.Add(9); break;
            case "no top box": q.TopBoxValues.Clear(); break;
            case "NPS on a 1-5 scale": q.Metric = Metric.Nps; break;
            case "driver of an unregistered question": q.DriverOf = "no-such-question"; break;
            case "driver of a CES question": q.DriverOf = "ces"; break;
            case "driver of itself": q.DriverOf = q.Id; break;
            case "driver of the other audience's outcome": q.DriverOf = "enps"; break;
            case "an NPS question as a driver":
                (q.Metric, q.ScaleMin, q.ScaleMax, q.HigherIsBetter, q.DriverOf) = (Metric.Nps, 0, 10, true, "csat");
                q.TopBoxValues.Clear();
                q.TopBoxValues.Add([9, 10]);
                break;
            case "driver_of that is no id": q.DriverOf = "Delivery Speed!"; break;
        }
        await RpcAssert.InvalidArgumentAsync(() => _admin.RegisterQuestionAsync(new RegisterQuestionRequest { Question = q }).ResponseAsync, field);
    }
}
