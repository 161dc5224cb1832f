using CxMesh.Events.V1;
using CxMesh.Feedback.V1;
using CxMesh.Governance.V1;
using CxMesh.Notifications.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Notifications.Tests;

/// <summary>Governance raising actions, notifications telling people, over a real SMTP server and loopback chat webhooks.</summary>
public sealed class NotificationsFixture : IAsyncLifetime
{
    public CxMeshTestHost Host { get; private set; } = null!;
    public SmtpReceiver Smtp { get; private set; } = null!;
    public ChatReceiver Chat { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Smtp = new SmtpReceiver();
        Chat = await ChatReceiver.StartAsync();
        Host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "governance,notifications,feedback";
            s.Settings["CxMesh:Delivery"] = "InProcess";
            s.Settings["Notifications:ConsoleUrl"] = "https://cx.example.test";
            s.Settings["Notifications:Smtp:Host"] = "127.0.0.1";
            s.Settings["Notifications:Smtp:Port"] = Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            s.Settings["Notifications:Smtp:Security"] = "none";
            s.Settings["Notifications:Smtp:From"] = "cx@example.test";
            s.Settings["Notifications:WebhookAllowList:0"] = "127.0.0.1";
            s.Settings["Notifications:PollInterval"] = "00:00:00.05";
            s.Settings["Notifications:InitialBackoff"] = "00:00:00.05";
            s.Settings["Notifications:MaxBackoff"] = "00:00:00.2";
        });
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Chat.DisposeAsync();
        await Smtp.DisposeAsync();
    }
}

public sealed class NotificationTests(NotificationsFixture fixture) : IClassFixture<NotificationsFixture>
{
    private static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    private NotificationService.NotificationServiceClient As(string role, string subject) =>
        fixture.Host.ClientWithToken<NotificationService.NotificationServiceClient>(fixture.Host.Token(role, subject: subject));

    private GovernanceService.GovernanceServiceClient Governance => fixture.Host.Client<GovernanceService.GovernanceServiceClient>(Roles.Admin);

    /// <summary>A journey owned by a new member; returns the member and the journey.</summary>
    private async Task<(string Owner, string Team, string Journey)> OwnedJourneyAsync()
    {
        var team = Unique("team");
        await Governance.CreateTeamAsync(new CreateTeamRequest { Team = new Team { Id = team, Name = "Delivery" } });
        var owner = Unique("owner");
        var sponsor = Unique("sponsor");
        foreach (var m in new[] { owner, sponsor }) await Governance.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = m, Name = m, TeamId = team } });
        var journey = Unique("journey");
        await Governance.AssignJourneyOwnersAsync(new AssignJourneyOwnersRequest { JourneyKey = journey, SponsorId = sponsor, OwnerId = owner });
        return (owner, team, journey);
    }

    private async Task<DeliveryOutcome> DeliverAsync<TEvent>(string service, EventTopic<TEvent> topic, string eventId, TEvent evt) where TEvent : IMessage<TEvent>, new()
    {
        var subscription = fixture.Host.Services.GetServices<EventSubscription>().Single(s => s.Service == service && s.Topic.Name == topic.Name);
        return await fixture.Host.Services.GetRequiredService<EventDispatcher>()
            .DeliverAsync(subscription, new IncomingEvent(eventId, topic.Name, topic.EventType, EventJson.Format(evt), null), default);
    }

    private static AlertRaised Detractor(string journey, string words) => new()
    {
        AlertId = Guid.NewGuid().ToString(),
        OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
        Kind = AlertKind.Detractor,
        FeedbackId = Guid.NewGuid().ToString(),
        CustomerId = "cust-" + Guid.NewGuid().ToString("N")[..8],
        JourneyKey = journey,
        TouchpointKey = "delivered",
        Channel = CxMesh.Common.V1.Channel.Survey,
        RedactedVerbatim = words,
        Metric = CxMesh.Common.V1.Metric.Nps,
        QuestionId = "nps",
        Rating = 2,
    };

    private static Task<T> Seen<T>(Func<T?> read, string because) where T : class => Until(() => Task.FromResult(read()), because);

    private static async Task<T> Until<T>(Func<Task<T?>> read, string because, int seconds = 15) where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (await read() is { } value) return value;
            await Task.Delay(50);
        }
        throw new TimeoutException(because);
    }

    [Fact]
    public async Task Praise_naming_an_agent_reaches_the_agent_and_the_store_team_as_recognition()
    {
        var agent = Unique("agent");
        var team = Unique("team");
        await Governance.CreateTeamAsync(new CreateTeamRequest { Team = new Team { Id = team, Name = "Store managers" } });
        await Governance.SaveMemberAsync(new SaveMemberRequest { Member = new Member { Id = agent, Name = agent, TeamId = team } });
        var email = $"{agent}@example.test";
        await As(Roles.Analyst, agent).SaveChannelAsync(new SaveChannelRequest { Channel = new Channel { Kind = ChannelKind.Email, Address = email } });
        await As(Roles.Admin, "mei.chen").SaveChannelAsync(new SaveChannelRequest
        {
            Channel = new Channel { OwnerKind = OwnerKind.Team, OwnerId = team, Kind = ChannelKind.Slack, Address = fixture.Chat.Url("slack") + "?team=" + team, Topics = { NotificationTopic.Praise } },
        });
        var feedback = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Admin);
        var store = Unique("store");
        await feedback.SaveUnitAsync(new SaveUnitRequest { Unit = new CxMesh.Feedback.V1.Unit { Key = store, Kind = CxMesh.Common.V1.UnitKind.Store, Name = "Jing'an", RecognitionTeamId = team } });
        await feedback.SaveUnitAsync(new SaveUnitRequest
        {
            Unit = new CxMesh.Feedback.V1.Unit { Key = agent, Kind = CxMesh.Common.V1.UnitKind.Agent, Name = "Kai Wu", ParentKey = store, Aliases = { "Kai" }, RecognitionMemberId = agent },
        });
        async Task SayAsync(string words) => await feedback.SubmitFeedbackAsync(new SubmitFeedbackRequest
        {
            IdempotencyKey = $"praise-{Guid.NewGuid():N}",
            Channel = CxMesh.Common.V1.Channel.Review,
            Verbatim = words,
            CustomerId = "cust-kai-fan",
            Links = new Links { UnitKey = store },
        });
        await SayAsync("Kai was rude to me.");
        await SayAsync("Kai was brilliant and found my lost order, thank you!");

        var mail = await Seen(() => fixture.Smtp.Messages.FirstOrDefault(m => m.To.Mailboxes.Any(a => a.Address == email)), "an e-mail to the agent praised");
        Assert.Equal("Praise for Kai Wu", mail.Subject);
        Assert.Contains("Kai was brilliant and found my lost order, thank you!", mail.TextBody);
        Assert.Contains($"https://cx.example.test/units?unit={agent}", mail.TextBody);
        Assert.DoesNotContain("cust-kai-fan", mail.TextBody);
        await Seen(() => fixture.Chat.Requests.FirstOrDefault(r => r.Tool == "slack" && r.Body.Contains("Kai was brilliant", StringComparison.Ordinal)), "a Slack message to the store's team");
        await Task.Delay(500);
        Assert.Single(fixture.Smtp.Messages, m => m.To.Mailboxes.Any(a => a.Address == email));
        Assert.DoesNotContain(fixture.Chat.Requests, r => r.Body.Contains("rude", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_alert_becomes_an_action_and_one_email_and_one_WeCom_message_whatever_the_redeliveries()
    {
        var (owner, team, journey) = await OwnedJourneyAsync();
        var mine = As(Roles.JourneyOwner, owner);
        var email = $"{owner}@example.test";
        await mine.SaveChannelAsync(new SaveChannelRequest { Channel = new Channel { Kind = ChannelKind.Email, Address = email } });
        var wecomUrl = fixture.Chat.Url("wecom") + "?key=" + team;
        await As(Roles.Admin, "mei.chen").SaveChannelAsync(new SaveChannelRequest
        {
            Channel = new Channel { OwnerKind = OwnerKind.Team, OwnerId = team, Kind = ChannelKind.Wecom, Address = wecomUrl },
        });

        var words = $"The courier left my parcel in the rain ({journey})";
        Assert.NotEqual(DeliveryOutcome.DeadLettered, await DeliverAsync("governance", Topics.AlertRaised, Guid.NewGuid().ToString(), Detractor(journey, words)));

        var mail = await Seen(() => fixture.Smtp.Messages.FirstOrDefault(m => m.To.Mailboxes.Any(a => a.Address == email)), "an e-mail to the action's owner");
        var chat = await Seen(() => fixture.Chat.Requests.FirstOrDefault(r => r.Tool == "wecom" && r.Body.Contains(journey, StringComparison.Ordinal)), "a WeCom message to the team");
        Assert.StartsWith("New action:", mail.Subject);
        Assert.Contains(words, mail.TextBody);
        Assert.Contains("https://cx.example.test/actions?open=", mail.TextBody);
        Assert.Contains("/notifications/unsubscribe?token=", mail.HtmlBody);
        Assert.Contains("One-Click", mail.Headers["List-Unsubscribe-Post"]);
        Assert.Contains("\"msgtype\":\"markdown\"", chat.Body);
        // No raw personal data: the customer id never leaves.
        var action = (await Governance.ListActionsAsync(new ListActionsRequest { JourneyKey = journey })).Actions.Single();
        Assert.DoesNotContain("cust-", mail.TextBody + mail.HtmlBody + chat.Body);
        Assert.Contains(action.Id, chat.Body);

        // The same action.created delivered again (a broker redelivers): nothing is sent twice.
        var database = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("notifications");
        await using (var connection = await database.OpenConnectionAsync())
        {
            var eventId = await connection.ExecuteScalarAsync<string>(
                "select d.event_id from deliveries d join channels c using (channel_id) where c.owner_id = @owner and d.topic = 'action.created'", new { owner });
            var again = new ActionCreated { ActionId = action.Id, OwnerId = owner, TeamId = team, JourneyKey = journey, Title = action.Title, Source = "alert" };
            Assert.Equal(DeliveryOutcome.Duplicate, await DeliverAsync("notifications", Topics.ActionCreated, eventId!, again));
            // Once out, the words are not kept: the log holds the subject and the outcome.
            Assert.Equal("", await connection.ExecuteScalarAsync<string>("select body from deliveries where event_id = @eventId and state = 'sent' limit 1", new { eventId }));
        }
        await Task.Delay(1000);
        Assert.Single(fixture.Smtp.Messages, m => m.To.Mailboxes.Any(a => a.Address == email));
        Assert.Single(fixture.Chat.Requests, r => r.Tool == "wecom" && r.Body.Contains(journey, StringComparison.Ordinal));

        var log = (await mine.ListNotificationDeliveriesAsync(new ListNotificationDeliveriesRequest())).Deliveries;
        Assert.Equal(("sent", 1, "action.created"), (log.Single().State, log.Single().Attempts, log.Single().Topic));
    }

    [Theory]
    [InlineData(ChannelKind.Slack, "slack", "\"text\":")]
    [InlineData(ChannelKind.Teams, "teams", "application/vnd.microsoft.card.adaptive")]
    [InlineData(ChannelKind.Dingtalk, "dingtalk", "\"msgtype\":\"markdown\"")]
    [InlineData(ChannelKind.Wecom, "wecom", "\"msgtype\":\"markdown\"")]
    public async Task Each_chat_tool_gets_its_own_format_and_a_refusal_is_retried_with_backoff(ChannelKind kind, string tool, string shape)
    {
        var me = Unique("analyst");
        var client = As(Roles.Analyst, me);
        var marker = Guid.NewGuid().ToString("N");
        var channel = (await client.SaveChannelAsync(new SaveChannelRequest { Channel = new Channel { Kind = kind, Address = fixture.Chat.Url(tool) + "?m=" + marker } })).Channel;
        fixture.Chat.FailNext(tool is "wecom" or "dingtalk" ? "errcode" : "500", 2);
        var test = (await client.SendTestNotificationAsync(new SendTestNotificationRequest { ChannelId = channel.ChannelId })).Delivery;
        var sent = await Until(async () => (await client.ListNotificationDeliveriesAsync(new ListNotificationDeliveriesRequest { ChannelId = channel.ChannelId })).Deliveries
            .SingleOrDefault(d => d.DeliveryId == test.DeliveryId && d.State == "sent"), "the test message goes through after two refusals");
        Assert.Equal(3, sent.Attempts);
        var last = fixture.Chat.Requests.Last(r => r.Tool == tool && r.Body.Contains("CxMesh test notification", StringComparison.Ordinal));
        Assert.Contains(shape, last.Body);
    }

    [Fact]
    public async Task A_digest_channel_gathers_messages_and_quiet_hours_hold_immediate_ones()
    {
        var (owner, _, journey) = await OwnedJourneyAsync();
        var client = As(Roles.JourneyOwner, owner);
        var nowUtc = DateTime.UtcNow;
        // Quiet now (an hour either side), in Shanghai time.
        var shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
        var local = TimeZoneInfo.ConvertTimeFromUtc(nowUtc, shanghai);
        var quiet = await client.SaveChannelAsync(new SaveChannelRequest
        {
            Channel = new Channel
            {
                Kind = ChannelKind.Slack,
                Address = fixture.Chat.Url("slack") + "?quiet=" + owner,
                QuietStart = local.AddHours(-1).ToString("HH:mm"),
                QuietEnd = local.AddHours(1).ToString("HH:mm"),
                TimeZone = "Asia/Shanghai",
            },
        });
        var digest = await client.SaveChannelAsync(new SaveChannelRequest
        {
            Channel = new Channel { Kind = ChannelKind.Email, Address = $"{owner}@digest.test", Mode = DeliveryMode.DailyDigest, DigestHour = (nowUtc.Hour + 2) % 24 },
        });
        for (var i = 0; i < 2; i++) await DeliverAsync("governance", Topics.AlertRaised, Guid.NewGuid().ToString(), Detractor(journey, $"Late again {i}"));

        var log = await Until(async () =>
        {
            var all = (await client.ListNotificationDeliveriesAsync(new ListNotificationDeliveriesRequest())).Deliveries.ToList();
            return all.Count == 4 ? all : null;
        }, "two messages for each channel");
        var held = log.Where(d => d.ChannelId == quiet.Channel.ChannelId).ToList();
        Assert.All(held, d => Assert.Equal("pending", d.State));
        Assert.All(held, d => Assert.InRange(d.NextAttemptAt.ToDateTime(), nowUtc.AddMinutes(50), nowUtc.AddMinutes(61)));
        var gathered = log.Where(d => d.ChannelId == digest.Channel.ChannelId).ToList();
        Assert.All(gathered, d => Assert.Equal("digest", d.State));
        Assert.All(gathered, d => Assert.Equal((nowUtc.Hour + 2) % 24, d.NextAttemptAt.ToDateTime().Hour));

        // When the digest hour comes, one message carries both.
        var database = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("notifications");
        await using (var connection = await database.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("update deliveries set next_attempt_at = now() where channel_id = @id and state = 'digest'", new { id = Guid.Parse(digest.Channel.ChannelId) });
        }
        var mail = await Seen(() => fixture.Smtp.Messages.FirstOrDefault(m => m.To.Mailboxes.Any(a => a.Address == $"{owner}@digest.test")), "the digest");
        Assert.Equal("CxMesh daily digest: 2 updates", mail.Subject);
        Assert.Equal(2, mail.TextBody!.Split("New action:").Length - 1);
        Assert.DoesNotContain(fixture.Chat.Requests, r => r.Body.Contains(journey, StringComparison.Ordinal) && r.Tool == "slack");
    }

    [Fact]
    public async Task The_unsubscribe_link_asks_first_then_switches_the_channel_off_and_nothing_more_is_sent()
    {
        var (owner, _, journey) = await OwnedJourneyAsync();
        var client = As(Roles.JourneyOwner, owner);
        var address = $"{owner}@unsub.test";
        var channel = (await client.SaveChannelAsync(new SaveChannelRequest { Channel = new Channel { Kind = ChannelKind.Email, Address = address } })).Channel;
        await client.SendTestNotificationAsync(new SendTestNotificationRequest { ChannelId = channel.ChannelId });
        var mail = await Seen(() => fixture.Smtp.Messages.FirstOrDefault(m => m.To.Mailboxes.Any(a => a.Address == address)), "the test e-mail");
        var link = System.Text.RegularExpressions.Regex.Match(mail.TextBody!, @"https?://\S+/notifications/unsubscribe\?token=\S+").Value;
        var path = new Uri(link).PathAndQuery;

        var http = fixture.Host.Http();
        var confirm = await http.GetAsync(path);
        Assert.Contains("<form method=post", await confirm.Content.ReadAsStringAsync());
        Assert.True((await client.ListChannelsAsync(new ListChannelsRequest())).Channels.Single().Enabled, "opening the link changes nothing");
        var done = await http.PostAsync(path, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        Assert.True(done.IsSuccessStatusCode);
        Assert.False((await client.ListChannelsAsync(new ListChannelsRequest())).Channels.Single().Enabled);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.PostAsync("/notifications/unsubscribe?token=nope", null)).StatusCode);

        await DeliverAsync("governance", Topics.AlertRaised, Guid.NewGuid().ToString(), Detractor(journey, "After unsubscribing"));
        await Task.Delay(1000);
        Assert.Single(fixture.Smtp.Messages, m => m.To.Mailboxes.Any(a => a.Address == address));
    }

    [Fact]
    public async Task Bad_channels_are_refused_field_by_field_and_people_set_only_their_own()
    {
        var client = As(Roles.Analyst, Unique("analyst"));
        var bad = await Assert.ThrowsAsync<RpcException>(() => client.SaveChannelAsync(new SaveChannelRequest
        {
            Channel = new Channel { Kind = ChannelKind.Email, Address = "not an address", DigestHour = 24, QuietStart = "25:00", TimeZone = "Mars/Olympus", Topics = { (NotificationTopic)99 } },
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Equal(["channel.address", "channel.digest_hour", "channel.quiet_end", "channel.quiet_start", "channel.time_zone", "channel.topics"],
            RpcErrors.Fields(bad).Distinct().Order(StringComparer.Ordinal));
        var internalHook = await Assert.ThrowsAsync<RpcException>(() => client.SaveChannelAsync(new SaveChannelRequest
        {
            Channel = new Channel { Kind = ChannelKind.Slack, Address = "https://169.254.169.254/hooks" },
        }).ResponseAsync);
        Assert.Equal(["channel.address"], RpcErrors.Fields(internalHook));
        var someoneElse = await Assert.ThrowsAsync<RpcException>(() => client.SaveChannelAsync(new SaveChannelRequest
        {
            Channel = new Channel { OwnerKind = OwnerKind.Team, OwnerId = "cx", Kind = ChannelKind.Email, Address = "team@example.test" },
        }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, someoneElse.StatusCode);

        var admin = As(Roles.Admin, "mei.chen");
        var theirs = (await admin.SaveChannelAsync(new SaveChannelRequest { Channel = new Channel { Kind = ChannelKind.Email, Address = "mei@example.test" } })).Channel;
        var notFound = await Assert.ThrowsAsync<RpcException>(() => client.RemoveChannelAsync(new RemoveChannelRequest { ChannelId = theirs.ChannelId }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
        Assert.DoesNotContain((await client.ListChannelsAsync(new ListChannelsRequest())).Channels, c => c.ChannelId == theirs.ChannelId);
    }
}
