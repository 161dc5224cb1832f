using System.Security.Cryptography;
using System.Text.Json;
using CxMesh.Common.V1;
using CxMesh.Journey.Data;
using CxMesh.Journey.V1;
using CxMesh.Platform.Postgres;
using FluentValidation;
using Google.Protobuf;
using Google.Rpc;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Journey.UseCases;

/// <summary>
/// Checks a batch of touchpoint events (shape, then against the current journey definitions) and stores the
/// good ones in one write; each bad one gets its own error. Shared by RecordTouchpoint and RecordTouchpoints. The
/// projector (<see cref="ProjectInstances"/>) places them in journey instances and publishes them.
/// </summary>
public sealed class RecordTouchpoints(
    [FromKeyedServices(JourneyModule.Name)] ServiceDatabase database, DefinitionStore definitions, IValidator<TouchpointEvent> validator)
{
    public async Task<IReadOnlyList<RecordTouchpointResult>> RecordAsync(IReadOnlyList<TouchpointEvent> events, int firstIndex, CancellationToken ct)
    {
        var results = new RecordTouchpointResult[events.Count];
        var shapeOk = new List<int>();
        for (var i = 0; i < events.Count; i++)
        {
            var check = validator.Validate(events[i]);
            if (check.IsValid)
            {
                shapeOk.Add(i);
                continue;
            }
            var first = check.Errors[0];
            results[i] = Rejected(firstIndex + i, events[i], Code.InvalidArgument, "touchpoint." + first.PropertyName, first.ErrorMessage);
        }

        var journeys = await definitions.CurrentAsync(shapeOk.Select(i => events[i].JourneyKey).Distinct().ToList(), ct);
        var toStore = new List<(int Index, TouchpointToStore Item)>();
        foreach (var i in shapeOk)
        {
            var e = events[i];
            if (!journeys.TryGetValue(e.JourneyKey, out var journey))
            {
                results[i] = Rejected(firstIndex + i, e, Code.NotFound, "touchpoint.journey_key", $"journey '{e.JourneyKey}' is not defined.");
            }
            else if (journey.Archived)
            {
                results[i] = Rejected(firstIndex + i, e, Code.FailedPrecondition, "touchpoint.journey_key", $"journey '{e.JourneyKey}' is archived and accepts no touchpoints.");
            }
            else if (!journey.Spec.Has(e.TouchpointKey))
            {
                results[i] = Rejected(firstIndex + i, e, Code.InvalidArgument, "touchpoint.touchpoint_key",
                    $"touchpoint '{e.TouchpointKey}' is not part of journey '{e.JourneyKey}' (version {journey.Spec.Version}).");
            }
            else
            {
                var occurred = e.OccurredAt.ToDateTime();
                toStore.Add((i, new TouchpointToStore(Guid.CreateVersion7(), e.IdempotencyKey, Fingerprint(e), e.CustomerId, e.JourneyKey,
                    e.TouchpointKey, new DateTime(occurred.Ticks - occurred.Ticks % 10, DateTimeKind.Utc),
                    e.Attributes.Count == 0 ? "{}" : JsonSerializer.Serialize(e.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).ToDictionary(a => a.Key, a => a.Value)),
                    Math.Round((decimal)e.Revenue, 4), Math.Round((decimal)e.CostToServe, 4))));
            }
        }

        IReadOnlyList<StoreResult> stored = [];
        if (toStore.Count > 0)
        {
            await using var write = await database.BeginWriteAsync(ct);
            stored = await TouchpointStore.StoreAsync(write, toStore.Select(t => t.Item).ToList(), ct);
            await write.CommitAsync(ct);
        }
        for (var n = 0; n < toStore.Count; n++)
        {
            var (i, _) = toStore[n];
            results[i] = stored[n].Outcome switch
            {
                StoreOutcome.KeyReused => Rejected(firstIndex + i, events[i], Code.FailedPrecondition, "touchpoint.idempotency_key",
                    "idempotency_key was used before for a different touchpoint event; use a new key for a new event."),
                var outcome => new RecordTouchpointResult
                {
                    Index = firstIndex + i,
                    IdempotencyKey = events[i].IdempotencyKey,
                    TouchpointEventId = stored[n].Id.ToString(),
                    Status = outcome == StoreOutcome.Recorded ? RecordStatus.Recorded : RecordStatus.Replayed,
                },
            };
        }
        return results;
    }

    public static RecordTouchpointResult Rejected(int index, TouchpointEvent e, Code code, string field, string message) => new()
    {
        Index = index,
        IdempotencyKey = e.IdempotencyKey,
        Status = RecordStatus.Rejected,
        Error = new ItemError { Code = (int)code, Field = field, Message = message },
    };

    // Attributes are a map, whose wire order is not defined: hash them sorted so a retry always matches. Already in
    // order (none, one, or sent sorted) the event's own bytes are those of the sorted copy, so no copy is made.
    private static byte[] Fingerprint(TouchpointEvent e)
    {
        if (InOrder(e.Attributes)) return SHA256.HashData(e.ToByteArray());
        var canonical = e.Clone();
        canonical.Attributes.Clear();
        foreach (var (key, value) in e.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal)) canonical.Attributes[key] = value;
        return SHA256.HashData(canonical.ToByteArray());
    }

    private static bool InOrder(Google.Protobuf.Collections.MapField<string, string> attributes)
    {
        string? previous = null;
        foreach (var (key, _) in attributes)
        {
            if (previous is not null && string.CompareOrdinal(previous, key) > 0) return false;
            previous = key;
        }
        return true;
    }
}
