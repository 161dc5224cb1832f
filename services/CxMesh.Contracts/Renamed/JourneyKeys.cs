// journey_id was renamed journey_key in v1 without breaking it (buf breaking stays green): both fields stay on the
// wire, writers fill both, readers take journey_key and fall back to journey_id (old clients, and events written
// before the rename that still sit in an outbox or a queue). Code reads and writes the journey through these
// properties only, so the deprecated field is touched here and nowhere else.
#pragma warning disable CS0612 // journey_id is [deprecated]: this file is its one reader and writer.

namespace CxMesh.Feedback.V1
{
    public partial class SubmitFeedbackRequest
    {
        /// <summary>journey_key, or the deprecated journey_id when only that is set.</summary>
        public string Journey { get => JourneyRename.Read(JourneyKey, JourneyId); set => (JourneyKey, JourneyId) = (value, value); }

        /// <summary>Both fields set to different journeys: the caller must say which it means.</summary>
        public bool JourneyFieldsDisagree => JourneyRename.Disagree(JourneyKey, JourneyId);

        /// <summary>Whether the journey came in the deprecated field (which keeps its older, token grammar).</summary>
        public bool JourneyFromDeprecatedField => JourneyKey.Length == 0 && JourneyId.Length > 0;
    }

    public partial class ListFeedbackRequest
    {
        /// <summary>journey_key, or the deprecated journey_id when only that is set.</summary>
        public string Journey { get => JourneyRename.Read(JourneyKey, JourneyId); set => (JourneyKey, JourneyId) = (value, value); }

        /// <summary>Both fields set to different journeys.</summary>
        public bool JourneyFieldsDisagree => JourneyRename.Disagree(JourneyKey, JourneyId);
    }

    public partial class FeedbackItem
    {
        /// <summary>Sets journey_key and the deprecated journey_id; reads either.</summary>
        public string Journey { get => JourneyRename.Read(JourneyKey, JourneyId); set => (JourneyKey, JourneyId) = (value, value); }
    }
}

namespace CxMesh.Scoring.V1
{
    public partial class ListAlertsRequest
    {
        /// <summary>journey_key, or the deprecated journey_id when only that is set.</summary>
        public string Journey { get => JourneyRename.Read(JourneyKey, JourneyId); set => (JourneyKey, JourneyId) = (value, value); }

        /// <summary>Both fields set to different journeys.</summary>
        public bool JourneyFieldsDisagree => JourneyRename.Disagree(JourneyKey, JourneyId);
    }

    public partial class Alert
    {
        /// <summary>Sets journey_key and the deprecated journey_id; reads either.</summary>
        public string Journey { get => JourneyRename.Read(JourneyKey, JourneyId); set => (JourneyKey, JourneyId) = (value, value); }
    }
}

namespace CxMesh.Events.V1
{
    public partial class FeedbackReceived
    {
        /// <summary>Sets journey_key and the deprecated journey_id; reads either (events from before the rename carry only journey_id).</summary>
        public string Journey { get => JourneyRename.Read(JourneyKey, JourneyId); set => (JourneyKey, JourneyId) = (value, value); }
    }

    public partial class AlertRaised
    {
        /// <summary>Sets journey_key and the deprecated journey_id; reads either.</summary>
        public string Journey { get => JourneyRename.Read(JourneyKey, JourneyId); set => (JourneyKey, JourneyId) = (value, value); }
    }
}

namespace CxMesh
{
    internal static class JourneyRename
    {
        public static string Read(string key, string id) => key.Length > 0 ? key : id;

        public static bool Disagree(string key, string id) => key.Length > 0 && id.Length > 0 && !string.Equals(key, id, StringComparison.Ordinal);
    }
}
