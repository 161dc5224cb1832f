using System.Diagnostics;
using CxMesh.Journey.Api;
using CxMesh.Journey.V1;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Benchmarks;

internal static class Micro
{
    public static void Run()
    {
        var validator = new TouchpointEventValidator(TimeProvider.System);
        var events = Enumerable.Range(0, 100_000).Select(i =>
        {
            var e = new TouchpointEvent { IdempotencyKey = $"bench-key-{i}", CustomerId = $"c{i}", JourneyKey = "coffee", TouchpointKey = "roasted", OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow.AddHours(-1)) };
            if (i % 5 == 0) e.Attributes["segment"] = "gold";
            return e;
        }).ToList();
        for (var round = 0; round < 2; round++)
        {
            var sw = Stopwatch.StartNew();
            foreach (var e in events) validator.Validate(e);
            Console.WriteLine($"validate: {events.Count / sw.Elapsed.TotalSeconds:N0}/s");
            sw.Restart();
            foreach (var e in events) System.Text.Json.JsonSerializer.Serialize(e.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).ToDictionary(a => a.Key, a => a.Value));
            Console.WriteLine($"attributes json: {events.Count / sw.Elapsed.TotalSeconds:N0}/s");
            sw.Restart();
            foreach (var e in events) { var c = e.Clone(); System.Security.Cryptography.SHA256.HashData(Google.Protobuf.MessageExtensions.ToByteArray(c)); }
            Console.WriteLine($"fingerprint: {events.Count / sw.Elapsed.TotalSeconds:N0}/s");
        }
    }
}
