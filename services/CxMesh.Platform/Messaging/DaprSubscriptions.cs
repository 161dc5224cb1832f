using CxMesh.Platform.Errors;
using CxMesh.Platform.Hosting;
using Dapr;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CxMesh.Platform.Messaging;

/// <summary>
/// The endpoints the Dapr sidecar calls: <c>GET /dapr/subscribe</c> (from <c>MapSubscribeHandler</c>, open: it lists
/// topic names only) and one route per consumed topic, plus a route for its dead-letter topic, which take calls only
/// with the sidecar's app API token (401 otherwise, counted). The CloudEvents middleware unwraps the envelope; its id,
/// type and traceparent arrive as <c>Cloudevent.*</c> headers.
/// </summary>
public static class DaprSubscriptions
{
    public const string RoutePrefix = "/events/";
    /// <summary>The policy of event routes: the caller presents the sidecar's app API token (dapr-api-token).</summary>
    public const string SidecarPolicy = "dapr-sidecar";

    public static void MapDaprSubscriptions(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<CxMeshOptions>>().Value;
        var subscriptions = app.Services.GetServices<EventSubscription>().ToList();
        app.MapSubscribeHandler().AllowAnonymous();

        foreach (var group in subscriptions.GroupBy(s => s.Topic.Name))
        {
            var topic = group.First().Topic;
            var handlers = group.ToList();
            app.MapPost(RoutePrefix + topic.Name, (HttpContext http, EventDispatcher dispatcher, ILoggerFactory logs) =>
                    DeliverAsync(http, topic.Name, handlers, dispatcher, deadLetter: false, logs))
                .WithTopic(new TopicOptions { PubsubName = options.PubSubName, Name = topic.Name, DeadLetterTopic = topic.DeadLetterTopic })
                .WithMetadata(new EventRoute(topic.Name))
                .RequireAuthorization(SidecarPolicy);

            // Events Dapr gave up on arrive here: keep them, visible, in dead_letters.
            app.MapPost(RoutePrefix + topic.DeadLetterTopic, (HttpContext http, EventDispatcher dispatcher, ILoggerFactory logs) =>
                    DeliverAsync(http, topic.Name, handlers, dispatcher, deadLetter: true, logs))
                .WithTopic(options.PubSubName, topic.DeadLetterTopic)
                .WithMetadata(new EventRoute(topic.DeadLetterTopic))
                .RequireAuthorization(SidecarPolicy);
        }
    }

    private static async Task<IResult> DeliverAsync(HttpContext http, string topic, IReadOnlyList<EventSubscription> handlers,
        EventDispatcher dispatcher, bool deadLetter, ILoggerFactory logs)
    {
        using var reader = new StreamReader(http.Request.Body);
        var payload = await reader.ReadToEndAsync(http.RequestAborted);
        var headers = http.Request.Headers;
        var evt = new IncomingEvent(
            EventId: NullIfEmpty(headers["Cloudevent.id"]),
            Topic: topic,
            EventType: NullIfEmpty(headers["Cloudevent.type"]),
            Payload: payload,
            TraceParent: NullIfEmpty(headers["Cloudevent.traceparent"]) ?? NullIfEmpty(headers["traceparent"]));
        try
        {
            var dropped = false;
            foreach (var subscription in handlers)
            {
                var outcome = deadLetter
                    ? await dispatcher.RecordDeadLetterAsync(subscription, evt, "Dapr delivered the event to the dead-letter topic after its retries.", http.RequestAborted)
                    : await dispatcher.DeliverAsync(subscription, evt, http.RequestAborted);
                dropped |= outcome == DeliveryOutcome.DeadLettered && !deadLetter;
            }
            // DROP tells Dapr not to redeliver: the event is kept in dead_letters already.
            return Results.Json(new { status = dropped ? "DROP" : "SUCCESS" });
        }
        catch (Exception ex) when (!http.RequestAborted.IsCancellationRequested)
        {
            logs.CreateLogger(typeof(DaprSubscriptions)).LogWarning(ex, "Handling {Topic} event {EventId} failed; asking Dapr to retry", topic, evt.EventId);
            var code = TransientFailures.IsTransient(ex) ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError;
            return Results.Json(new { status = "RETRY" }, statusCode: code);
        }
    }

    private static string? NullIfEmpty(Microsoft.Extensions.Primitives.StringValues value) =>
        string.IsNullOrEmpty(value.ToString()) ? null : value.ToString();
}
