using CxMesh.Feedback.V1;
using CxMesh.Platform.Security;
using Google.Protobuf;
using Microsoft.Extensions.Options;

namespace CxMesh.Feedback.Data;

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
