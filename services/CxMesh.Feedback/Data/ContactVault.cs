using CxMesh.Feedback.V1;
using CxMesh.Platform.Security;
using Google.Protobuf;
using Microsoft.Extensions.Options;

namespace CxMesh.Feedback.Data;

/// <summary>
/// Configuration section <c>Feedback</c>: the AES-256 keys contact details are encrypted with.
/// <c>Feedback:ContactKeys:&lt;id&gt;</c> = base64 of 32 random bytes; <c>Feedback:ActiveContactKey</c> = the id new
/// records use. Old keys stay listed until nothing encrypted with them is left.
/// </summary>
public sealed class FeedbackOptions
{
    public const string Section = "Feedback";

    public Dictionary<string, string> ContactKeys { get; set; } = [];
    public string? ActiveContactKey { get; set; }

    /// <summary>How far apart (by given_at) the same customer's same words still count as one saying.</summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromDays(14);

    /// <summary>The services that hold customer data and answer an erasure with customer.erasure.applied.</summary>
    public string[] ErasureServices { get; set; } = ["journey", "scoring", "partner", "governance"];
}

internal sealed class FeedbackOptionsValidator : IValidateOptions<FeedbackOptions>
{
    public ValidateOptionsResult Validate(string? name, FeedbackOptions options) =>
        KeyRing.Problem(options.ContactKeys, options.ActiveContactKey, "Feedback:ContactKeys", "Feedback:ActiveContactKey") is { } problem
            ? ValidateOptionsResult.Fail($"{problem.Key} {problem.Message}")
            : ValidateOptionsResult.Success;
}

public sealed record SealedContact(string KeyId, byte[] Nonce, byte[] Ciphertext, byte[] Tag);

/// <summary>Encrypts contact details with AES-GCM, bound to their feedback item (associated data), under the active key.</summary>
public sealed class ContactVault(IOptions<FeedbackOptions> options)
{
    private readonly KeyRing _keys = new(options.Value.ContactKeys, options.Value.ActiveContactKey, "Feedback:ContactKeys", "Feedback:ActiveContactKey");

    public SealedContact Seal(Guid feedbackId, ContactDetails contact)
    {
        var sealedValue = _keys.Seal(contact.ToByteArray(), feedbackId.ToByteArray());
        return new SealedContact(sealedValue.KeyId, sealedValue.Nonce, sealedValue.Ciphertext, sealedValue.Tag);
    }

    public ContactDetails Open(Guid feedbackId, SealedContact sealedContact) =>
        ContactDetails.Parser.ParseFrom(_keys.Open(new SealedValue(sealedContact.KeyId, sealedContact.Nonce, sealedContact.Ciphertext, sealedContact.Tag),
            feedbackId.ToByteArray(), $"Contact details of {feedbackId}"));
}
