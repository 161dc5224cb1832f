using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Platform.Postgres;
using Dapper;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Scoring.Data;

public sealed record AlertFilter(AlertKind? Kind, string? JourneyId, DateTime? RaisedAfter);

public sealed record AlertCursor(DateTime RaisedAt, Guid Id);

/// <summary>Alerts, stored once per dedupe key (raised by <see cref="UseCases.RaiseAlerts"/>).</summary>
public sealed class AlertStore([FromKeyedServices(ScoringModule.Name)] ServiceDatabase database)
{
    /// <summary>Stores each alert whose dedupe key is new, in one statement; returns the new ones.</summary>
    public static async Task<IReadOnlyList<AlertRaised>> InsertNewAsync(WriteScope write, IReadOnlyList<(string DedupeKey, AlertRaised Alert)> alerts, CancellationToken ct)
    {
        if (alerts.Count == 0) return [];
        var list = alerts.DistinctBy(a => a.DedupeKey).OrderBy(a => a.DedupeKey, StringComparer.Ordinal).ToList();
        string? N(string v) => v.Length == 0 ? null : v;
        var inserted = (await write.Connection.QueryAsync<Guid>(new CommandDefinition(
            """
            insert into alerts (id, dedupe_key, kind, raised_at, feedback_id, customer_id, journey_id, touchpoint_key, channel, redacted_verbatim,
                metric, question_id, rating, scope_key, value, n, previous_value, previous_n, p_value, window_days, audience, broader_scope_keys)
            select id, k, kind, at, f, c, j, t, ch, v, m, q, r, s, val, n, pv, pn, p, w, aud,
                   case when b = '' then '{}'::text[] else string_to_array(b, chr(31)) end
            from unnest(@ids, @keys, @kinds, @raisedAt, @feedbackIds, @customers, @journeys, @touchpoints, @channels, @verbatims,
                @metrics, @questions, @ratings, @scopes, @values, @ns, @previousValues, @previousNs, @pValues, @windowDays, @audiences, @broader)
                as u(id, k, kind, at, f, c, j, t, ch, v, m, q, r, s, val, n, pv, pn, p, w, aud, b)
            on conflict (dedupe_key) do nothing
            returning id
            """,
            new
            {
                ids = list.Select(a => Guid.Parse(a.Alert.AlertId)).ToArray(),
                keys = list.Select(a => a.DedupeKey).ToArray(),
                kinds = list.Select(a => a.Alert.Kind.ToString()).ToArray(),
                raisedAt = list.Select(a => a.Alert.OccurredAt.ToDateTime()).ToArray(),
                feedbackIds = list.Select(a => N(a.Alert.FeedbackId)).ToArray(),
                customers = list.Select(a => N(a.Alert.CustomerId)).ToArray(),
                journeys = list.Select(a => N(a.Alert.Journey)).ToArray(),
                touchpoints = list.Select(a => N(a.Alert.TouchpointKey)).ToArray(),
                channels = list.Select(a => (int)a.Alert.Channel).ToArray(),
                verbatims = list.Select(a => N(a.Alert.RedactedVerbatim)).ToArray(),
                metrics = list.Select(a => a.Alert.Metric == Metric.Unspecified ? null : a.Alert.Metric.ToString()).ToArray(),
                questions = list.Select(a => N(a.Alert.QuestionId)).ToArray(),
                ratings = list.Select(a => a.Alert.Rating).ToArray(),
                scopes = list.Select(a => N(a.Alert.ScopeKey)).ToArray(),
                values = list.Select(a => a.Alert.Value).ToArray(),
                ns = list.Select(a => a.Alert.N).ToArray(),
                previousValues = list.Select(a => a.Alert.PreviousValue).ToArray(),
                previousNs = list.Select(a => a.Alert.PreviousN).ToArray(),
                pValues = list.Select(a => a.Alert.PValue).ToArray(),
                windowDays = list.Select(a => a.Alert.WindowDays).ToArray(),
                audiences = list.Select(a => a.Alert.Audience == "employee" ? "employee" : "customer").ToArray(),
                broader = list.Select(a => string.Join('\u001f', a.Alert.BroaderScopeKeys)).ToArray(),
            }, write.Transaction, cancellationToken: ct))).ToHashSet();
        return list.Where(a => inserted.Contains(Guid.Parse(a.Alert.AlertId))).Select(a => a.Alert).ToList();
    }

    /// <summary>The scopes of score drops raised since <paramref name="since"/>, by metric and question.</summary>
    public static async Task<IReadOnlyList<(Metric Metric, string QuestionId, string ScopeKey)>> DropScopesSinceAsync(WriteScope write, DateTime since, CancellationToken ct) =>
        (await write.Connection.QueryAsync<(string Metric, string? QuestionId, string ScopeKey)>(new CommandDefinition(
            "select metric, question_id, scope_key from alerts where kind = 'ScoreDrop' and raised_at >= @since and scope_key is not null",
            new { since }, write.Transaction, cancellationToken: ct)))
        .Select(r => (System.Enum.Parse<Metric>(r.Metric), r.QuestionId ?? "", r.ScopeKey)).ToList();

    public static Task<int> EraseAsync(WriteScope write, string customerId, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            "update alerts set customer_id = null, redacted_verbatim = null where customer_id = @customerId", new { customerId }, write.Transaction, cancellationToken: ct));

    public static Task<int> ReplaceRedactedAsync(WriteScope write, string feedbackId, string redacted, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            "update alerts set redacted_verbatim = @redacted where feedback_id = @feedbackId and redacted_verbatim is not null",
            new { feedbackId, redacted }, write.Transaction, cancellationToken: ct));

    public async Task<(IReadOnlyList<AlertRaised> Alerts, AlertCursor? Next)> ListAsync(AlertFilter filter, AlertCursor? after, int pageSize, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(
            """
            select id, kind, raised_at as RaisedAt, feedback_id as FeedbackId, customer_id as CustomerId, journey_id as JourneyId,
                   touchpoint_key as TouchpointKey, channel, redacted_verbatim as RedactedVerbatim, metric, question_id as QuestionId,
                   rating, scope_key as ScopeKey, value, n, previous_value as PreviousValue, previous_n as PreviousN, p_value as PValue,
                   window_days as WindowDays, audience, broader_scope_keys as BroaderScopeKeys
            from alerts
            where (@kind::text is null or kind = @kind) and (@journey::text is null or journey_id = @journey)
              and (@raisedAfter::timestamptz is null or raised_at > @raisedAfter)
              and (@afterAt::timestamptz is null or (raised_at, id) < (@afterAt, @afterId))
            order by raised_at desc, id desc
            limit @limit
            """,
            new
            {
                kind = filter.Kind?.ToString(),
                journey = filter.JourneyId,
                raisedAfter = filter.RaisedAfter,
                afterAt = after?.RaisedAt,
                afterId = after?.Id ?? Guid.Empty,
                limit = pageSize + 1,
            }, cancellationToken: ct))).ToList();
        var next = rows.Count > pageSize ? new AlertCursor(rows[pageSize - 1].RaisedAt, rows[pageSize - 1].Id) : null;
        return (rows.Take(pageSize).Select(r => r.ToAlert()).ToList(), next);
    }


    private sealed class Row
    {
        public Guid Id { get; set; }
        public string Kind { get; set; } = "";
        public DateTime RaisedAt { get; set; }
        public string? FeedbackId { get; set; }
        public string? CustomerId { get; set; }
        public string? JourneyId { get; set; }
        public string? TouchpointKey { get; set; }
        public int Channel { get; set; }
        public string? RedactedVerbatim { get; set; }
        public string? Metric { get; set; }
        public string? QuestionId { get; set; }
        public int? Rating { get; set; }
        public string? ScopeKey { get; set; }
        public double? Value { get; set; }
        public long? N { get; set; }
        public double? PreviousValue { get; set; }
        public long? PreviousN { get; set; }
        public double? PValue { get; set; }
        public int? WindowDays { get; set; }
        public string Audience { get; set; } = "customer";
        public string[] BroaderScopeKeys { get; set; } = [];

        public AlertRaised ToAlert() => new()
        {
            AlertId = Id.ToString(),
            Kind = System.Enum.Parse<AlertKind>(Kind),
            OccurredAt = Timestamp.FromDateTime(DateTime.SpecifyKind(RaisedAt, DateTimeKind.Utc)),
            FeedbackId = FeedbackId ?? "",
            CustomerId = CustomerId ?? "",
            Journey = JourneyId ?? "",
            TouchpointKey = TouchpointKey ?? "",
            Channel = (Channel)Channel,
            RedactedVerbatim = RedactedVerbatim ?? "",
            Metric = Metric is null ? CxMesh.Common.V1.Metric.Unspecified : System.Enum.Parse<Metric>(Metric),
            QuestionId = QuestionId ?? "",
            Rating = Rating ?? 0,
            ScopeKey = ScopeKey ?? "",
            Value = Value ?? 0,
            N = N ?? 0,
            PreviousValue = PreviousValue ?? 0,
            PreviousN = PreviousN ?? 0,
            PValue = PValue ?? 0,
            WindowDays = WindowDays ?? 0,
            Audience = Audience,
            BroaderScopeKeys = { BroaderScopeKeys },
        };
    }
}
