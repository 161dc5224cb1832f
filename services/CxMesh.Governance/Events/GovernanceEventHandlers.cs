using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Governance.Data;
using CxMesh.Governance.Domain;
using CxMesh.Platform.Api;
using CxMesh.Platform.Messaging;
using Microsoft.Extensions.Options;

namespace CxMesh.Governance.Events;

/// <summary>
/// Every alert becomes one action (idempotent per alert id): owned by the touchpoint's owner, else the journey's owner,
/// else the CX team, due after the SLA of the feedback's channel (score drops: Governance:ScoreDropSla).
/// </summary>
public sealed class AlertRaisedHandler(IOptions<GovernanceOptions> options) : IEventHandler<AlertRaised>
{
    public async Task HandleAsync(AlertRaised evt, EventContext context, CancellationToken ct)
    {
        if (evt.AlertId.Length == 0) throw new InvalidEventException("alert_id is missing.");
        var drop = evt.Kind == AlertKind.ScoreDrop;
        var journey = NullIfEmpty(drop ? ScopeKeys.Value(evt.ScopeKey, "journey") ?? "" : evt.JourneyId);
        var touchpoint = NullIfEmpty(drop ? ScopeKeys.Value(evt.ScopeKey, "touchpoint") ?? "" : evt.TouchpointKey);
        var (owner, team) = await ActionStore.ResolveOwnerAsync(context, journey, touchpoint, options.Value.CxTeam, ct);
        var raisedAt = evt.OccurredAt?.ToDateTime() ?? DateTime.UtcNow;
        var channel = ChannelNames.Name(evt.Channel);
        await ActionStore.InsertAsync(context, new ActionRow
        {
            Id = Guid.CreateVersion7(),
            Source = "alert",
            Title = Title(evt),
            Detail = NullIfEmpty(evt.RedactedVerbatim),
            OwnerId = owner,
            TeamId = team,
            JourneyKey = journey,
            TouchpointKey = touchpoint,
            Channel = (int)evt.Channel,
            CreatedAt = raisedAt,
            DueAt = raisedAt + (drop ? options.Value.ScoreDropSla : options.Value.SlaFor(channel)),
            AlertId = evt.AlertId,
            FeedbackId = Guid.TryParse(evt.FeedbackId, out var feedbackId) ? feedbackId : null,
            CustomerId = NullIfEmpty(evt.CustomerId),
        }, ActionStore.System, ct);
    }

    private static string Title(AlertRaised evt) => evt.Kind switch
    {
        AlertKind.Detractor => $"Call back a detractor ({MetricName(evt.Metric)} {evt.Rating}) via {ChannelNames.Name(evt.Channel) ?? "an unknown channel"}",
        AlertKind.NegativeComplaint => "Answer a strongly negative complaint",
        AlertKind.ScoreDrop => $"Find why {MetricName(evt.Metric)} fell to {evt.Value:0.#} (from {evt.PreviousValue:0.#}) for {evt.ScopeKey} over {evt.WindowDays} days",
        _ => "Look into an alert",
    };

    private static string MetricName(Metric metric) => metric == Metric.Unspecified ? "score" : metric.ToString().ToUpperInvariant();

    internal static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}

/// <summary>
/// A partner's commitment becomes an action owned by the partner's internal contact (else the CX team), due at the end
/// of the day the partner committed to; later updates of the same commitment are recorded on that action.
/// </summary>
public sealed class PartnerResponseReceivedHandler(IOptions<GovernanceOptions> options, TimeProvider clock) : IEventHandler<PartnerResponseReceived>
{
    public async Task HandleAsync(PartnerResponseReceived evt, EventContext context, CancellationToken ct)
    {
        if (evt.ResponseId.Length == 0 || evt.PartnerId.Length == 0) throw new InvalidEventException("response_id and partner_id are required.");
        var at = evt.OccurredAt?.ToDateTime() ?? DateTime.UtcNow;
        if (evt.Kind == "acknowledgement")
        {
            // Nothing to do but to know: kept in the audit trail beside the disclosure it acknowledges.
            await AuditLog.AppendAsync(context, AuditLog.PartnerAcknowledged, $"report/{evt.ReportId}", $"partner/{evt.PartnerId}",
                new { responseId = evt.ResponseId, text = evt.Text }, clock.GetUtcNow().UtcDateTime, ct);
            return;
        }
        if (evt.Kind is not ("commitment" or "dispute")) throw new InvalidEventException($"kind '{evt.Kind}' is not a partner response kind.");
        var existing = await Dapper.SqlMapper.ExecuteScalarAsync<Guid?>(context.Connection, new Dapper.CommandDefinition(
            "select id from actions where response_id = @ResponseId", new { evt.ResponseId }, context.Transaction, cancellationToken: ct));
        if (existing is { } actionId)
        {
            await ActionStore.AddCommentAsync(context, actionId, ActionStore.System,
                $"Partner {evt.PartnerId} update: {evt.Status}{(evt.Text.Length > 0 ? " — " + evt.Text : "")}", at, ct);
            return;
        }
        var contact = await Dapper.SqlMapper.QuerySingleOrDefaultAsync<(string? MemberId, string? TeamId)>(context.Connection, new Dapper.CommandDefinition(
            "select m.id, m.team_id from partner_contacts c join members m on m.id = c.member_id where c.partner_id = @PartnerId",
            new { evt.PartnerId }, context.Transaction, cancellationToken: ct));
        var team = contact.TeamId ?? options.Value.CxTeam;
        if (contact.MemberId is null) await ActionStore.EnsureTeamAsync(context, team, ct);
        var dispute = evt.Kind == "dispute";
        var due = !dispute && DateOnly.TryParseExact(evt.DueDate, "yyyy-MM-dd", out var date)
            ? date.ToDateTime(new TimeOnly(23, 59, 59), DateTimeKind.Utc)
            : at + options.Value.DefaultSla;
        await ActionStore.InsertAsync(context, new ActionRow
        {
            Id = Guid.CreateVersion7(),
            Source = dispute ? PartnerDisputes.Source : "partner-commitment",
            Title = dispute
                ? $"Partner {evt.PartnerId} disputes feedback item {evt.FeedbackId}"
                : $"Partner {evt.PartnerId} commitment{(evt.Owner.Length > 0 ? $" (their owner: {evt.Owner})" : "")}",
            Detail = dispute ? PartnerDisputes.Detail(evt.Text, evt.DisputedVerbatim) : AlertRaisedHandler.NullIfEmpty(evt.Text),
            OwnerId = contact.MemberId,
            TeamId = team,
            CreatedAt = at,
            DueAt = due,
            ResponseId = evt.ResponseId,
            FeedbackId = Guid.TryParse(evt.FeedbackId, out var feedbackId) ? feedbackId : null,
            PartnerId = evt.PartnerId,
        }, ActionStore.System, ct);
    }
}

/// <summary>A partner was suspended or reactivated: kept in the audit trail with who did it and why.</summary>
public sealed class PartnerStatusChangedHandler(TimeProvider clock) : IEventHandler<PartnerStatusChanged>
{
    public async Task HandleAsync(PartnerStatusChanged evt, EventContext context, CancellationToken ct)
    {
        if (evt.PartnerId.Length == 0 || evt.Status.Length == 0) throw new InvalidEventException("partner_id and status are required.");
        await AuditLog.AppendAsync(context, AuditLog.PartnerStatusChanged, $"partner/{evt.PartnerId}",
            evt.ChangedBy.Length > 0 ? evt.ChangedBy : "partner-service", new { status = evt.Status, reason = evt.Reason }, clock.GetUtcNow().UtcDateTime, ct);
    }
}

/// <summary>A sharing agreement version waits for an admin's decision.</summary>
public sealed class PartnerAgreementSubmittedHandler : IEventHandler<PartnerAgreementSubmitted>
{
    public Task HandleAsync(PartnerAgreementSubmitted evt, EventContext context, CancellationToken ct)
    {
        if (!Guid.TryParse(evt.AgreementId, out var agreementId) || evt.Version < 1 || evt.PartnerId.Length == 0)
        {
            throw new InvalidEventException("agreement_id, version and partner_id are required.");
        }
        return SharingStore.SubmitAsync(context, new SharingApprovalRow
        {
            AgreementId = agreementId,
            Version = evt.Version,
            PartnerId = evt.PartnerId,
            PartnerName = evt.PartnerName,
            Fields = evt.Fields.ToArray(),
            Scope = evt.Scope.ToArray(),
            MinGroupSize = evt.MinGroupSize,
            Cadence = evt.Cadence,
            RetentionDays = evt.RetentionDays,
            ExpiresOn = evt.ExpiresOn,
            SubmittedBy = evt.SubmittedBy,
            SubmittedAt = evt.OccurredAt?.ToDateTime() ?? DateTime.UtcNow,
        }, ct);
    }
}

/// <summary>Every disclosure to a partner is audited: what, to whom, under which agreement version, with the content hash.</summary>
public sealed class PartnerReportPublishedHandler(TimeProvider clock) : IEventHandler<PartnerReportPublished>
{
    public Task HandleAsync(PartnerReportPublished evt, EventContext context, CancellationToken ct) =>
        AuditLog.AppendAsync(context, AuditLog.ReportDisclosed, $"report/{evt.ReportId}", "partner-service", new
        {
            partnerId = evt.PartnerId,
            agreementId = evt.AgreementId,
            agreementVersion = evt.AgreementVersion,
            period = $"{evt.StartDate}..{evt.EndDate}",
            items = evt.Items,
            fields = evt.Fields,
            contentHash = evt.ContentHash,
            publishedAt = evt.OccurredAt?.ToDateTime(),
        }, clock.GetUtcNow().UtcDateTime, ct);
}

/// <summary>A customer's erasure reaches governance: their id and words leave actions and case studies, and it is audited.</summary>
public sealed class FeedbackErasedHandler(TimeProvider clock) : IEventHandler<FeedbackErased>
{
    public async Task HandleAsync(FeedbackErased evt, EventContext context, CancellationToken ct)
    {
        if (evt.CustomerId.Length == 0) throw new InvalidEventException("customer_id is missing.");
        var actions = await ActionStore.EraseCustomerAsync(context, evt.CustomerId, ct);
        var caseStudies = await CaseStudyStore.EraseCustomerAsync(context, evt.CustomerId, ct);
        // The entry names the erasure, not the customer: the audit log must not keep what was erased.
        await AuditLog.AppendAsync(context, AuditLog.CustomerErased, $"erasure/{evt.EventId}", "feedback-service",
            new { actions, caseStudies, erasedAt = evt.OccurredAt?.ToDateTime() }, clock.GetUtcNow().UtcDateTime, ct);
        var messages = await Erasures.ForgetMessagesAsync(context, evt.CustomerId, ct);
        await Erasures.ReportAsync(context, evt, GovernanceModule.Name,
            new Dictionary<string, long> { ["actions"] = actions, ["case_studies"] = caseStudies, ["messages"] = messages }, clock.GetUtcNow(), ct);
    }
}

/// <summary>An item's redacted words changed (its customer's name became known): case studies quoting it follow.</summary>
public sealed class FeedbackRedactedHandler : IEventHandler<FeedbackRedacted>
{
    public async Task HandleAsync(FeedbackRedacted evt, EventContext context, CancellationToken ct)
    {
        if (!Guid.TryParse(evt.FeedbackId, out var feedbackId)) throw new InvalidEventException("feedback_id is missing or not a UUID.");
        await Dapper.SqlMapper.ExecuteAsync(context.Connection, new Dapper.CommandDefinition(
            "update case_studies set redacted_verbatim = @redacted where feedback_id = @feedbackId and redacted_verbatim is not null",
            new { feedbackId, redacted = evt.RedactedVerbatim }, context.Transaction, cancellationToken: ct));
    }
}
