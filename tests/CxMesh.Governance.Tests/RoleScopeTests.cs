using CxMesh.Governance.V1;
using CxMesh.Journey.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Grpc.Core;
using static CxMesh.Governance.Tests.GovernanceTestKit;

namespace CxMesh.Governance.Tests;

/// <summary>A journey-owner acts as themselves, on their own journeys and those journeys' actions only.</summary>
public sealed class RoleScopeTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly GovernanceService.GovernanceServiceClient _admin = fixture.Host.Client<GovernanceService.GovernanceServiceClient>();
    private readonly JourneyService.JourneyServiceClient _journeysAsAdmin = fixture.Host.Client<JourneyService.JourneyServiceClient>();

    private T As<T>(string member) where T : ClientBase<T> => fixture.Host.ClientWithToken<T>(fixture.Host.Token(Roles.JourneyOwner, subject: member));

    private static JourneyDefinition Definition(string key) => new()
    {
        Key = key,
        Name = key,
        InactivityTimeout = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromDays(7)),
        Stages =
        {
            new Stage { Key = "order", Name = "Order", Touchpoints = { new TouchpointDefinition { Key = "ordered", Name = "Ordered", Channel = TouchpointChannel.Web, StartsJourney = true } } },
            new Stage { Key = "deliver", Name = "Deliver", Touchpoints = { new TouchpointDefinition { Key = "delivered", Name = "Delivered", Channel = TouchpointChannel.Web, EndsJourney = true } } },
        },
    };

    [Fact]
    public async Task A_journey_owner_changes_only_journeys_they_own()
    {
        var mine = await PeopleAsync(_admin);
        var theirs = await PeopleAsync(_admin);
        foreach (var key in new[] { mine.Journey, theirs.Journey }) await _journeysAsAdmin.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = Definition(key) });
        var owner = As<JourneyService.JourneyServiceClient>(mine.Owner);

        var updated = Definition(mine.Journey);
        updated.Name = "Renamed by its owner";
        await owner.UpdateJourneyDefinitionAsync(new UpdateJourneyDefinitionRequest { Definition = updated, ExpectedVersion = 1 });

        var other = Definition(theirs.Journey);
        other.Name = "Hijacked";
        var refused = await RpcAssert.StatusAsync(() => owner.UpdateJourneyDefinitionAsync(new UpdateJourneyDefinitionRequest { Definition = other, ExpectedVersion = 1 }).ResponseAsync,
            StatusCode.PermissionDenied);
        Assert.Contains(theirs.Journey, refused.Status.Detail);
        await RpcAssert.StatusAsync(() => owner.ArchiveJourneyDefinitionAsync(new ArchiveJourneyDefinitionRequest { Key = theirs.Journey }).ResponseAsync, StatusCode.PermissionDenied);
        // A brand-new journey has no owner yet: an admin assigns one first.
        await RpcAssert.StatusAsync(() => owner.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest { Definition = Definition(Unique("new")) }).ResponseAsync,
            StatusCode.PermissionDenied);
        // The sponsor of a journey may change it too.
        await As<JourneyService.JourneyServiceClient>(theirs.Sponsor).ArchiveJourneyDefinitionAsync(new ArchiveJourneyDefinitionRequest { Key = theirs.Journey });
    }

    [Fact]
    public async Task A_journey_owner_acts_on_their_journeys_actions_and_their_own_not_on_others()
    {
        var mine = await PeopleAsync(_admin);
        var theirs = await PeopleAsync(_admin);
        var due = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow.AddDays(3));
        var onMine = (await _admin.CreateActionAsync(new CreateActionRequest { Action = new V1.Action { Title = "mine", JourneyKey = mine.Journey, OwnerId = mine.Other, DueAt = due } })).Action;
        var onTheirs = (await _admin.CreateActionAsync(new CreateActionRequest { Action = new V1.Action { Title = "theirs", JourneyKey = theirs.Journey, OwnerId = theirs.Owner, DueAt = due } })).Action;
        var assignedToMe = (await _admin.CreateActionAsync(new CreateActionRequest { Action = new V1.Action { Title = "for me", OwnerId = mine.Owner, DueAt = due } })).Action;
        var owner = As<GovernanceService.GovernanceServiceClient>(mine.Owner);

        await owner.CloseActionAsync(new CloseActionRequest { ActionId = onMine.Id, Reason = "duplicate" });
        await owner.CommentOnActionAsync(new CommentOnActionRequest { ActionId = assignedToMe.Id, Text = "on it" });
        var refused = await RpcAssert.StatusAsync(() => owner.CloseActionAsync(new CloseActionRequest { ActionId = onTheirs.Id, Reason = "not mine to close" }).ResponseAsync,
            StatusCode.PermissionDenied);
        Assert.Contains(theirs.Journey, refused.Status.Detail);
        await RpcAssert.StatusAsync(() => owner.ReassignActionAsync(new ReassignActionRequest { ActionId = onTheirs.Id, OwnerId = mine.Owner }).ResponseAsync, StatusCode.PermissionDenied);
        await RpcAssert.StatusAsync(() => owner.CreateActionAsync(new CreateActionRequest
        {
            Action = new V1.Action { Title = "in their journey", JourneyKey = theirs.Journey, OwnerId = theirs.Owner, DueAt = due },
        }).ResponseAsync, StatusCode.PermissionDenied);
        Assert.Equal(ActionState.Open, (await _admin.GetActionAsync(new GetActionRequest { ActionId = onTheirs.Id })).Action.State);
    }

    [Fact]
    public async Task A_journey_owner_token_whose_subject_is_no_member_is_refused_with_the_reason()
    {
        var p = await PeopleAsync(_admin);
        var due = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow.AddDays(3));
        var action = (await _admin.CreateActionAsync(new CreateActionRequest { Action = new V1.Action { Title = "x", JourneyKey = p.Journey, OwnerId = p.Owner, DueAt = due } })).Action;
        var stranger = As<GovernanceService.GovernanceServiceClient>("nobody-" + Guid.NewGuid().ToString("N")[..6]);
        var refused = await RpcAssert.StatusAsync(() => stranger.StartActionAsync(new StartActionRequest { ActionId = action.Id }).ResponseAsync, StatusCode.PermissionDenied);
        Assert.Contains("not a member", refused.Status.Detail);
    }
}
