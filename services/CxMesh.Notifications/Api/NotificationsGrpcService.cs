using System.Globalization;
using System.Net.Mail;
using System.Security.Cryptography;
using CxMesh.Notifications.Data;
using CxMesh.Notifications.Domain;
using CxMesh.Notifications.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Security;
using CxMesh.Platform.Validation;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using static CxMesh.Platform.Validation.Identifiers;

namespace CxMesh.Notifications.Api;

public sealed class NotificationsGrpcService(ChannelStore channels, DeliveryStore deliveries, TimeProvider clock, IOptions<NotificationsOptions> options)
    : NotificationService.NotificationServiceBase
{
    private const string People = $"{Roles.Admin},{Roles.Analyst},{Roles.JourneyOwner}";

    private static string Caller(ServerCallContext context) => context.GetHttpContext().User.FindFirst("sub")?.Value ?? "";

    private static bool IsAdmin(ServerCallContext context) => context.GetHttpContext().User.IsInRole(Roles.Admin);

    [Authorize(Roles = People)]
    public override async Task<SaveChannelResponse> SaveChannel(SaveChannelRequest request, ServerCallContext context)
    {
        var admin = IsAdmin(context);
        var caller = Caller(context);
        var c = await UpdateMasks.ApplyAsync(request.UpdateMask, request.Channel, "channel", async named =>
        {
            var id = Guid.TryParse(named.ChannelId, out var parsed) ? parsed
                : throw new FieldViolationException("channel.channel_id", "channel.channel_id must name the channel to update (a UUID).");
            var stored = await channels.GetAsync(id, context.CancellationToken);
            // Someone else's channel is not found for a person who is not an admin, as with a whole update.
            if (stored is null || !admin && (stored.OwnerKind != "person" || stored.OwnerId != caller)) throw new NotFoundException("channel", named.ChannelId);
            return ToProto(stored);
        }, "channel_id") ?? throw new FieldViolationException("channel", "channel is required.");
        var check = new Violations();
        var channelId = check.OptionalId(c.ChannelId, "channel.channel_id");
        var ownerKind = c.OwnerKind switch { OwnerKind.Person or OwnerKind.Unspecified => "person", OwnerKind.Team => "team", _ => null };
        if (ownerKind is null) check.Add("channel.owner_kind", "channel.owner_kind must be person or team.");
        var ownerId = c.OwnerId.Length == 0 && ownerKind == "person" ? caller : c.OwnerId;
        if (!Identifiers.IsToken(ownerId)) check.Add("channel.owner_id", "channel.owner_id must be a member or team id: 1-128 characters of letters, digits and . _ : -");
        var kind = KindName(c.Kind);
        if (kind is null) check.Add("channel.kind", "channel.kind must be email, slack, teams, wecom or dingtalk.");
        else if (kind == "email")
        {
            if (c.Address.Length is 0 or > 254 || !MailAddress.TryCreate(c.Address.Trim(), out var parsed) || parsed.Address != c.Address.Trim())
            {
                check.Add("channel.address", "channel.address must be an e-mail address for an e-mail channel.");
            }
        }
        else if (await OutboundWebhooks.ProblemAsync(c.Address.Trim(), "channel.address", options.Value.WebhookAllowList, context.CancellationToken) is { } problem)
        {
            check.Add("channel.address", problem);
        }
        var topics = new List<string>();
        foreach (var t in c.Topics)
        {
            if (TopicName(t) is { } name) topics.Add(name);
            else check.Add("channel.topics", "channel.topics may hold action-created, action-overdue, action-escalated, partner-response, report-published and praise only.");
        }
        if (!System.Enum.IsDefined(c.Mode)) check.Add("channel.mode", "channel.mode must be immediate or daily digest.");
        if (c.DigestHour is < 0 or > 23) check.Add("channel.digest_hour", "channel.digest_hour must be 0-23.");
        var quietStart = Clock(c.QuietStart);
        var quietEnd = Clock(c.QuietEnd);
        if (c.QuietStart.Length > 0 && quietStart is null) check.Add("channel.quiet_start", "channel.quiet_start must be a time, HH:mm.");
        if (c.QuietEnd.Length > 0 && quietEnd is null) check.Add("channel.quiet_end", "channel.quiet_end must be a time, HH:mm.");
        if ((c.QuietStart.Length > 0) != (c.QuietEnd.Length > 0)) check.Add("channel.quiet_end", "quiet hours need both channel.quiet_start and channel.quiet_end.");
        if (c.TimeZone.Length > 0 && (c.TimeZone.Length > 64 || !TimeZoneInfo.TryFindSystemTimeZoneById(c.TimeZone, out _))) check.Add("channel.time_zone", "channel.time_zone must be an IANA time zone, e.g. Asia/Shanghai.");
        check.ThrowIfAny();
        // People set their own channels; a team's, or someone else's, is an admin's to set.
        if (!admin && (ownerKind != "person" || ownerId != caller))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "Only admins set up channels for a team or for someone else; set your own (owner_id empty)."));
        }
        var saved = await channels.SaveAsync(new ChannelRow
        {
            ChannelId = channelId ?? Guid.CreateVersion7(),
            OwnerKind = ownerKind!,
            OwnerId = ownerId,
            Kind = kind!,
            Address = c.Address.Trim(),
            Topics = [.. topics.Distinct()],
            Mode = c.Mode == DeliveryMode.DailyDigest ? "digest" : "immediate",
            DigestHour = c.DigestHour,
            QuietStart = quietStart,
            QuietEnd = quietEnd,
            TimeZone = c.TimeZone.Length > 0 ? c.TimeZone : "UTC",
            UnsubscribeToken = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_'),
            CreatedBy = caller,
        }, admin, context.CancellationToken) ?? throw new NotFoundException("channel", c.ChannelId);
        return new SaveChannelResponse { Channel = ToProto(saved) };
    }

    [Authorize(Roles = People)]
    public override async Task<ListChannelsResponse> ListChannels(ListChannelsRequest request, ServerCallContext context)
    {
        var admin = IsAdmin(context);
        if (!admin && (request.OwnerKind != OwnerKind.Unspecified || request.OwnerId.Length > 0))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "Only admins list other people's or teams' channels."));
        }
        if (!System.Enum.IsDefined(request.OwnerKind)) throw new FieldViolationException("owner_kind", "owner_kind must be person or team.");
        if (request.OwnerId.Length > 0 && !Identifiers.IsToken(request.OwnerId)) throw new FieldViolationException("owner_id", "owner_id must be a member or team id.");
        var page = Violations.FailFast.Page(request.PageSize, request.PageToken, 1000, 1000);
        var rows = admin
            ? await channels.ListAsync(request.OwnerKind switch { OwnerKind.Person => "person", OwnerKind.Team => "team", _ => null }, NullIfEmpty(request.OwnerId), context.CancellationToken)
            : await channels.ListAsync("person", Caller(context), context.CancellationToken);
        return new ListChannelsResponse { Channels = { Pages.Slice(rows.Select(ToProto), c => c.ChannelId, page, out var next, descending: true) }, NextPageToken = next };
    }

    [Authorize(Roles = People)]
    public override async Task<RemoveChannelResponse> RemoveChannel(RemoveChannelRequest request, ServerCallContext context)
    {
        var channel = await OwnChannelAsync(request.ChannelId, context);
        await channels.RemoveAsync(channel.ChannelId, context.CancellationToken);
        return new RemoveChannelResponse();
    }

    [Authorize(Roles = People)]
    public override async Task<SendTestNotificationResponse> SendTestNotification(SendTestNotificationRequest request, ServerCallContext context)
    {
        var channel = await OwnChannelAsync(request.ChannelId, context);
        var now = clock.GetUtcNow().UtcDateTime;
        var row = await deliveries.EnqueueTestAsync(new DeliveryRow
        {
            DeliveryId = Guid.CreateVersion7(),
            ChannelId = channel.ChannelId,
            EventId = $"test:{Guid.CreateVersion7()}",
            Topic = NotificationTopics.Test,
            Subject = "CxMesh test notification",
            Body = $"This {channel.Kind} channel reaches you. Sent at {now.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC by {Caller(context)}.",
            Link = options.Value.ConsoleBase.Length > 0 ? options.Value.ConsoleBase + "/" : null,
            State = "pending",
            NextAttemptAt = now,
        }, context.CancellationToken);
        return new SendTestNotificationResponse { Delivery = ToProto(row) };
    }

    [Authorize(Roles = People)]
    public override async Task<ListNotificationDeliveriesResponse> ListNotificationDeliveries(ListNotificationDeliveriesRequest request, ServerCallContext context)
    {
        var check = new Violations();
        var page = check.Page(request.PageSize, request.PageToken, 200, 50);
        var before = check.TimeAndGuid(page);
        check.ThrowIfAny();
        Guid[]? scope;
        if (request.ChannelId.Length > 0) scope = [(await OwnChannelAsync(request.ChannelId, context)).ChannelId];
        else if (IsAdmin(context)) scope = null;
        else scope = [.. (await channels.ListAsync("person", Caller(context), context.CancellationToken)).Select(c => c.ChannelId)];
        var rows = Pages.Trim((await deliveries.ListAsync(scope, before, page.Size + 1, context.CancellationToken)).ToList(), page,
            d => Pages.TimeKey(d.CreatedAt, d.DeliveryId.ToString()), out var next);
        return new ListNotificationDeliveriesResponse { Deliveries = { rows.Select(ToProto) }, NextPageToken = next };
    }

    /// <summary>A channel the caller may act on: their own, or any for an admin; another's is not found.</summary>
    private async Task<ChannelRow> OwnChannelAsync(string channelId, ServerCallContext context)
    {
        var check = Violations.FailFast;
        var id = check.Id(channelId, "channel_id");
        var channel = await channels.GetAsync(id, context.CancellationToken);
        return channel is not null && (IsAdmin(context) || channel.OwnerKind == "person" && channel.OwnerId == Caller(context))
            ? channel
            : throw new NotFoundException("channel", channelId);
    }

    private static string? Clock(string hhmm) => TimeOnly.TryParseExact(hhmm, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t.ToString("HH:mm", CultureInfo.InvariantCulture) : null;

    private static string? KindName(ChannelKind kind) => kind switch
    {
        ChannelKind.Email => "email",
        ChannelKind.Slack => "slack",
        ChannelKind.Teams => "teams",
        ChannelKind.Wecom => "wecom",
        ChannelKind.Dingtalk => "dingtalk",
        _ => null,
    };

    private static ChannelKind KindOf(string name) => name switch
    {
        "email" => ChannelKind.Email,
        "slack" => ChannelKind.Slack,
        "teams" => ChannelKind.Teams,
        "wecom" => ChannelKind.Wecom,
        _ => ChannelKind.Dingtalk,
    };

    private static string? TopicName(NotificationTopic topic) => topic switch
    {
        NotificationTopic.ActionCreated => NotificationTopics.ActionCreated,
        NotificationTopic.ActionOverdue => NotificationTopics.ActionOverdue,
        NotificationTopic.ActionEscalated => NotificationTopics.ActionEscalated,
        NotificationTopic.PartnerResponse => NotificationTopics.PartnerResponse,
        NotificationTopic.ReportPublished => NotificationTopics.ReportPublished,
        NotificationTopic.Praise => NotificationTopics.Praise,
        _ => null,
    };

    private static Timestamp? At(DateTime? t) => t is { } v ? Timestamp.FromDateTime(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;

    private static Channel ToProto(ChannelRow c)
    {
        var proto = new Channel
        {
            ChannelId = c.ChannelId.ToString(),
            OwnerKind = c.OwnerKind == "team" ? OwnerKind.Team : OwnerKind.Person,
            OwnerId = c.OwnerId,
            Kind = KindOf(c.Kind),
            Address = c.Address,
            Mode = c.Mode == "digest" ? DeliveryMode.DailyDigest : DeliveryMode.Immediate,
            DigestHour = c.DigestHour,
            QuietStart = c.QuietStart ?? "",
            QuietEnd = c.QuietEnd ?? "",
            TimeZone = c.TimeZone,
            Enabled = c.Enabled,
            CreatedAt = At(c.CreatedAt),
            CreatedBy = c.CreatedBy,
        };
        foreach (var t in c.Topics)
        {
            proto.Topics.Add(System.Enum.GetValues<NotificationTopic>().FirstOrDefault(v => TopicName(v) == t));
        }
        return proto;
    }

    private static NotificationDelivery ToProto(DeliveryRow d) => new()
    {
        DeliveryId = d.DeliveryId.ToString(),
        ChannelId = d.ChannelId.ToString(),
        Kind = KindOf(d.Kind),
        Topic = d.Topic,
        Subject = d.Subject,
        State = d.State,
        Attempts = d.Attempts,
        LastError = d.LastError ?? "",
        CreatedAt = At(d.CreatedAt),
        NextAttemptAt = d.State is "pending" or "digest" ? At(d.NextAttemptAt) : null,
        SentAt = At(d.SentAt),
    };
}
