using CxMesh.Events.V1;
using CxMesh.Feedback.Data;
using CxMesh.Feedback.Domain;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using CxMesh.Platform.Validation;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.UseCases;

/// <summary>
/// Erases a customer from feedback (contact details, raw and redacted words, idempotency keys; items pseudonymised),
/// announces it with feedback.erased so every other service erases its copy, and forgets sent events that name the
/// customer: one write. Repeating it is safe and makes a new erasure with its own receipt.
/// </summary>
public sealed class EraseCustomer([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database)
{
    public async Task<Erasure> EraseAsync(string customerId, CancellationToken ct)
    {
        if (customerId.Length is 0 or > FeedbackLimits.MaxIdLength || !Identifiers.Token().IsMatch(customerId))
        {
            throw new FieldViolationException("customer_id", "customer_id is required: 1-128 characters of letters, digits and . _ : -");
        }
        await using var write = await database.BeginWriteAsync(ct);
        var eventId = await write.PublishAsync(Topics.FeedbackErased, new FeedbackErased
        {
            OccurredAt = Timestamp.FromDateTimeOffset(write.Now),
            CustomerId = customerId,
        }, ct);
        var erasure = await FeedbackStore.EraseCustomerAsync(write, customerId, eventId, ct);
        await Erasures.ForgetMessagesAsync(write, customerId, ct);
        await write.CommitAsync(ct);
        return erasure;
    }
}
