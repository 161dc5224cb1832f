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
public sealed class EraseCustomer([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database, CustomerPseudonyms pseudonyms)
{
    /// <summary>
    /// The customer id an erasure names: given, or derived from the e-mail or phone a person gave without one, exactly
    /// as it was derived when their feedback came in.
    /// </summary>
    public string CustomerIdOf(string customerId, string email, string phone)
    {
        email = email.Trim();
        var given = new[] { customerId.Length > 0, email.Length > 0, phone.Length > 0 }.Count(g => g);
        if (given > 1) throw new FieldViolationException(email.Length > 0 ? "email" : "phone", "give one of customer_id, email or phone: the person is found by one.");
        if (email.Length > 0)
        {
            if (email.Length > 254 || email.IndexOf('@') is <= 0 || email.IndexOf('@') == email.Length - 1 || email.Any(char.IsWhiteSpace) || !Violations.IsCleanText(email, refuseReplacement: true))
            {
                throw new FieldViolationException("email", "email must be an e-mail address (at most 254 characters).");
            }
        }
        else if (phone.Length > 0)
        {
            if (phone.Length > 40 || phone.Count(char.IsAsciiDigit) < 6 || !Violations.IsCleanText(phone, refuseReplacement: true))
            {
                throw new FieldViolationException("phone", "phone must hold at least 6 digits (at most 40 characters).");
            }
        }
        else
        {
            return customerId;
        }
        return pseudonyms.For(email, phone, "", "") ?? throw new PreconditionFailedException("PSEUDONYM_KEY_UNSET",
            "Feedback:PseudonymKey is not set, so no feedback carries an id derived from an e-mail or phone: erase by customer_id.", email.Length > 0 ? "email" : "phone");
    }

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
