using System.Text;
using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Feedback.Tests;

/// <summary>Contact-centre conversations: one item, only the customer heard, every turn kept redacted.</summary>
public sealed class ConversationTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private FeedbackService.FeedbackServiceClient Client(string role = Roles.App) => fixture.Host.Client<FeedbackService.FeedbackServiceClient>(role);

    private static ConversationTurn Turn(Speaker speaker, string text, DateTimeOffset? at = null) =>
        new() { Speaker = speaker, Text = text, At = at is { } t ? Timestamp.FromDateTimeOffset(t) : null };

    private static SubmitFeedbackRequest Call(params ConversationTurn[] turns)
    {
        var request = new SubmitFeedbackRequest { IdempotencyKey = $"call-{Guid.NewGuid():N}", Channel = Channel.ContactCentre, CustomerId = $"caller-{Guid.NewGuid():N}"[..20] };
        request.Conversation = new Conversation();
        request.Conversation.Turns.AddRange(turns);
        return request;
    }

    [Fact]
    public async Task Only_the_customers_turns_are_analysed_and_every_turn_is_kept_redacted()
    {
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var request = Call(
            Turn(Speaker.System, "Press 1 for delivery questions.", start),
            Turn(Speaker.Agent, "Hello, this is Dana. Your delivery is late, that is terrible and awful, I am so sorry. Reach me at dana.agent@example.com.", start.AddMinutes(1)),
            Turn(Speaker.Customer, "Thanks, great service, the price is fair and I love the coffee. My number is +1 415 555 0132.", start.AddMinutes(2)),
            Turn(Speaker.Agent, "Anything else?", start.AddMinutes(3)),
            Turn(Speaker.Customer, "No, excellent, thank you!", start.AddMinutes(4)));
        var item = (await Client().SubmitFeedbackAsync(request)).Item;

        Assert.Equal(Polarity.Positive, item.Polarity);
        Assert.DoesNotContain(item.Themes, t => t.ThemeKey == "delivery");
        Assert.Contains("great service", item.RedactedVerbatim);
        Assert.DoesNotContain("Dana", item.RedactedVerbatim);
        Assert.DoesNotContain("415 555", item.RedactedVerbatim);

        var stored = (await Client(Roles.Analyst).GetFeedbackAsync(new GetFeedbackRequest { Id = item.Id })).Item;
        Assert.Equal([Speaker.System, Speaker.Agent, Speaker.Customer, Speaker.Agent, Speaker.Customer], stored.Conversation.Turns.Select(t => t.Speaker));
        Assert.DoesNotContain("dana.agent@example.com", stored.Conversation.Turns[1].Text);
        Assert.Contains("[email]", stored.Conversation.Turns[1].Text);
        Assert.DoesNotContain("415 555", stored.Conversation.Turns[2].Text);
        Assert.Equal(start.AddMinutes(1).ToUnixTimeSeconds(), stored.Conversation.Turns[1].At.ToDateTimeOffset().ToUnixTimeSeconds());
        Assert.Equal("", stored.Verbatim); // raw words for admins only

        var admin = (await Client(Roles.Admin).GetFeedbackAsync(new GetFeedbackRequest { Id = item.Id })).Item;
        Assert.Equal("Thanks, great service, the price is fair and I love the coffee. My number is +1 415 555 0132.\nNo, excellent, thank you!", admin.Verbatim);

        // Erasing the customer takes the conversation with their words.
        await Client(Roles.Admin).EraseCustomerAsync(new EraseCustomerRequest { CustomerId = request.CustomerId });
        var erased = (await Client(Roles.Admin).GetFeedbackAsync(new GetFeedbackRequest { Id = item.Id })).Item;
        Assert.Null(erased.Conversation);
        Assert.Equal("", erased.RedactedVerbatim);
    }

    [Fact]
    public async Task A_name_given_later_is_hidden_in_the_turns_of_earlier_conversations_too()
    {
        var call = Call(Turn(Speaker.Agent, "Hello Wei Zhang, how can I help?"), Turn(Speaker.Customer, "Hi, this is Wei Zhang, my grinder broke."));
        var first = (await Client().SubmitFeedbackAsync(call)).Item;
        Assert.Contains("Wei Zhang", first.Conversation.Turns[0].Text);

        // The same customer later gives their name as contact details: every earlier word of theirs is redacted again.
        await Client().SubmitFeedbackAsync(new SubmitFeedbackRequest
        {
            IdempotencyKey = $"later-{Guid.NewGuid():N}",
            Channel = Channel.Survey,
            CustomerId = call.CustomerId,
            Ratings = { new Rating { QuestionId = "nps", Value = 5 } },
            Contact = new ContactDetails { Name = "Wei Zhang" },
        });
        var earlier = (await Client(Roles.Analyst).GetFeedbackAsync(new GetFeedbackRequest { Id = first.Id })).Item;
        Assert.DoesNotContain("Wei Zhang", earlier.RedactedVerbatim);
        Assert.All(earlier.Conversation.Turns, t => Assert.DoesNotContain("Wei Zhang", t.Text));
        Assert.Contains("[name]", earlier.Conversation.Turns[0].Text);
    }

    [Fact]
    public async Task A_conversation_that_cannot_be_heard_is_refused_naming_the_field()
    {
        var agentOnly = Call(Turn(Speaker.Agent, "Hello?"), Turn(Speaker.System, "The caller hung up."));
        var bad = await RpcAssert.InvalidArgumentAsync(() => Client().SubmitFeedbackAsync(agentOnly).ResponseAsync, "conversation.turns");
        Assert.Contains(bad.FieldViolations, v => v.Description.Contains("no turn of the customer", StringComparison.Ordinal));

        var both = Call(Turn(Speaker.Customer, "It broke."));
        both.Verbatim = "Something else";
        await RpcAssert.InvalidArgumentAsync(() => Client().SubmitFeedbackAsync(both).ResponseAsync, "verbatim");

        var unnamed = Call(Turn(Speaker.Unspecified, "Who said this?"), Turn(Speaker.Customer, "I did."));
        var speaker = await RpcAssert.InvalidArgumentAsync(() => Client().SubmitFeedbackAsync(unnamed).ResponseAsync, "conversation.turns[0].speaker");
        Assert.Contains("SPEAKER_CUSTOMER", speaker.FieldViolations[0].Description);

        var now = DateTimeOffset.UtcNow.AddMinutes(-10);
        var backwards = Call(Turn(Speaker.Customer, "Second", now.AddMinutes(2)), Turn(Speaker.Agent, "First", now));
        await RpcAssert.InvalidArgumentAsync(() => Client().SubmitFeedbackAsync(backwards).ResponseAsync, "conversation.turns");
    }

    [Fact]
    public async Task Transcripts_import_from_a_csv_column_and_turns_from_json_lines()
    {
        var csv = new StringBuilder("Call,Transcript\r\n");
        csv.Append("c-1,\"[10:02] Agent: Thank you for calling, how can I help?\n[10:03] Customer: My parcel is late again and nobody answers the chat.\nIt is the third time.\nAgent: I am sorry.\"\r\n");
        csv.Append("c-2,\"客服：您好，请问有什么可以帮您？\n客户：快递太慢了，包装也破了。\"\r\n");
        csv.Append("c-3,\"Just some notes about a call without speakers\"\r\n");
        csv.Append("c-4,\"Agent: Hello?\nBot: Goodbye.\"\r\n");
        var options = new CsvImportOptions { SourceSystem = "call-centre", DefaultChannel = Channel.ContactCentre, Columns = { ["external_id"] = "Call", ["conversation"] = "Transcript" } };
        var final = (await Imports.RunAsync(fixture.Host, options, Encoding.UTF8.GetBytes(csv.ToString())))[^1];
        Assert.True(final.Rejected == 2, string.Join(" / ", final.Rejections.Select(r => $"{r.Row} {r.Column} {r.Message}")));
        Assert.Equal((2L, 2L), (final.Stored, final.Rejected));
        Assert.Equal([(4L, "Transcript"), (5L, "Transcript")], final.Rejections.Select(r => (r.Row, r.Column)));
        Assert.Contains("names no speaker", final.Rejections[0].Message);
        Assert.Contains("no turn of the customer", final.Rejections[1].Message);

        var lines = """
            {"id": "chat-1", "turns": [{"role": "end-user", "body": "The grinder arrived broken.", "created_at": "2024-05-01T10:00:00Z"}, {"role": "agent", "body": "A new one is on its way."}]}
            {"id": "chat-2", "turns": [{"role": "wizard", "body": "?"}]}
            """;
        var jsonl = new CsvImportOptions { SourceSystem = "chat", DefaultChannel = Channel.ContactCentre, Columns = { ["external_id"] = "id", ["conversation"] = "/turns" } };
        var chats = (await Imports.RunAsync(fixture.Host, jsonl, Encoding.UTF8.GetBytes(lines)))[^1];
        Assert.Equal((1L, 1L), (chats.Stored, chats.Rejected));
        Assert.Equal(("/turns", 2L), (chats.Rejections[0].Column, chats.Rejections[0].Row));
        Assert.Contains("'wizard' is not a speaker", chats.Rejections[0].Message);
    }
}
