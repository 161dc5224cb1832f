using System.Security.Cryptography;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Hosting;
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
}

internal sealed class FeedbackOptionsValidator : IValidateOptions<FeedbackOptions>
{
    public ValidateOptionsResult Validate(string? name, FeedbackOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ActiveContactKey))
        {
            return ValidateOptionsResult.Fail("Feedback:ActiveContactKey is required: the id of the key in Feedback:ContactKeys that encrypts contact details.");
        }
        if (!options.ContactKeys.ContainsKey(options.ActiveContactKey))
        {
            return ValidateOptionsResult.Fail($"Feedback:ContactKeys:{options.ActiveContactKey} is required (Feedback:ActiveContactKey names it).");
        }
        foreach (var (id, value) in options.ContactKeys)
        {
            byte[] key;
            try
            {
                key = Convert.FromBase64String(value);
            }
            catch (FormatException)
            {
                return ValidateOptionsResult.Fail($"Feedback:ContactKeys:{id} must be base64.");
            }
            if (key.Length != 32) return ValidateOptionsResult.Fail($"Feedback:ContactKeys:{id} must be 32 bytes (AES-256), base64-encoded.");
        }
        return ValidateOptionsResult.Success;
    }
}

public sealed record SealedContact(string KeyId, byte[] Nonce, byte[] Ciphertext, byte[] Tag);

/// <summary>Encrypts contact details with AES-GCM, bound to their feedback item (associated data), under the active key.</summary>
public sealed class ContactVault(IOptions<FeedbackOptions> options)
{
    private readonly Dictionary<string, byte[]> _keys = options.Value.ContactKeys.ToDictionary(k => k.Key, k => Convert.FromBase64String(k.Value));
    private readonly string _active = options.Value.ActiveContactKey ?? throw new ConfigurationException("Feedback:ActiveContactKey", "is required.");

    public SealedContact Seal(Guid feedbackId, ContactDetails contact)
    {
        var plaintext = contact.ToByteArray();
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using var aes = new AesGcm(_keys[_active], tag.Length);
        aes.Encrypt(nonce, plaintext, ciphertext, tag, feedbackId.ToByteArray());
        return new SealedContact(_active, nonce, ciphertext, tag);
    }

    public ContactDetails Open(Guid feedbackId, SealedContact sealedContact)
    {
        if (!_keys.TryGetValue(sealedContact.KeyId, out var key))
        {
            throw new InvalidOperationException($"Contact details of {feedbackId} were encrypted with key '{sealedContact.KeyId}', which is no longer configured.");
        }
        var plaintext = new byte[sealedContact.Ciphertext.Length];
        using var aes = new AesGcm(key, sealedContact.Tag.Length);
        aes.Decrypt(sealedContact.Nonce, sealedContact.Ciphertext, sealedContact.Tag, plaintext, feedbackId.ToByteArray());
        return ContactDetails.Parser.ParseFrom(plaintext);
    }
}
