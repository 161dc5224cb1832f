using CxMesh.Feedback.Data;
using CxMesh.Platform.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CxMesh.Feedback.UseCases;

/// <summary>
/// Forgets idempotency keys older than <c>Feedback:IdempotencyKeyRetention</c>: a key stands for its first request as
/// long as a client can sensibly retry it, and the table does not grow with every item ever received. Safe with
/// several replicas (rows are claimed with SKIP LOCKED).
/// </summary>
public sealed class ExpireIdempotencyKeys([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database, IOptions<FeedbackOptions> options)
{
    /// <summary>Forgets up to <paramref name="limit"/> expired keys; returns how many.</summary>
    public async Task<int> ExpireAsync(int limit, CancellationToken ct)
    {
        await using var write = await database.BeginWriteAsync(ct);
        var forgotten = await FeedbackStore.ForgetKeysAsync(write, (write.Now - options.Value.IdempotencyKeyRetention).UtcDateTime, limit, ct);
        await write.CommitAsync(ct);
        return forgotten;
    }
}
