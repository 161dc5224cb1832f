using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Notifications.Data;

public sealed class ChannelRow
{
    public Guid ChannelId { get; set; }
    public string OwnerKind { get; set; } = "";
    public string OwnerId { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Address { get; set; } = "";
    public string[] Topics { get; set; } = [];
    public string Mode { get; set; } = "immediate";
    public int DigestHour { get; set; }
    public string? QuietStart { get; set; }
    public string? QuietEnd { get; set; }
    public string TimeZone { get; set; } = "UTC";
    public bool Enabled { get; set; } = true;
    public string UnsubscribeToken { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
}

/// <summary>The channels people and teams set up, and who hears of what.</summary>
public sealed class ChannelStore([FromKeyedServices(NotificationsModule.Name)] ServiceDatabase database)
{
    private const string Columns =
        "channel_id as channelid, owner_kind as ownerkind, owner_id as ownerid, kind, address, topics, mode, digest_hour as digesthour, " +
        "quiet_start as quietstart, quiet_end as quietend, time_zone as timezone, enabled, unsubscribe_token as unsubscribetoken, created_at as createdat, created_by as createdby";

    /// <summary>Creates the channel, or replaces the one with its id (turned on again); null when that id is someone else's.</summary>
    public async Task<ChannelRow?> SaveAsync(ChannelRow channel, bool anyOwner, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var saved = await write.Connection.QuerySingleOrDefaultAsync<ChannelRow>(new CommandDefinition(
            $"""
            insert into channels (channel_id, owner_kind, owner_id, kind, address, topics, mode, digest_hour, quiet_start, quiet_end, time_zone, enabled,
                unsubscribe_token, created_by)
            values (@ChannelId, @OwnerKind, @OwnerId, @Kind, @Address, @Topics, @Mode, @DigestHour, @QuietStart, @QuietEnd, @TimeZone, true, @UnsubscribeToken, @CreatedBy)
            on conflict (channel_id) do update set owner_kind = excluded.owner_kind, owner_id = excluded.owner_id, kind = excluded.kind,
                address = excluded.address, topics = excluded.topics, mode = excluded.mode, digest_hour = excluded.digest_hour,
                quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, time_zone = excluded.time_zone, enabled = true, updated_at = now()
            where @anyOwner or (channels.owner_kind = 'person' and channels.owner_id = @CreatedBy)
            returning {Columns}
            """, new
            {
                channel.ChannelId,
                channel.OwnerKind,
                channel.OwnerId,
                channel.Kind,
                channel.Address,
                channel.Topics,
                channel.Mode,
                channel.DigestHour,
                channel.QuietStart,
                channel.QuietEnd,
                channel.TimeZone,
                channel.UnsubscribeToken,
                channel.CreatedBy,
                anyOwner,
            }, write.Transaction, cancellationToken: ct));
        await write.CommitAsync(ct);
        return saved;
    }

    public async Task<ChannelRow?> GetAsync(Guid channelId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<ChannelRow>(new CommandDefinition(
            $"select {Columns} from channels where channel_id = @channelId", new { channelId }, cancellationToken: ct));
    }

    /// <summary>Channels by owner (both null: all), oldest first.</summary>
    public async Task<IReadOnlyList<ChannelRow>> ListAsync(string? ownerKind, string? ownerId, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ChannelRow>(new CommandDefinition(
            $"""
            select {Columns} from channels
            where (@ownerKind::text is null or owner_kind = @ownerKind) and (@ownerId::text is null or owner_id = @ownerId)
            order by created_at, channel_id limit 1000
            """, new { ownerKind, ownerId }, cancellationToken: ct))).ToList();
    }

    public async Task<bool> RemoveAsync(Guid channelId, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var removed = await write.Connection.ExecuteAsync(new CommandDefinition(
            "delete from channels where channel_id = @channelId", new { channelId }, write.Transaction, cancellationToken: ct)) > 0;
        await write.CommitAsync(ct);
        return removed;
    }

    /// <summary>Switches a channel off by its unsubscribe token; the channel, or null for an unknown token.</summary>
    public async Task<ChannelRow?> UnsubscribeAsync(string token, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var row = await write.Connection.QuerySingleOrDefaultAsync<ChannelRow>(new CommandDefinition(
            $"update channels set enabled = false, updated_at = now() where unsubscribe_token = @token returning {Columns}",
            new { token }, write.Transaction, cancellationToken: ct));
        await write.CommitAsync(ct);
        return row;
    }

    /// <summary>
    /// The enabled channels that hear of <paramref name="topic"/> for these owners (person ids, team ids); for a
    /// broadcast topic, every enabled channel that lists it.
    /// </summary>
    public static async Task<IReadOnlyList<ChannelRow>> AudienceAsync(WriteScope write, string topic, bool broadcast, IReadOnlyList<string> people,
        IReadOnlyList<string> teams, CancellationToken ct) =>
        (await write.Connection.QueryAsync<ChannelRow>(new CommandDefinition(
            $"""
            select {Columns} from channels
            where enabled and (
                (@broadcast and @topic = any(topics))
                or (not @broadcast and (cardinality(topics) = 0 or @topic = any(topics))
                    and ((owner_kind = 'person' and owner_id = any(@people)) or (owner_kind = 'team' and owner_id = any(@teams)))))
            """, new { topic, broadcast, people = people.ToArray(), teams = teams.ToArray() }, write.Transaction, cancellationToken: ct))).ToList();
}
