using CxMesh.Events.V1;

namespace CxMesh.Platform.Messaging;

/// <summary>Every topic CxMesh publishes, with the message it carries (protos/cxmesh/events/v1).</summary>
public static class Topics
{
    public static readonly EventTopic<FeedbackReceived> FeedbackReceived = new("feedback.received.v1");
    /// <summary>Names an erased customer, so it is not kept once sent (<see cref="EventTopic{TEvent}.ForgetWhenSent"/>).</summary>
    public static readonly EventTopic<FeedbackErased> FeedbackErased = new("feedback.erased.v1") { ForgetWhenSent = true };
    public static readonly EventTopic<ErasureApplied> ErasureApplied = new("customer.erasure.applied.v1");
    public static readonly EventTopic<FeedbackRedacted> FeedbackRedacted = new("feedback.redacted.v1");
    public static readonly EventTopic<FeedbackRetagged> FeedbackRetagged = new("feedback.retagged.v1");
    public static readonly EventTopic<PraiseReceived> PraiseReceived = new("feedback.praise.received.v1");
    public static readonly EventTopic<JourneyTouchpointRecorded> JourneyTouchpointRecorded = new("journey.touchpoint.recorded.v1");
    public static readonly EventTopic<JourneyCompleted> JourneyCompleted = new("journey.completed.v1");
    public static readonly EventTopic<JourneyAbandoned> JourneyAbandoned = new("journey.abandoned.v1");

    public static readonly EventTopic<AlertRaised> AlertRaised = new("alert.raised.v1");
    public static readonly EventTopic<ScoreChanged> ScoreChanged = new("score.changed.v1");
    public static readonly EventTopic<SharingDecided> SharingDecided = new("governance.sharing.decided.v1");
    public static readonly EventTopic<PartnerAgreementSubmitted> PartnerAgreementSubmitted = new("partner.agreement.submitted.v1");
    public static readonly EventTopic<ActionCreated> ActionCreated = new("action.created.v1");
    public static readonly EventTopic<ActionOverdue> ActionOverdue = new("action.overdue.v1");
    public static readonly EventTopic<PartnerReportPublished> PartnerReportPublished = new("partner.report.published.v1");
    public static readonly EventTopic<PartnerResponseReceived> PartnerResponseReceived = new("partner.response.received.v1");
    public static readonly EventTopic<PartnerMappingChanged> PartnerMappingChanged = new("partner.mapping.changed.v1");
    public static readonly EventTopic<PartnerStatusChanged> PartnerStatusChanged = new("partner.status.changed.v1");
    public static readonly EventTopic<PartnerResponseUpdated> PartnerResponseUpdated = new("partner.response.updated.v1");

    public static IReadOnlyList<IEventTopic> All { get; } =
        [
            FeedbackReceived, FeedbackErased, ErasureApplied, FeedbackRedacted, FeedbackRetagged, PraiseReceived, JourneyTouchpointRecorded, JourneyCompleted, JourneyAbandoned, AlertRaised, ScoreChanged,
            SharingDecided, PartnerAgreementSubmitted, ActionCreated, ActionOverdue, PartnerReportPublished, PartnerResponseReceived, PartnerMappingChanged,
            PartnerStatusChanged, PartnerResponseUpdated,
        ];
}
