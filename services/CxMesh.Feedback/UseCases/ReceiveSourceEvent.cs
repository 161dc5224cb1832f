using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using Microsoft.Extensions.Options;

namespace CxMesh.Feedback.UseCases;

/// <summary>The configured inbound connectors: each source's options and its mapping, loaded once.</summary>
public sealed class ConfiguredSources(IOptions<FeedbackOptions> options)
{
    private readonly Lazy<IReadOnlyDictionary<string, (SourceConnector Options, SourceMapping Mapping)>> sources = new(() =>
        options.Value.Sources.ToDictionary(s => s.Key, s => (s.Value, SourceMapping.Load(s.Value.Mapping)), StringComparer.Ordinal));

    public bool TryGet(string source, out SourceConnector connector, out SourceMapping mapping)
    {
        if (sources.Value.TryGetValue(source, out var found))
        {
            (connector, mapping) = found;
            return true;
        }
        (connector, mapping) = (null!, null!);
        return false;
    }
}

/// <summary>What became of a delivered event: stored or replayed (with the item), refused (problems by JSON pointer), or in conflict.</summary>
public sealed record SourceEventResult(SubmitStatus Status, Guid? FeedbackId, IReadOnlyDictionary<string, string[]>? Problems = null, string? Conflict = null)
{
    public static SourceEventResult Invalid(string path, string problem) => new(SubmitStatus.Rejected, null, new Dictionary<string, string[]> { [path] = [problem] });
}

/// <summary>
/// An inbound connector's event becomes one feedback item: the mapping reads it into cells, the cells become a
/// request as a CSV row's would, and the request goes through the one ingest path. The event's own id is the
/// idempotency key, so a redelivery replays the stored item and the same id with other content is a conflict;
/// nothing of a refused event is stored.
/// </summary>
public sealed class ReceiveSourceEvent(SubmitFeedback ingest)
{
    public const int MaxEventIdLength = 200;

    public async Task<SourceEventResult> ReceiveAsync(string source, SourceMapping mapping, JsonElement root, CancellationToken ct)
    {
        var (cells, problems) = mapping.Read(root);
        var parts = mapping.EventId.Select(p => p.Evaluate(root) switch
        {
            { ValueKind: JsonValueKind.String } s => s.GetString() ?? "",
            { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
            _ => "",
        }).ToList();
        var eventId = string.Join(":", parts);
        if (parts.Any(p => p.Trim().Length == 0) || eventId.Length > MaxEventIdLength)
        {
            problems[mapping.EventIdPath] = [$"the event id (a string or number, 1-{MaxEventIdLength} characters) is missing: it is what makes a redelivery harmless."];
        }
        if (problems.Count > 0) return new SourceEventResult(SubmitStatus.Rejected, null, problems);

        var (entry, ratingColumns) = FeedbackRows.ToEntry(new FeedbackRows.SourceRow(1, cells, false, ""), mapping.Columns, source, Channel.Unspecified);
        if (entry.Refused is { } refused) return SourceEventResult.Invalid(refused.Field, refused.Message);
        entry.Request!.IdempotencyKey = "src-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{source}\u001f{eventId}")));

        IngestOutcome? outcome = null;
        await ingest.IngestAsync(One(entry), (_, outcomes) =>
        {
            outcome = outcomes[0];
            return Task.CompletedTask;
        }, ct);
        return outcome! switch
        {
            { Status: SubmitStatus.Rejected, Error.Code: (int)Google.Rpc.Code.FailedPrecondition } o =>
                new SourceEventResult(SubmitStatus.Rejected, null, Conflict: $"event '{eventId}' was delivered before with other content: {o.Error.Message}"),
            { Status: SubmitStatus.Rejected } o => SourceEventResult.Invalid(FeedbackRows.ColumnOf(o.Error!.Field, mapping.Columns, ratingColumns), o.Error.Message),
            var o => new SourceEventResult(o.Status, o.Id),
        };
    }

    private static async IAsyncEnumerable<IngestEntry> One(IngestEntry entry)
    {
        await Task.CompletedTask;
        yield return entry;
    }
}
