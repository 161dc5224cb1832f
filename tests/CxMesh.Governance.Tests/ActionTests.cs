using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Feedback.V1;
using CxMesh.Governance.V1;
using CxMesh.Platform.Messaging;
using CxMesh.TestKit;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using static CxMesh.Governance.Tests.GovernanceTestKit;
using Action = CxMesh.Governance.V1.Action;

namespace CxMesh.Governance.Tests;

/// <summary>Closed-loop actions: from alerts and partner commitments, through their states, with metrics.</summary>
public sealed class ActionTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly GovernanceService.GovernanceServiceClient _admin = fixture.Host.Client<GovernanceService.GovernanceServiceClient>();

    private static AlertRaised Detractor(string journey, string touchpoint, Channel channel, string? alertId = null) => new()
    {
        EventId = Guid.NewGuid().ToString(),
        OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
        AlertId = alertId ?? Guid.NewGuid().ToString(),
        Kind = AlertKind.Detractor,
        FeedbackId = Guid.NewGuid().ToString(),
        CustomerId = Unique("customer"),
        JourneyKey = journey,
        TouchpointKey = touchpoint,
        Channel = channel,
        RedactedVerbatim = "Late again, call me on [phone].",
        Metric = Metric.Nps,
        QuestionId = "nps",
        Rating = 2,
    };

    private async Task<Action> ActionForAlertAsync(string alertId) =>
        (await _admin.ListActionsAsync(new ListActionsRequest { PageSize = 200, States = { ActionState.Open, ActionState.InProgress, ActionState.Resolved, ActionState.Closed } }))
            .Actions.Single(a => a.AlertId == alertId);

    [Fact]
    public async Task An_alert_becomes_one_action_for_the_touchpoint_or_journey_owner_due_after_its_channel_sla()
    {
        var p = await PeopleAsync(_admin);
        await _admin.AssignTouchpointOwnerAsync(new AssignTouchpointOwnerRequest { JourneyKey = p.Journey, TouchpointKey = "delivered", OwnerId = p.Other });

        var survey = Detractor(p.Journey, "order-placed", Channel.Survey);
        await DeliverAsync(fixture.Host, Topics.AlertRaised, survey.EventId, survey);
        var surveyAction = await ActionForAlertAsync(survey.AlertId);
        Assert.Equal((p.Owner, p.Team, "alert", ActionState.Open), (surveyAction.OwnerId, surveyAction.TeamId, surveyAction.Source, surveyAction.State));
        Assert.Equal(TimeSpan.FromHours(24), surveyAction.DueAt.ToDateTime() - surveyAction.CreatedAt.ToDateTime());
        Assert.Equal("Late again, call me on [phone].", surveyAction.Detail);

        var complaint = Detractor(p.Journey, "delivered", Channel.Complaint);
        await DeliverAsync(fixture.Host, Topics.AlertRaised, complaint.EventId, complaint);
        var complaintAction = await ActionForAlertAsync(complaint.AlertId);
        Assert.Equal(p.Other, complaintAction.OwnerId); // the touchpoint's owner before the journey's
        Assert.Equal(TimeSpan.FromHours(4), complaintAction.DueAt.ToDateTime() - complaintAction.CreatedAt.ToDateTime());

        // The same alert again (a redelivery under another event id, or a second replica): still one action.
        var again = survey.Clone();
        again.EventId = Guid.NewGuid().ToString();
        await DeliverAsync(fixture.Host, Topics.AlertRaised, again.EventId, again);
        Assert.Equal(DeliveryOutcome.Duplicate, await DeliverAsync(fixture.Host, Topics.AlertRaised, survey.EventId, survey));
        await ActionForAlertAsync(survey.AlertId); // Single() throws on two
    }

    [Fact]
    public async Task An_alert_for_a_journey_nobody_owns_goes_to_the_cx_team()
    {
        var alert = Detractor(Unique("unowned"), "", Channel.Review);
        await DeliverAsync(fixture.Host, Topics.AlertRaised, alert.EventId, alert);
        var action = await ActionForAlertAsync(alert.AlertId);
        Assert.Equal(("", "cx"), (action.OwnerId, action.TeamId));
        Assert.Contains((await _admin.ListActionsAsync(new ListActionsRequest { TeamId = "cx", PageSize = 200 })).Actions, a => a.Id == action.Id);

        var drop = new AlertRaised
        {
            EventId = Guid.NewGuid().ToString(),
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
            AlertId = Guid.NewGuid().ToString(),
            Kind = AlertKind.ScoreDrop,
            ScopeKey = $"journey={Unique("j")}|touchpoint=delivered",
            Metric = Metric.Nps,
            Value = 10,
            PreviousValue = 30,
            WindowDays = 7,
        };
        await DeliverAsync(fixture.Host, Topics.AlertRaised, drop.EventId, drop);
        var dropAction = await ActionForAlertAsync(drop.AlertId);
        Assert.Equal("delivered", dropAction.TouchpointKey);
        Assert.Equal(TimeSpan.FromHours(72), dropAction.DueAt.ToDateTime() - dropAction.CreatedAt.ToDateTime());
        Assert.Contains("fell to 10", dropAction.Title);
    }

    [Fact]
    public async Task An_employee_s_alert_goes_to_the_people_team_as_an_employee_follow_up_not_a_customer_call_back()
    {
        var p = await PeopleAsync(_admin);
        var alert = Detractor(p.Journey, "", Channel.Survey);
        (alert.Metric, alert.QuestionId, alert.Audience) = (Metric.Enps, "enps", "employee");
        await DeliverAsync(fixture.Host, Topics.AlertRaised, alert.EventId, alert);
        var action = await ActionForAlertAsync(alert.AlertId);
        Assert.Equal(("", "people"), (action.OwnerId, action.TeamId)); // not the journey's owner, though the journey has one
        Assert.StartsWith("Follow up an unhappy employee (eNPS 2)", action.Title);
        Assert.DoesNotContain("Call back", action.Title);

        var drop = new AlertRaised
        {
            EventId = Guid.NewGuid().ToString(),
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
            AlertId = Guid.NewGuid().ToString(),
            Kind = AlertKind.ScoreDrop,
            ScopeKey = "store=leeds",
            Metric = Metric.Enps,
            Value = -20,
            PreviousValue = 15,
            WindowDays = 7,
            Audience = "employee",
        };
        await DeliverAsync(fixture.Host, Topics.AlertRaised, drop.EventId, drop);
        Assert.Equal("people", (await ActionForAlertAsync(drop.AlertId)).TeamId);
    }

    [Fact]
    public async Task Actions_move_open_in_progress_resolved_and_refuse_other_moves()
    {
        var p = await PeopleAsync(_admin);
        var alert = Detractor(p.Journey, "", Channel.Survey);
        await DeliverAsync(fixture.Host, Topics.AlertRaised, alert.EventId, alert);
        var id = (await ActionForAlertAsync(alert.AlertId)).Id;

        var started = (await _admin.StartActionAsync(new StartActionRequest { ActionId = id, Comment = "Calling the customer now." })).Action;
        Assert.Equal(ActionState.InProgress, started.State);
        Assert.NotNull(started.FirstResponseAt);
        Assert.Equal("Calling the customer now.", Assert.Single(started.Comments).Text);

        await RpcAssert.InvalidArgumentAsync(() => _admin.ResolveActionAsync(new ResolveActionRequest { ActionId = id, Resolution = "refunded" }).ResponseAsync, "root_cause");
        var resolved = (await _admin.ResolveActionAsync(new ResolveActionRequest { ActionId = id, RootCause = "courier lost the parcel", Resolution = "re-sent, refunded shipping" })).Action;
        Assert.Equal((ActionState.Resolved, "courier lost the parcel"), (resolved.State, resolved.RootCause));

        var back = await RpcAssert.StatusAsync(() => _admin.StartActionAsync(new StartActionRequest { ActionId = id }).ResponseAsync, StatusCode.FailedPrecondition);
        var info = back.GetRpcStatus()!.GetDetail<ErrorInfo>();
        Assert.Equal(("ACTION_TRANSITION", "resolved", "in_progress"), (info.Reason, info.Metadata["from"], info.Metadata["to"]));
        await RpcAssert.StatusAsync(() => _admin.CloseActionAsync(new CloseActionRequest { ActionId = id, Reason = "x" }).ResponseAsync, StatusCode.FailedPrecondition);
        await RpcAssert.StatusAsync(() => _admin.ReassignActionAsync(new ReassignActionRequest { ActionId = id, OwnerId = p.Other }).ResponseAsync, StatusCode.FailedPrecondition);
        Assert.Equal(["created", "started", "resolved"], (await _admin.GetActionAsync(new GetActionRequest { ActionId = id })).Action.History.Select(h => h.Kind));

        await RpcAssert.StatusAsync(() => _admin.StartActionAsync(new StartActionRequest { ActionId = Guid.NewGuid().ToString() }).ResponseAsync, StatusCode.NotFound);
        await RpcAssert.InvalidArgumentAsync(() => _admin.StartActionAsync(new StartActionRequest { ActionId = "not-a-uuid" }).ResponseAsync, "action_id");
    }

    [Fact]
    public async Task Actions_are_reassigned_commented_closed_and_listed_by_owner_and_team()
    {
        var p = await PeopleAsync(_admin);
        var created = (await _admin.CreateActionAsync(new CreateActionRequest { Action = new Action { Title = "Fix the FAQ", JourneyKey = p.Journey } })).Action;
        Assert.Equal((p.Owner, "manual"), (created.OwnerId, created.Source)); // from the journey's owner
        Assert.Equal(TimeSpan.FromHours(24), created.DueAt.ToDateTime() - created.CreatedAt.ToDateTime());

        var reassigned = (await _admin.ReassignActionAsync(new ReassignActionRequest { ActionId = created.Id, OwnerId = p.Other, Reason = "holiday" })).Action;
        Assert.Equal(p.Other, reassigned.OwnerId);
        Assert.Contains("holiday", reassigned.History[^1].Detail);
        await RpcAssert.InvalidArgumentAsync(() => _admin.ReassignActionAsync(new ReassignActionRequest { ActionId = created.Id }).ResponseAsync, "owner_id");
        await RpcAssert.InvalidArgumentAsync(() => _admin.ReassignActionAsync(new ReassignActionRequest { ActionId = created.Id, OwnerId = "ghost" }).ResponseAsync, "owner_id");

        var commented = (await _admin.CommentOnActionAsync(new CommentOnActionRequest { ActionId = created.Id, Text = "Draft ready for review." })).Action;
        Assert.NotNull(commented.FirstResponseAt);
        Assert.Equal("test-admin", commented.Comments[0].Author);
        await RpcAssert.InvalidArgumentAsync(() => _admin.CommentOnActionAsync(new CommentOnActionRequest { ActionId = created.Id, Text = "bad \u0001 text" }).ResponseAsync, "text");

        Assert.Contains((await _admin.ListActionsAsync(new ListActionsRequest { OwnerId = p.Other })).Actions, a => a.Id == created.Id);
        Assert.DoesNotContain((await _admin.ListActionsAsync(new ListActionsRequest { OwnerId = p.Owner })).Actions, a => a.Id == created.Id);
        var closed = (await _admin.CloseActionAsync(new CloseActionRequest { ActionId = created.Id, Reason = "duplicate of the FAQ project" })).Action;
        Assert.Equal(ActionState.Closed, closed.State);
        Assert.DoesNotContain((await _admin.ListActionsAsync(new ListActionsRequest { TeamId = p.Team })).Actions, a => a.Id == created.Id);
        Assert.Contains((await _admin.ListActionsAsync(new ListActionsRequest { TeamId = p.Team, States = { ActionState.Closed } })).Actions, a => a.Id == created.Id);
        await RpcAssert.InvalidArgumentAsync(() => _admin.ListActionsAsync(new ListActionsRequest { PageToken = "garbage!" }).ResponseAsync, "page_token");
    }

    [Fact]
    public async Task Listing_pages_through_every_action_once()
    {
        var p = await PeopleAsync(_admin);
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add((await _admin.CreateActionAsync(new CreateActionRequest
            {
                Action = new Action { Title = $"Step {i}", OwnerId = p.Owner, DueAt = Timestamp.FromDateTime(DateTime.UtcNow.AddHours(10 + i % 3)) },
            })).Action.Id);
        }
        var seen = new List<string>();
        var token = "";
        do
        {
            var page = await _admin.ListActionsAsync(new ListActionsRequest { OwnerId = p.Owner, PageSize = 3, PageToken = token });
            seen.AddRange(page.Actions.Select(a => a.Id));
            token = page.NextPageToken;
        } while (token.Length > 0);
        Assert.Equal(ids.Order(), seen.Order());
    }

    [Fact]
    public async Task Metrics_give_time_to_first_response_time_to_resolve_and_the_share_within_sla()
    {
        var p = await PeopleAsync(_admin);
        var journeyActions = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var alert = Detractor(p.Journey, "", Channel.Survey);
            await DeliverAsync(fixture.Host, Topics.AlertRaised, alert.EventId, alert);
            journeyActions.Add((await ActionForAlertAsync(alert.AlertId)).Id);
        }
        await _admin.ResolveActionAsync(new ResolveActionRequest { ActionId = journeyActions[0], RootCause = "c", Resolution = "r" });
        await _admin.CloseActionAsync(new CloseActionRequest { ActionId = journeyActions[1], Reason = "not actionable: test order" });
        var m = await _admin.GetActionMetricsAsync(new GetActionMetricsRequest { JourneyKey = p.Journey });
        Assert.Equal((3, 1, 1, 1), (m.Created, m.Open, m.Resolved, m.Closed));
        Assert.Equal(2, m.SlaDecided); // the open one is not yet due
        Assert.Equal(100, m.WithinSlaPercent);
        Assert.True(m.MedianHoursToFirstResponse is >= 0 and < 1);
        Assert.Equal(m.MeanHoursToResolve, m.MedianHoursToResolve);
        Assert.Equal(3, (await _admin.GetActionMetricsAsync(new GetActionMetricsRequest { TeamId = p.Team })).Created);
        await RpcAssert.InvalidArgumentAsync(() => _admin.GetActionMetricsAsync(new GetActionMetricsRequest { JourneyKey = p.Journey, TeamId = p.Team }).ResponseAsync, "team_id");
        await RpcAssert.InvalidArgumentAsync(() => _admin.GetActionMetricsAsync(new GetActionMetricsRequest { WindowDays = 400 }).ResponseAsync, "window_days");
    }

    [Fact]
    public async Task Partner_commitments_become_actions_of_the_partner_contact_and_updates_are_recorded()
    {
        var p = await PeopleAsync(_admin);
        var partner = Unique("farm");
        await _admin.SetPartnerContactAsync(new SetPartnerContactRequest { PartnerId = partner, MemberId = p.Other });
        var commitment = new PartnerResponseReceived
        {
            EventId = Guid.NewGuid().ToString(),
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
            ResponseId = Guid.NewGuid().ToString(),
            PartnerId = partner,
            ReportId = Guid.NewGuid().ToString(),
            Kind = "commitment",
            Text = "We will re-train the pickers.",
            Owner = "farm QA lead",
            DueDate = DateTime.UtcNow.AddDays(30).ToString("yyyy-MM-dd"),
            Status = "open",
        };
        await DeliverAsync(fixture.Host, Topics.PartnerResponseReceived, commitment.EventId, commitment);
        var action = (await _admin.ListActionsAsync(new ListActionsRequest { OwnerId = p.Other })).Actions.Single(a => a.PartnerId == partner);
        Assert.Equal(("partner-commitment", "We will re-train the pickers.", p.Team), (action.Source, action.Detail, action.TeamId));
        Assert.Equal(DateTime.UtcNow.AddDays(30).Date, action.DueAt.ToDateTime().Date);

        var update = commitment.Clone();
        update.EventId = Guid.NewGuid().ToString();
        update.Status = "done";
        update.Text = "Pickers trained.";
        await DeliverAsync(fixture.Host, Topics.PartnerResponseReceived, update.EventId, update);
        var after = (await _admin.GetActionAsync(new GetActionRequest { ActionId = action.Id })).Action;
        Assert.Contains("done", Assert.Single(after.Comments).Text);
        Assert.Null(after.FirstResponseAt); // the partner's update is not our response

        var ack = commitment.Clone();
        ack.EventId = Guid.NewGuid().ToString();
        ack.ResponseId = Guid.NewGuid().ToString();
        ack.Kind = "acknowledgement";
        await DeliverAsync(fixture.Host, Topics.PartnerResponseReceived, ack.EventId, ack);
        Assert.Single((await _admin.ListActionsAsync(new ListActionsRequest { OwnerId = p.Other })).Actions, a => a.PartnerId == partner);

        // A partner without a contact: the CX team.
        var orphan = commitment.Clone();
        orphan.EventId = Guid.NewGuid().ToString();
        orphan.ResponseId = Guid.NewGuid().ToString();
        orphan.PartnerId = Unique("courier");
        await DeliverAsync(fixture.Host, Topics.PartnerResponseReceived, orphan.EventId, orphan);
        Assert.Contains((await _admin.ListActionsAsync(new ListActionsRequest { TeamId = "cx", PageSize = 200 })).Actions, a => a.PartnerId == orphan.PartnerId);
    }

    [Fact]
    public async Task A_detractor_submitted_to_feedback_reaches_its_owner_as_an_action_through_scoring()
    {
        var p = await PeopleAsync(_admin);
        var feedback = fixture.Host.Client<FeedbackService.FeedbackServiceClient>();
        var item = (await feedback.SubmitFeedbackAsync(new SubmitFeedbackRequest
        {
            IdempotencyKey = Unique("detractor"),
            Channel = Channel.Survey,
            JourneyKey = p.Journey,
            Ratings = { new Rating { QuestionId = "nps", Value = 1 } },
            Verbatim = "The parcel was late, mail me at jo@example.com",
            CustomerId = Unique("customer"),
            GivenAt = Timestamp.FromDateTime(DateTime.UtcNow.AddMinutes(-5)),
        })).Item;
        var action = await Eventually.Until(
            async () => (await _admin.ListActionsAsync(new ListActionsRequest { OwnerId = p.Owner })).Actions.FirstOrDefault(a => a.FeedbackId == item.Id),
            a => a is not null, because: "feedback.received → scoring's alert.raised → governance's action");
        Assert.Equal((ActionState.Open, p.Journey, Channel.Survey), (action!.State, action.JourneyKey, action.Channel));
        Assert.DoesNotContain("jo@example.com", action.Detail);
        Assert.Contains("[email]", action.Detail);
    }
}
