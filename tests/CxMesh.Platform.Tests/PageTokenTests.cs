using CxMesh.Platform.Api;

namespace CxMesh.Platform.Tests;

/// <summary>Page tokens a service could not have issued are refused before their position reaches a query (#14).</summary>
public sealed class PageTokenTests
{
    [Fact]
    public void A_token_issued_here_comes_back_as_its_position()
    {
        Assert.True(PageTokens.TryDecode(PageTokens.Encode("2026-11-30|8f1c"), out var position));
        Assert.Equal("2026-11-30|8f1c", position);
    }

    [Theory]
    [InlineData("!!!not-base64!!!")]
    [InlineData("AAAA")] // three NULs
    [InlineData("_w")] // 0xFF: not UTF-8
    [InlineData("7aCA")] // a lone surrogate encoded as UTF-8
    public void A_token_that_is_not_base64url_of_clean_text_is_refused(string token) =>
        Assert.False(PageTokens.TryDecode(token, out _));

    [Fact]
    public void A_token_longer_than_any_issued_is_refused() =>
        Assert.False(PageTokens.TryDecode(PageTokens.Encode(new string('a', 2_000)), out _));
}
