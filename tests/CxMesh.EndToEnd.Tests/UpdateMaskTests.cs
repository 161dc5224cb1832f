using CxMesh.Feedback.V1;
using CxMesh.Governance.V1;
using CxMesh.Journey.V1;
using CxMesh.Notifications.V1;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace CxMesh.EndToEnd.Tests;

/// <summary>
/// AIP-134 on every update: a mask changes only the fields it names, an empty mask (or "*") replaces the whole resource
/// as before, and a path that is not a field, or that names the resource, is refused as update_mask.
/// </summary>
public sealed class UpdateMaskTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private static FieldMask Mask(params string[] paths) => new() { Paths = { paths } };

    private static string Key(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..24];

    /// <summary>The refusals every masked update gives: unknown path, the identity, "*" among others, a resource that is not there.</summary>
    private static async Task RefusesBadMasksAsync(Func<FieldMask, Task> update, Func<FieldMask, Task> updateMissing, string identity, string field = "name")
    {
        var unknown = await RpcAssert.InvalidArgumentAsync(() => update(Mask("no_such_field")), "update_mask");
        Assert.Contains("'no_such_field' is not a field", unknown.FieldViolations.Single().Description);
        await RpcAssert.InvalidArgumentAsync(() => update(Mask(identity)), "update_mask");
        await RpcAssert.InvalidArgumentAsync(() => update(Mask("*", field)), "update_mask");
        await RpcAssert.InvalidArgumentAsync(() => update(Mask(new string('x', 5000))), "update_mask");
        await RpcAssert.StatusAsync(() => updateMissing(Mask(field)), StatusCode.NotFound);
    }

    [Fact]
    public async Task A_theme_s_name_changes_alone_and_its_keywords_stay()
    {
        var feedback = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst);
        var key = Key("roast");
        await feedback.CreateThemeAsync(new CreateThemeRequest { Theme = new Theme { Key = key, Name = "Roast", Keywords = { "roast", "burnt" } } });

        var updated = (await feedback.UpdateThemeAsync(new UpdateThemeRequest { Theme = new Theme { Key = key, Name = "Roast level" }, UpdateMask = Mask("name") })).Theme;
        Assert.Equal(("Roast level", "roast burnt"), (updated.Name, string.Join(' ', updated.Keywords)));
        // The whole theme, as before masks: no keywords is refused as it always was.
        await RpcAssert.InvalidArgumentAsync(() => feedback.UpdateThemeAsync(new UpdateThemeRequest { Theme = new Theme { Key = key, Name = "Roast" } }).ResponseAsync, "theme.keywords");
        await RpcAssert.InvalidArgumentAsync(() => feedback.UpdateThemeAsync(new UpdateThemeRequest { Theme = new Theme { Key = key }, UpdateMask = Mask("keywords") }).ResponseAsync, "theme.keywords");
        await RefusesBadMasksAsync(
            mask => feedback.UpdateThemeAsync(new UpdateThemeRequest { Theme = new Theme { Key = key, Name = "x" }, UpdateMask = mask }).ResponseAsync,
            mask => feedback.UpdateThemeAsync(new UpdateThemeRequest { Theme = new Theme { Key = Key("none"), Name = "x" }, UpdateMask = mask }).ResponseAsync,
            "key");
    }

    [Fact]
    public async Task A_partner_s_contacts_change_alone_and_its_name_and_kind_stay()
    {
        var partners = fixture.Host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);
        var id = Key("mill");
        await partners.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = new Partner.V1.Partner { Id = id, Name = "Stone Mill", Kind = PartnerKind.Supplier } });

        var contact = new Contact { Name = "Ada Stone", Email = "ada@mill.example", Role = "quality" };
        var updated = (await partners.UpdatePartnerAsync(new UpdatePartnerRequest { Partner = new Partner.V1.Partner { Id = id, Contacts = { contact } }, UpdateMask = Mask("contacts") })).Partner;
        Assert.Equal(("Stone Mill", PartnerKind.Supplier, "ada@mill.example"), (updated.Name, updated.Kind, updated.Contacts.Single().Email));
        await RefusesBadMasksAsync(
            mask => partners.UpdatePartnerAsync(new UpdatePartnerRequest { Partner = new Partner.V1.Partner { Id = id, Name = "x" }, UpdateMask = mask }).ResponseAsync,
            mask => partners.UpdatePartnerAsync(new UpdatePartnerRequest { Partner = new Partner.V1.Partner { Id = Key("none"), Name = "x" }, UpdateMask = mask }).ResponseAsync,
            "id");
        await RpcAssert.InvalidArgumentAsync(() => partners.UpdatePartnerAsync(new UpdatePartnerRequest { UpdateMask = Mask("name") }).ResponseAsync, "partner");
    }

    [Fact]
    public async Task A_journey_s_description_changes_alone_and_its_stages_stay_in_a_new_version()
    {
        var journeys = fixture.Host.Client<JourneyService.JourneyServiceClient>(Roles.Admin);
        var key = Key("returns");
        var stage = new Stage { Key = "return", Name = "Return" };
        stage.Touchpoints.Add(new TouchpointDefinition { Key = "return-requested", Name = "Return requested", Channel = TouchpointChannel.App, StartsJourney = true });
        stage.Touchpoints.Add(new TouchpointDefinition { Key = "refunded", Name = "Refunded", Channel = TouchpointChannel.App, EndsJourney = true });
        var created = (await journeys.CreateJourneyDefinitionAsync(new CreateJourneyDefinitionRequest
        {
            Definition = new JourneyDefinition { Key = key, Name = "Returns", Description = "Send it back.", Stages = { stage }, InactivityTimeout = Duration.FromTimeSpan(TimeSpan.FromDays(14)) },
        })).Definition;

        var updated = (await journeys.UpdateJourneyDefinitionAsync(new UpdateJourneyDefinitionRequest
        {
            Definition = new JourneyDefinition { Key = key, Description = "Send it back; we refund within a week." },
            UpdateMask = Mask("description"),
            ExpectedVersion = created.Version,
        })).Definition;
        Assert.Equal(("Returns", "Send it back; we refund within a week.", 2, created.Version + 1), (updated.Name, updated.Description, updated.Stages.Single().Touchpoints.Count, updated.Version));
        await RefusesBadMasksAsync(
            mask => journeys.UpdateJourneyDefinitionAsync(new UpdateJourneyDefinitionRequest { Definition = new JourneyDefinition { Key = key, Name = "x" }, UpdateMask = mask }).ResponseAsync,
            mask => journeys.UpdateJourneyDefinitionAsync(new UpdateJourneyDefinitionRequest { Definition = new JourneyDefinition { Key = Key("none"), Name = "x" }, UpdateMask = mask }).ResponseAsync,
            "key");
    }

    [Fact]
    public async Task A_case_study_s_lessons_change_alone_and_a_member_s_roles_change_alone()
    {
        var governance = fixture.Host.Client<GovernanceService.GovernanceServiceClient>(Roles.Admin);
        var study = (await governance.CreateCaseStudyAsync(new CreateCaseStudyRequest
        {
            CaseStudy = new CaseStudy { Title = "The late parcel", CustomerPainPoints = { "Waited four days" }, PerfectJourney = "On time, every time." },
        })).CaseStudy;
        var updated = (await governance.UpdateCaseStudyAsync(new UpdateCaseStudyRequest { CaseStudy = new CaseStudy { Id = study.Id, Lessons = { "Tell them before they ask" } }, UpdateMask = Mask("lessons") })).CaseStudy;
        Assert.Equal(("The late parcel", "Waited four days", "Tell them before they ask", "On time, every time."),
            (updated.Title, updated.CustomerPainPoints.Single(), updated.Lessons.Single(), updated.PerfectJourney));
        await RefusesBadMasksAsync(
            mask => governance.UpdateCaseStudyAsync(new UpdateCaseStudyRequest { CaseStudy = new CaseStudy { Id = study.Id, Title = "x" }, UpdateMask = mask }).ResponseAsync,
            mask => governance.UpdateCaseStudyAsync(new UpdateCaseStudyRequest { CaseStudy = new CaseStudy { Id = Guid.NewGuid().ToString(), Title = "x" }, UpdateMask = mask }).ResponseAsync,
            "id", "title");

        var team = Key("team");
        await governance.CreateTeamAsync(new CreateTeamRequest { Team = new Team { Id = team, Name = "Logistics" } });
        var member = Key("member");
        await governance.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = member, Name = "Sam Okafor", TeamId = team, Roles = { "courier-manager" } } });
        var saved = (await governance.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = member, Roles = { "courier-manager", "journey-owner" } }, UpdateMask = Mask("roles") })).Member;
        Assert.Equal(("Sam Okafor", team, "courier-manager journey-owner"), (saved.Name, saved.TeamId, string.Join(' ', saved.Roles)));
        await RefusesBadMasksAsync(
            mask => governance.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = member, Name = "x" }, UpdateMask = mask }).ResponseAsync,
            mask => governance.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = Key("none"), Name = "x" }, UpdateMask = mask }).ResponseAsync,
            "id");
    }

    [Fact]
    public async Task A_channel_s_digest_hour_changes_alone_and_someone_else_s_channel_is_not_found()
    {
        var mine = fixture.Host.ClientWithToken<NotificationService.NotificationServiceClient>(fixture.Host.Token(Roles.JourneyOwner, subject: "li.wei"));
        var channel = (await mine.SaveChannelAsync(new SaveChannelRequest
        {
            Channel = new Channel { Kind = ChannelKind.Email, Address = "li.wei@example.com", Topics = { NotificationTopic.ActionCreated }, Mode = DeliveryMode.DailyDigest, DigestHour = 8 },
        })).Channel;
        var updated = (await mine.SaveChannelAsync(new SaveChannelRequest { Channel = new Channel { ChannelId = channel.ChannelId, DigestHour = 17 }, UpdateMask = Mask("digest_hour") })).Channel;
        Assert.Equal(("li.wei@example.com", NotificationTopic.ActionCreated, 17), (updated.Address, updated.Topics.Single(), updated.DigestHour));
        await RefusesBadMasksAsync(
            mask => mine.SaveChannelAsync(new SaveChannelRequest { Channel = new Channel { ChannelId = channel.ChannelId }, UpdateMask = mask }).ResponseAsync,
            mask => mine.SaveChannelAsync(new SaveChannelRequest { Channel = new Channel { ChannelId = Guid.NewGuid().ToString() }, UpdateMask = mask }).ResponseAsync,
            "channel_id", "digest_hour");

        // Another person's masked update finds nothing there, as a whole one does: it does not learn the channel exists.
        var other = fixture.Host.ClientWithToken<NotificationService.NotificationServiceClient>(fixture.Host.Token(Roles.JourneyOwner, subject: "ana.silva"));
        await RpcAssert.StatusAsync(() => other.SaveChannelAsync(new SaveChannelRequest { Channel = new Channel { ChannelId = channel.ChannelId, DigestHour = 3 }, UpdateMask = Mask("digest_hour") }).ResponseAsync, StatusCode.NotFound);
    }
}
