using CxMesh.Platform.Validation;

namespace CxMesh.Platform.Tests;

public sealed class IdentifierTests
{
    [Theory]
    [InlineData("coffee-subscription", true)]
    [InlineData("nps", true)]
    [InlineData("store.42_b", true)]
    [InlineData("0day", true)]
    [InlineData("-leading-dash", false)]
    [InlineData(".hidden", false)]
    [InlineData("_x", false)]
    [InlineData("Upper", false)]
    [InlineData("with space", false)]
    [InlineData("colon:not-in-keys", false)]
    [InlineData("", false)]
    public void A_key_is_lower_case_and_starts_with_a_letter_or_digit(string value, bool valid) =>
        Assert.Equal(valid, Identifiers.IsKey(value));

    [Fact]
    public void A_key_is_at_most_64_characters() =>
        Assert.Equal((true, false), (Identifiers.IsKey(new string('k', 64)), Identifiers.IsKey(new string('k', 65))));

    [Theory]
    [InlineData("CRM:42", true)]
    [InlineData("k-1.Z_9", true)]
    [InlineData("has space", false)]
    [InlineData("slash/no", false)]
    [InlineData("", false)]
    public void A_token_keeps_case_and_allows_colons(string value, bool valid) =>
        Assert.Equal(valid, Identifiers.IsToken(value));

    [Fact]
    public void A_token_is_at_most_128_characters_unless_a_service_allows_less()
    {
        Assert.True(Identifiers.IsToken(new string('t', 128)));
        Assert.False(Identifiers.IsToken(new string('t', 129)));
        Assert.False(Identifiers.IsToken(new string('t', 65), maxLength: 64));
    }
}
