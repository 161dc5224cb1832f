using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CxMesh.Feedback.UseCases;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CxMesh.Feedback.Api;

/// <summary>
/// <c>POST /v1/sources/{source}/events</c>: where a help desk, a review site or an app-store relay delivers by webhook.
/// The sender proves itself by the HMAC signature its mapping declares (or by the source's token), not by a CxMesh
/// sign-in; the body (JSON, at most 1 MiB) becomes one item through <see cref="ReceiveSourceEvent"/>. Answers:
/// 201 stored, 200 replayed (both with the feedback id), 400 naming each JSON pointer at fault, 401 (signature or
/// token), 404 (no such source), 409 (an event id seen with other content), 413, 415, 429 (the source's rate limit,
/// with Retry-After), 503 (a dependency is down: redeliver later; nothing was stored).
/// </summary>
public static class SourceEvents
{
    public const string Route = "/v1/sources/{source}/events";
    public const string TokenHeader = "X-CxMesh-Source-Token";
    public const int MaxBodyBytes = 1 << 20;
    /// <summary>How far a signed timestamp may be from now: a captured delivery replayed later is refused.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public static void MapSourceEvents(this WebApplication app) =>
        app.MapPost(Route, ReceiveAsync).AllowAnonymous().WithMetadata(new CallerLimitAttribute(CallerLimits.Source));

    private static async Task<IResult> ReceiveAsync(string source, HttpContext http, ConfiguredSources connectors, ReceiveSourceEvent receive,
        TimeProvider clock, ILoggerFactory logs, CancellationToken ct)
    {
        if (!connectors.TryGet(source, out var options, out var mapping))
        {
            return Problem(StatusCodes.Status404NotFound, "Unknown source", $"no source '{source}' is configured here (Feedback:Sources:{source}).");
        }
        if (http.Request.ContentType is not { } type || !(type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || type.Contains("+json", StringComparison.OrdinalIgnoreCase)))
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Not JSON", "send the event as application/json.");
        }
        var body = await ReadBodyAsync(http.Request, ct);
        if (body is null) return Problem(StatusCodes.Status413PayloadTooLarge, "Event too large", $"an event is at most {MaxBodyBytes >> 20} MiB.");
        if (Authenticate(options, mapping, http.Request, body, clock.GetUtcNow()) is { } refusal)
        {
            logs.CreateLogger(typeof(SourceEvents)).LogWarning("A delivery to source {Source} was refused: {Reason}", source, refusal);
            return Problem(StatusCodes.Status401Unauthorized, "Not from the source", refusal);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            return Invalid(new Dictionary<string, string[]> { [""] = [$"the body is not JSON: {ex.Message}"] });
        }
        using (document)
        {
            SourceEventResult result;
            try
            {
                result = await receive.ReceiveAsync(source, mapping, document.RootElement, ct);
            }
            catch (Exception ex) when (TransientFailures.IsTransient(ex))
            {
                http.Response.Headers.RetryAfter = "5";
                return Problem(StatusCodes.Status503ServiceUnavailable, "Try again", "a dependency is unavailable; nothing was stored, deliver the event again.");
            }
            return result switch
            {
                { Conflict: { } conflict } => Problem(StatusCodes.Status409Conflict, "Event id reused", conflict),
                { Problems: { } problems } => Invalid(problems),
                { Status: SubmitStatus.Replayed } r => Results.Ok(new { status = "replayed", feedback_id = r.FeedbackId }),
                var r => Results.Json(new { status = "stored", feedback_id = r.FeedbackId }, statusCode: StatusCodes.Status201Created),
            };
        }
    }

    /// <summary>Null when the sender is who the source's configuration says, else why not (never which part of a secret was wrong).</summary>
    internal static string? Authenticate(SourceConnector options, SourceMapping mapping, HttpRequest request, byte[] body, DateTimeOffset now)
    {
        if (!string.IsNullOrEmpty(options.Secret) && mapping.Signature is { } scheme)
        {
            var header = request.Headers[scheme.Header].ToString();
            if (header.Length == 0) return $"the {scheme.Header} header (the body's HMAC-SHA256) is missing.";
            var signature = Decode(header.StartsWith(scheme.Prefix, StringComparison.Ordinal) ? header[scheme.Prefix.Length..] : header, scheme.Encoding);
            if (signature is null) return $"the {scheme.Header} header is not {scheme.Encoding}{(scheme.Prefix.Length > 0 ? $" after '{scheme.Prefix}'" : "")}.";
            var signed = body;
            if (scheme.TimestampHeader is { } timestampHeader)
            {
                var timestamp = request.Headers[timestampHeader].ToString();
                if (ParseTimestamp(timestamp) is not { } at) return $"the {timestampHeader} header (the time the delivery was signed) is missing or not a time.";
                if ((now - at).Duration() > MaxClockSkew) return $"the delivery was signed at {at:u}, more than {MaxClockSkew.TotalMinutes} minutes from now: a replay, or a clock that is off.";
                signed = [.. Encoding.UTF8.GetBytes(timestamp), .. body];
            }
            var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.Secret), signed);
            return CryptographicOperations.FixedTimeEquals(expected, signature) ? null : $"the {scheme.Header} signature does not match the body signed with the source's secret.";
        }
        var token = request.Headers.Authorization.ToString() is { } authorization && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? authorization["Bearer ".Length..].Trim()
            : request.Headers[TokenHeader].ToString();
        if (token.Length == 0) return $"the source's token is missing (Authorization: Bearer <token>, or {TokenHeader}).";
        // Hashes of equal length, so that the comparison takes the same time whatever was sent.
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(token)), SHA256.HashData(Encoding.UTF8.GetBytes(options.Token ?? "")))
            ? null
            : "the source's token is not the one configured.";
    }

    private static byte[]? Decode(string text, string encoding)
    {
        try
        {
            return encoding == "base64" ? Convert.FromBase64String(text.Trim()) : Convert.FromHexString(text.Trim());
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static DateTimeOffset? ParseTimestamp(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds < 100_000_000_000 ? DateTimeOffset.FromUnixTimeSeconds(seconds)
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at
        : null;

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > MaxBodyBytes) return null;
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }

    private static IResult Problem(int status, string title, string detail) => Results.Problem(detail, statusCode: status, title: title);

    private static IResult Invalid(IReadOnlyDictionary<string, string[]> problems) =>
        Results.ValidationProblem(problems, detail: "The event cannot become feedback: " + string.Join(" ", problems.Select(p => $"{(p.Key.Length > 0 ? p.Key : "body")}: {string.Join(" ", p.Value)}")),
            title: "Invalid event");
}
