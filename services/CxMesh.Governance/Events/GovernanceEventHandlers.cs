using CxMesh.Events.V1;
using CxMesh.Governance.Data;
using CxMesh.Governance.UseCases;
using CxMesh.Platform.Messaging;

namespace CxMesh.Governance.Events;

/// <summary>Every alert becomes one action (<see cref="RaiseAction.FromAlertAsync"/>).</summary>
public sealed class AlertRaisedHandler(RaiseAction raise) : IEventHandler<AlertRaised>
{
    public Task HandleAsync(AlertRaised evt, EventContext context, CancellationToken ct) => raise.FromAlertAsync(context, evt, ct);
}

/// <summary>A partner's commitment or dispute becomes an action (<see cref="RaiseAction.FromPartnerResponseAsync"/>).</summary>
public sealed class PartnerResponseReceivedHandler(RaiseAction raise) : IEventHandler<PartnerResponseReceived>
{
    public Task HandleAsync(PartnerResponseReceived evt, EventContext context, CancellationToken ct) => raise.FromPartnerResponseAsync(context, evt, ct);
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
        await CaseStudyStore.ReplaceRedactedAsync(context, feedbackId, evt.RedactedVerbatim, ct);
    }
}
