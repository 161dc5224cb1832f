using System.Security.Cryptography;
using System.Text;
using CxMesh.Platform.Hosting;
using CxMesh.Platform.Security;

namespace CxMesh.Platform.Tests;

public sealed class KeyRingTests
{
    private static string Key() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void A_sealed_value_opens_with_its_key_and_binding_only()
    {
        var keys = new Dictionary<string, string> { ["k1"] = Key(), ["k2"] = Key() };
        var ring = new KeyRing(keys, "k2", "X:Keys", "X:Active");
        var value = ring.Seal(Encoding.UTF8.GetBytes("whsec_secret"), Encoding.UTF8.GetBytes("partner-a"));
        Assert.Equal("k2", value.KeyId);
        Assert.Equal("whsec_secret", Encoding.UTF8.GetString(ring.Open(value, Encoding.UTF8.GetBytes("partner-a"), "test")));
        // Copied onto another record (another binding), or tampered with, it does not open.
        Assert.ThrowsAny<CryptographicException>(() => ring.Open(value, Encoding.UTF8.GetBytes("partner-b"), "test"));
        var tampered = value with { Ciphertext = value.Ciphertext.Select((b, i) => i == 0 ? (byte)(b ^ 1) : b).ToArray() };
        Assert.ThrowsAny<CryptographicException>(() => ring.Open(tampered, Encoding.UTF8.GetBytes("partner-a"), "test"));

        // After a rotation the old key still opens what it sealed; without it, the error names the key.
        var rotated = new KeyRing(new Dictionary<string, string> { ["k2"] = keys["k2"], ["k3"] = Key() }, "k3", "X:Keys", "X:Active");
        Assert.Equal("whsec_secret", Encoding.UTF8.GetString(rotated.Open(value, Encoding.UTF8.GetBytes("partner-a"), "test")));
        var retired = new KeyRing(new Dictionary<string, string> { ["k3"] = Key() }, "k3", "X:Keys", "X:Active");
        Assert.Contains("'k2'", Assert.Throws<InvalidOperationException>(() => retired.Open(value, Encoding.UTF8.GetBytes("partner-a"), "test")).Message);
    }

    [Theory]
    [InlineData(null, "X:Active")]
    [InlineData("missing", "X:Keys:missing")]
    public void A_bad_key_configuration_names_the_setting(string? active, string key)
    {
        var ex = Assert.Throws<ConfigurationException>(() => new KeyRing(new Dictionary<string, string> { ["k1"] = Key() }, active, "X:Keys", "X:Active"));
        Assert.Equal(key, ex.Key);
        Assert.Equal(("X:Keys:k1", "must be 32 bytes (AES-256), base64-encoded."),
            KeyRing.Problem(new Dictionary<string, string> { ["k1"] = "c2hvcnQ=" }, "k1", "X:Keys", "X:Active"));
    }
}
