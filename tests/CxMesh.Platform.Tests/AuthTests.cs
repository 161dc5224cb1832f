using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Grpc.Core;

namespace CxMesh.Platform.Tests;

public sealed class AuthFixture : IAsyncLifetime
{
    public CxMeshTestHost Host { get; private set; } = null!;
    /// <summary>Long enough for HS512, so only the pinned algorithm stops a token signed that way.</summary>
    public const string LongKey = "cxmesh-auth-test-key-long-enough-for-hmac-sha-512-0123456789abcdef";

    public async Task InitializeAsync() => Host = await CxMeshTestHost.StartAsync(s =>
    {
        s.Services = "feedback";
        s.Settings["Auth:SigningKey"] = LongKey;
    });
    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>Who gets in: tokens are refused with UNAUTHENTICATED and a reason the caller can act on.</summary>
public sealed class AuthTests(AuthFixture fixture) : IClassFixture<AuthFixture>
{
    private async Task<RpcException> RefusedAsync(string token)
    {
        var client = fixture.Host.ClientWithToken<FeedbackService.FeedbackServiceClient>(token);
        return await RpcAssert.StatusAsync(() => client.ListFeedbackAsync(new ListFeedbackRequest()).ResponseAsync, StatusCode.Unauthenticated);
    }

    [Theory]
    [InlineData("HS384")]
    [InlineData("HS512")]
    public async Task Tokens_signed_with_another_algorithm_are_refused_even_with_the_right_key(string algorithm)
    {
        var refused = await RefusedAsync(CxMeshTestHost.ForgedToken([("sub", "x"), ("role", Roles.Admin)], algorithm, AuthFixture.LongKey));
        Assert.Contains("algorithm", refused.Status.Detail);
        Assert.Contains("HS256", refused.Status.Detail);
    }

    [Theory]
    [InlineData(Roles.Analyst)]
    [InlineData(Roles.Admin)]
    [InlineData(Roles.App)]
    public async Task A_token_may_not_mix_partner_with_an_internal_role(string internalRole)
    {
        var refused = await RefusedAsync(CxMeshTestHost.ForgedToken([("sub", "x"), ("role", Roles.Partner), ("role", internalRole), (Roles.PartnerIdClaim, "farm")], signingKey: AuthFixture.LongKey));
        Assert.Contains("partner role", refused.Status.Detail);
        Assert.Contains(internalRole, refused.Status.Detail);
    }

    [Fact]
    public async Task Expired_wrongly_signed_and_missing_tokens_say_why()
    {
        Assert.Contains("expired", (await RefusedAsync(CxMeshTestHost.ForgedToken([("sub", "x"), ("role", Roles.Admin)], signingKey: AuthFixture.LongKey, lifetime: TimeSpan.FromHours(-2)))).Status.Detail);
        Assert.Contains("signature", (await RefusedAsync(CxMeshTestHost.ForgedToken([("sub", "x"), ("role", Roles.Admin)],
            signingKey: "another-key-of-at-least-thirty-two-bytes!!"))).Status.Detail);
        var anonymous = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(role: null);
        var refused = await RpcAssert.StatusAsync(() => anonymous.ListFeedbackAsync(new ListFeedbackRequest()).ResponseAsync, StatusCode.Unauthenticated);
        Assert.Contains("bearer token", refused.Status.Detail);
        // The same token with one role is fine.
        var fine = fixture.Host.ClientWithToken<FeedbackService.FeedbackServiceClient>(CxMeshTestHost.ForgedToken([("sub", "x"), ("role", Roles.Analyst)], signingKey: AuthFixture.LongKey));
        await fine.ListFeedbackAsync(new ListFeedbackRequest());
    }
}
