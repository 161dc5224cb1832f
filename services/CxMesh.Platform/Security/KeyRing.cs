using System.Security.Cryptography;
using CxMesh.Platform.Hosting;

namespace CxMesh.Platform.Security;

/// <summary>A value sealed with AES-256-GCM under a named key; the key id travels with it so keys can rotate.</summary>
public sealed record SealedValue(string KeyId, byte[] Nonce, byte[] Ciphertext, byte[] Tag);

/// <summary>
/// AES-256-GCM keys by id, one of them active for new values (<c>&lt;section&gt;:&lt;keys&gt;:&lt;id&gt;</c> = base64 of
/// 32 random bytes). Old keys stay configured while values sealed with them exist. Values are bound to what they belong
/// to (associated data), so a sealed value copied onto another record does not open.
/// </summary>
public sealed class KeyRing
{
    private readonly Dictionary<string, byte[]> _keys;
    private readonly string _active;

    /// <param name="keysKey">The configuration key of the key table, for messages (e.g. <c>Feedback:ContactKeys</c>).</param>
    /// <param name="activeKey">The configuration key naming the active key id.</param>
    public KeyRing(IReadOnlyDictionary<string, string> keys, string? active, string keysKey, string activeKey)
    {
        if (Problem(keys, active, keysKey, activeKey) is { } problem) throw new ConfigurationException(problem.Key, problem.Message);
        _keys = keys.ToDictionary(k => k.Key, k => Convert.FromBase64String(k.Value));
        _active = active!;
    }

    /// <summary>What is wrong with a key configuration, naming the setting; null when it is usable.</summary>
    public static (string Key, string Message)? Problem(IReadOnlyDictionary<string, string> keys, string? active, string keysKey, string activeKey)
    {
        if (string.IsNullOrWhiteSpace(active)) return (activeKey, $"is required: the id of the key in {keysKey} that seals new values.");
        if (!keys.ContainsKey(active)) return ($"{keysKey}:{active}", $"is required ({activeKey} names it).");
        foreach (var (id, value) in keys)
        {
            byte[] key;
            try
            {
                key = Convert.FromBase64String(value);
            }
            catch (FormatException)
            {
                return ($"{keysKey}:{id}", "must be base64.");
            }
            if (key.Length != 32) return ($"{keysKey}:{id}", "must be 32 bytes (AES-256), base64-encoded.");
        }
        return null;
    }

    public SealedValue Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using var aes = new AesGcm(_keys[_active], tag.Length);
        aes.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        return new SealedValue(_active, nonce, ciphertext, tag);
    }

    public byte[] Open(SealedValue value, ReadOnlySpan<byte> associatedData, string what)
    {
        if (!_keys.TryGetValue(value.KeyId, out var key))
        {
            throw new InvalidOperationException($"{what} was sealed with key '{value.KeyId}', which is no longer configured.");
        }
        var plaintext = new byte[value.Ciphertext.Length];
        using var aes = new AesGcm(key, value.Tag.Length);
        aes.Decrypt(value.Nonce, value.Ciphertext, value.Tag, plaintext, associatedData);
        return plaintext;
    }
}
