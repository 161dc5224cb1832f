using CxMesh.Journey.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace CxMesh.Journey.Tests;

public sealed class DefinitionApiTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly JourneyService.JourneyServiceClient _client = fixture.Host.Client(Roles.Admin);

    public static TheoryData<string, string> BadDefinitions => new()
    {
        { "bad key", "definition.key" },
        { "no name", "definition.name" },
        { "no stages", "definition.stages" },
        { "empty stage", "definition.stages[1].touchpoints" },
        { "no start", "definition.stages" },
        { "no end", "definition.stages" },
        { "touchpoint in two stages", "definition.stages[2].touchpoints[0].key" },
        { "stage key twice", "definition.stages[1].key" },
        { "unspecified channel", "definition.stages[0].touchpoints[0].channel" },
        { "no timeout", "definition.inactivity_timeout" },
        { "timeout too short", "definition.inactivity_timeout" },
        { "timeout too long", "definition.inactivity_timeout" },
        { "bad segment attribute", "definition.segment_attributes[0]" },
    };

    private static JourneyDefinition Break(string how)
    {
        var d = JourneyApi.Coffee($"j-{Guid.NewGuid():N}"[..20]);
        switch (how)
        {
            case "bad key": d.Key = "Coffee Subscription!"; break;
            case "no name": d.Name = ""; break;
            case "no stages": d.Stages.Clear(); break;
            case "empty stage": d.Stages[1].Touchpoints.Clear(); break;
            case "no start": foreach (var t in d.Stages.SelectMany(s => s.Touchpoints)) t.StartsJourney = false; break;
            case "no end": foreach (var t in d.Stages.SelectMany(s => s.Touchpoints)) t.EndsJourney = false; break;
            case "touchpoint in two stages": d.Stages[2].Touchpoints[0].Key = "roasted"; break;
            case "stage key twice": d.Stages[1].Key = "order"; break;
            case "unspecified channel": d.Stages[0].Touchpoints[0].Channel = TouchpointChannel.Unspecified; break;
            case "no timeout": d.InactivityTimeout = null; break;
            case "timeout too short": d.InactivityTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(30)); break;
            case "timeout too long": d.InactivityTimeout = Duration.FromTimeSpan(TimeSpan.FromDays(400)); break;
            case "bad segment attribute": d.SegmentAttributes[0] = "Customer Segment"; break;
            default: throw new ArgumentOutOfRangeException(nameof(how));
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(BadDefinitions))]
    public async Task A_bad_definition_is_INVALID_ARGUMENT_naming_the_field(string how, string field) =>
        await RpcAssert.InvalidArgumentAsync(
            () => _client.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = Break(how) }).ResponseAsync, field);

    [Fact]
    public async Task Hundreds_of_violations_reach_the_client_as_one_bounded_error_and_the_connection_stays_usable()
    {
        var d = JourneyApi.Coffee($"j-{Guid.NewGuid():N}"[..20]);
        for (var i = 0; i < 300; i++)
        {
            d.Stages.Add(new Stage { Key = $"Bad Stage {i}!", Name = "", Touchpoints = { new TouchpointDefinition { Key = $"Bad Key {i}!", Name = "" } } });
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var refused = await RpcAssert.StatusAsync(() => _client.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = d }, deadline: deadline).ResponseAsync,
            StatusCode.InvalidArgument);
        Assert.Equal(Platform.Errors.ErrorMappingInterceptor.MaxViolations, refused.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations.Count);
        Assert.Equal("TOO_MANY_VIOLATIONS", refused.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
        // The same client (and HTTP/2 connection) goes on working.
        Assert.NotNull((await _client.ListJourneyDefinitionsAsync(new ListJourneyDefinitionsRequest(), deadline: DateTime.UtcNow.AddSeconds(10))));
    }

    [Fact]
    public async Task Definitions_are_created_once_versioned_on_update_and_archived()
    {
        var key = $"versioned-{Guid.NewGuid():N}"[..24];
        var created = (await _client.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = JourneyApi.Coffee(key) })).Definition;
        Assert.Equal(1, created.Version);
        await RpcAssert.StatusAsync(() => _client.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = JourneyApi.Coffee(key) }).ResponseAsync,
            StatusCode.AlreadyExists);

        var changed = JourneyApi.Coffee(key);
        changed.Name = "Coffee subscription (v2)";
        var updated = (await _client.UpdateJourneyDefinitionAsync(new UpdateJourneyDefinitionRequest { Definition = changed, ExpectedVersion = 1 })).Definition;
        Assert.Equal(2, updated.Version);

        var stale = await RpcAssert.StatusAsync(
            () => _client.UpdateJourneyDefinitionAsync(new UpdateJourneyDefinitionRequest { Definition = changed, ExpectedVersion = 1 }).ResponseAsync,
            StatusCode.FailedPrecondition);
        Assert.Equal("VERSION_MISMATCH", stale.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);

        Assert.Equal("Coffee subscription (v2)", (await _client.GetJourneyDefinitionAsync(new GetJourneyDefinitionRequest { Key = key })).Definition.Name);
        Assert.Equal("Coffee subscription", (await _client.GetJourneyDefinitionAsync(new GetJourneyDefinitionRequest { Key = key, Version = 1 })).Definition.Name);
        await RpcAssert.StatusAsync(() => _client.GetJourneyDefinitionAsync(new GetJourneyDefinitionRequest { Key = key, Version = 9 }).ResponseAsync, StatusCode.NotFound);

        var archived = (await _client.ArchiveJourneyDefinitionAsync(new ArchiveJourneyDefinitionRequest { Key = key })).Definition;
        Assert.True(archived.Archived);
        var app = fixture.Host.Client(Roles.App);
        var rejected = await RpcAssert.StatusAsync(() => app.RecordTouchpointAsync(new RecordTouchpointRequest
        {
            Touchpoint = JourneyApi.Touchpoint("c-1", "order-placed", DateTime.UtcNow, journey: key),
        }).ResponseAsync, StatusCode.FailedPrecondition);
        Assert.Equal("JOURNEY_ARCHIVED", rejected.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
    }

    [Fact]
    public async Task Listing_pages_through_current_versions_in_key_order()
    {
        var prefix = $"list-{Guid.NewGuid():N}"[..12];
        foreach (var i in Enumerable.Range(0, 5))
        {
            await _client.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = JourneyApi.Coffee($"{prefix}-{i}") });
        }
        var seen = new List<string>();
        var token = "";
        do
        {
            var page = await _client.ListJourneyDefinitionsAsync(new ListJourneyDefinitionsRequest { PageSize = 2, PageToken = token });
            Assert.True(page.Definitions.Count <= 2);
            seen.AddRange(page.Definitions.Select(d => d.Key));
            token = page.NextPageToken;
        } while (token.Length > 0);
        var mine = seen.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{prefix}-{i}"), mine);
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);

        await RpcAssert.InvalidArgumentAsync(() => _client.ListJourneyDefinitionsAsync(new ListJourneyDefinitionsRequest { PageToken = "%%%" }).ResponseAsync, "page_token");
        await RpcAssert.InvalidArgumentAsync(() => _client.ListJourneyDefinitionsAsync(new ListJourneyDefinitionsRequest { PageSize = 1000 }).ResponseAsync, "page_size");
    }

    [Fact]
    public async Task Apps_may_not_define_journeys() =>
        await RpcAssert.StatusAsync(() => fixture.Host.Client(Roles.App)
            .CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = JourneyApi.Coffee("not-allowed") }).ResponseAsync, StatusCode.PermissionDenied);
}
