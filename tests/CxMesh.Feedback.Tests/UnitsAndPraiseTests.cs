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

/// <summary>Registered units (stores, teams, agents), feedback naming them, and praise found in its words.</summary>
public sealed class UnitsAndPraiseTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly FeedbackService.FeedbackServiceClient _admin = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Admin);
    private readonly FeedbackService.FeedbackServiceClient _app = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
    private readonly FeedbackService.FeedbackServiceClient _analyst = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);

    private static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    private async Task<CxMesh.Feedback.V1.Unit> SaveAsync(string key, UnitKind kind, string name, string parent = "", string[]? aliases = null, string member = "", string team = "") =>
        (await _admin.SaveUnitAsync(new SaveUnitRequest
        {
            Unit = new CxMesh.Feedback.V1.Unit
            {
                Key = key,
                Kind = kind,
                Name = name,
                ParentKey = parent,
                Aliases = { aliases ?? [] },
                RecognitionMemberId = member,
                RecognitionTeamId = team,
            },
        })).Unit;

    /// <summary>A store with a team and an agent "Ana" in it; returns their keys.</summary>
    private async Task<(string Store, string Team, string Agent)> StoreAsync(string agentAlias = "Ana")
    {
        var store = Unique("store");
        await SaveAsync(store, UnitKind.Store, "Nanjing Road store", aliases: ["Nanjing Road store"], team: "store-managers");
        var team = Unique("team");
        await SaveAsync(team, UnitKind.Team, "Front counter", store);
        var agent = Unique("agent");
        await SaveAsync(agent, UnitKind.Agent, $"{agentAlias} Lima", team, [agentAlias, $"{agentAlias} Lima"], member: $"member-{agent}");
        return (store, team, agent);
    }

    private static SubmitFeedbackRequest Said(string words, string unitKey = "", Audience audience = Audience.Customer) => new()
    {
        IdempotencyKey = $"unit-test-{Guid.NewGuid():N}",
        Channel = audience == Audience.Employee ? Channel.Survey : Channel.ContactCentre,
        Verbatim = words,
        Audience = audience,
        CustomerId = audience == Audience.Employee ? "" : $"cust-{Guid.NewGuid():N}"[..13],
        Links = new Links { UnitKey = unitKey },
    };

    private async Task<T> EventAsync<T>(string topic, string id) where T : Google.Protobuf.IMessage<T>, new()
    {
        var db = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        await using var connection = await db.OpenConnectionAsync();
        var payload = await connection.ExecuteScalarAsync<string>("select payload from outbox where topic = @topic and payload like @id", new { topic, id = $"%{id}%" });
        Assert.NotNull(payload);
        return EventJson.Parse<T>(payload);
    }

    [Fact]
    public async Task Units_are_registered_listed_by_kind_and_parent_and_replaced_but_never_change_kind()
    {
        var (store, team, agent) = await StoreAsync();
        var created = await _admin.SaveUnitAsync(new SaveUnitRequest { Unit = new CxMesh.Feedback.V1.Unit { Key = Unique("store"), Kind = UnitKind.Store, Name = "Pudong" } });
        Assert.True(created.Created);

        var teams = (await _analyst.ListUnitsAsync(new ListUnitsRequest { ParentKey = store })).Units;
        Assert.Equal([team], teams.Select(u => u.Key));
        var agents = (await _analyst.ListUnitsAsync(new ListUnitsRequest { Kind = UnitKind.Agent, ParentKey = team })).Units;
        Assert.Equal(("Ana Lima", 2), (agents.Single().Name, agents.Single().Aliases.Count));

        // Replaced: a new name and aliases, the same kind; the answer says it was not new.
        var replaced = await _admin.SaveUnitAsync(new SaveUnitRequest
        {
            Unit = new CxMesh.Feedback.V1.Unit { Key = agent, Kind = UnitKind.Agent, Name = "Ana L.", ParentKey = store, Aliases = { "Ana" } },
        });
        Assert.False(replaced.Created);
        Assert.Equal((store, "Ana L."), (replaced.Unit.ParentKey, replaced.Unit.Name));
        await RpcAssert.InvalidArgumentAsync(() => _admin.SaveUnitAsync(new SaveUnitRequest
        {
            Unit = new CxMesh.Feedback.V1.Unit { Key = agent, Kind = UnitKind.Team, Name = "Now a team", ParentKey = store },
        }).ResponseAsync, "unit.kind");

        var page = await _analyst.ListUnitsAsync(new ListUnitsRequest { PageSize = 1 });
        Assert.Single(page.Units);
        Assert.NotEmpty(page.NextPageToken);
        await RpcAssert.StatusAsync(() => _analyst.ListUnitsAsync(new ListUnitsRequest { ParentKey = "no-such-unit" }).ResponseAsync, StatusCode.NotFound);
    }

    [Theory]
    [InlineData("no key", "unit.key")]
    [InlineData("no kind", "unit.kind")]
    [InlineData("no name", "unit.name")]
    [InlineData("store with a parent", "unit.parent_key")]
    [InlineData("unknown parent", "unit.parent_key")]
    [InlineData("agent above a team", "unit.parent_key")]
    [InlineData("itself as parent", "unit.parent_key")]
    [InlineData("one-letter alias", "unit.aliases[0]")]
    [InlineData("alias of another agent in the store", "unit.aliases[0]")]
    [InlineData("eleven aliases", "unit.aliases")]
    [InlineData("bad member id", "unit.recognition_member_id")]
    public async Task Bad_units_are_INVALID_ARGUMENT_naming_the_field(string how, string field)
    {
        var (store, team, agent) = await StoreAsync();
        var unit = new CxMesh.Feedback.V1.Unit { Key = Unique("agent"), Kind = UnitKind.Agent, Name = "Bo Chen", ParentKey = team, Aliases = { "Bo" } };
        switch (how)
        {
            case "no key": unit.Key = ""; break;
            case "no kind": unit.Kind = UnitKind.Unspecified; break;
            case "no name": unit.Name = "  "; break;
            case "store with a parent": (unit.Kind, unit.ParentKey) = (UnitKind.Store, store); break;
            case "unknown parent": unit.ParentKey = "no-such-team"; break;
            case "agent above a team": (unit.Kind, unit.ParentKey) = (UnitKind.Team, agent); break;
            case "itself as parent": unit.ParentKey = unit.Key; break;
            case "one-letter alias": unit.Aliases[0] = "B"; break;
            case "alias of another agent in the store": unit.Aliases[0] = "ana"; break;
            case "eleven aliases": unit.Aliases.AddRange(Enumerable.Range(0, 10).Select(i => $"Bo {i}")); break;
            case "bad member id": unit.RecognitionMemberId = "bo chen@example"; break;
        }
        await RpcAssert.InvalidArgumentAsync(() => _admin.SaveUnitAsync(new SaveUnitRequest { Unit = unit }).ResponseAsync, field);
    }

    [Fact]
    public async Task Feedback_names_a_registered_unit_and_its_event_carries_the_units_above_nearest_first()
    {
        var (store, team, agent) = await StoreAsync();
        var item = (await _app.SubmitFeedbackAsync(Said("The order was fine.", agent))).Item;
        Assert.Equal(agent, item.Links.UnitKey);
        Assert.Equal(agent, (await _analyst.GetFeedbackAsync(new GetFeedbackRequest { Id = item.Id })).Item.Links.UnitKey);

        var evt = await EventAsync<FeedbackReceived>(Topics.FeedbackReceived.Name, item.Id);
        Assert.Equal([agent, team, store], evt.Units.Select(u => u.Key));
        Assert.Equal([UnitKind.Agent, UnitKind.Team, UnitKind.Store], evt.Units.Select(u => u.Kind));
        Assert.Equal(team, evt.Units[0].ParentKey);

        // An employee names their team or store, never an agent (that eNPS would be one person's answer).
        var employee = (await _app.SubmitFeedbackAsync(Said("Good shifts lately.", team, Audience.Employee))).Item;
        Assert.Equal(team, employee.Links.UnitKey);
        await RpcAssert.InvalidArgumentAsync(() => _app.SubmitFeedbackAsync(Said("Good shifts lately.", agent, Audience.Employee)).ResponseAsync, "links.unit_key");
        await RpcAssert.InvalidArgumentAsync(() => _app.SubmitFeedbackAsync(Said("Fine.", "no-such-store")).ResponseAsync, "links.unit_key");
        await RpcAssert.InvalidArgumentAsync(() => _app.SubmitFeedbackAsync(Said("Fine.", "Store 12!")).ResponseAsync, "links.unit_key");
    }

    [Fact]
    public async Task Words_praising_a_unit_by_name_become_praise_with_a_redacted_excerpt_and_a_recognition_event()
    {
        var (store, _, agent) = await StoreAsync();
        var item = (await _app.SubmitFeedbackAsync(Said(
            "The parcel was late again. Ana was wonderful and sorted my refund in minutes, mail me at jo@example.com if needed!", store))).Item;

        var praise = (await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = agent })).Praise.Single();
        Assert.Equal((item.Id, "Ana Lima", UnitKind.Agent), (praise.FeedbackId, praise.UnitName, praise.UnitKind));
        Assert.StartsWith("Ana was wonderful and sorted my refund in minutes", praise.Excerpt);
        Assert.Contains("[email]", praise.Excerpt);
        Assert.DoesNotContain("jo@example.com", praise.Excerpt);
        Assert.DoesNotContain("late", praise.Excerpt);

        var recognition = await EventAsync<PraiseReceived>(Topics.PraiseReceived.Name, praise.PraiseId);
        Assert.Equal((agent, $"member-{agent}", praise.Excerpt), (recognition.Unit.Key, recognition.RecognitionMemberId, recognition.Excerpt));
        var received = await EventAsync<FeedbackReceived>(Topics.FeedbackReceived.Name, item.Id);
        Assert.Equal([agent], received.PraisedUnits.Select(u => u.Key));

        // Listed for the store with the units under it, not for the store alone.
        Assert.Empty((await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = store })).Praise);
        Assert.Single((await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = store, IncludeDescendants = true })).Praise);
    }

    [Theory]
    [InlineData("Ana was rude and did not listen.", false)]
    [InlineData("I asked for Ana at the counter.", false)]
    [InlineData("Banana bread was stale.", false)]
    [InlineData("Thanks to Ana, my refund came fast.", true)]
    [InlineData("ANA LIMA is the best barista in town!", true)]
    [InlineData("The coffee was cold but Ana was lovely about it.", true)]
    [InlineData("谢谢Ana，咖啡很好喝！", true)]
    [InlineData("Anastasia was lovely.", false)]
    public async Task Only_a_positive_sentence_naming_the_unit_as_a_whole_word_is_praise(string words, bool praised)
    {
        // Every test's store has an "Ana": the item names its store, so the name is hers.
        var (store, _, agent) = await StoreAsync();
        await _app.SubmitFeedbackAsync(Said(words, store));
        var found = (await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = agent })).Praise;
        Assert.Equal(praised, found.Count == 1);
    }

    [Fact]
    public async Task A_name_two_stores_share_is_credited_only_where_the_item_says_which_store()
    {
        var (storeA, _, agentA) = await StoreAsync("Sam");
        var (storeB, _, agentB) = await StoreAsync("Sam");
        await _app.SubmitFeedbackAsync(Said("Sam was brilliant, thank you!"));
        Assert.Empty((await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = agentA })).Praise);
        Assert.Empty((await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = agentB })).Praise);

        await _app.SubmitFeedbackAsync(Said("Sam was brilliant, thank you!", storeB));
        Assert.Empty((await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = agentA })).Praise);
        Assert.Single((await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = agentB })).Praise);
        _ = storeA;
    }

    [Fact]
    public async Task Chinese_names_are_found_as_written()
    {
        var store = Unique("store");
        await SaveAsync(store, UnitKind.Store, "南京路店");
        var agent = Unique("agent");
        await SaveAsync(agent, UnitKind.Agent, "王芳", store, ["小王", "王芳"]);
        await _app.SubmitFeedbackAsync(Said("小王服务很热情，非常满意！"));
        Assert.Single((await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = agent })).Praise);
    }

    [Fact]
    public async Task Praise_is_paged_newest_first_and_goes_with_the_customers_words_on_erasure()
    {
        var (store, _, agent) = await StoreAsync();
        var customer = $"cust-{Guid.NewGuid():N}"[..13];
        for (var i = 0; i < 3; i++)
        {
            var request = Said($"Ana was great again, visit {i}.", store);
            request.CustomerId = customer;
            request.GivenAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow.AddHours(i - 5));
            await _app.SubmitFeedbackAsync(request);
        }
        var first = await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = agent, PageSize = 2 });
        Assert.Equal(2, first.Praise.Count);
        Assert.Contains("visit 2", first.Praise[0].Excerpt);
        var second = await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = agent, PageSize = 2, PageToken = first.NextPageToken });
        Assert.Contains("visit 0", second.Praise.Single().Excerpt);
        Assert.Empty(second.NextPageToken);
        await RpcAssert.InvalidArgumentAsync(() => _analyst.ListPraiseAsync(new ListPraiseRequest { PageToken = "not-a-token" }).ResponseAsync, "page_token");
        await RpcAssert.InvalidArgumentAsync(() => _analyst.ListPraiseAsync(new ListPraiseRequest { IncludeDescendants = true }).ResponseAsync, "include_descendants");

        var erased = await _admin.EraseCustomerAsync(new EraseCustomerRequest { CustomerId = customer });
        Assert.Empty((await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = agent })).Praise);
        var receipt = (await _admin.GetErasureReceiptAsync(new GetErasureReceiptRequest { ErasureId = erased.ErasureEventId })).Receipt;
        Assert.Equal(3, receipt.Services.First(s => s.Service == "feedback").Removed["praise"]);
    }

    [Fact]
    public async Task A_name_the_customer_gives_later_is_hidden_from_their_praise_too()
    {
        var (store, _, agent) = await StoreAsync();
        var customer = $"cust-{Guid.NewGuid():N}"[..13];
        var first = Said("Ana was wonderful to Wen Li and her kids.", store);
        first.CustomerId = customer;
        await _app.SubmitFeedbackAsync(first);
        Assert.Contains("Wen Li", (await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = agent })).Praise.Single().Excerpt);

        var later = Said("Delivery was fine.", store);
        later.CustomerId = customer;
        later.Contact = new ContactDetails { Name = "Wen Li" };
        await _app.SubmitFeedbackAsync(later);
        var excerpt = (await _analyst.ListPraiseAsync(new ListPraiseRequest { UnitKey = agent })).Praise.Single().Excerpt;
        Assert.DoesNotContain("Wen Li", excerpt);
        Assert.Contains("[name]", excerpt);
    }
}
