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

    [Fact]
    public async Task A_role_the_method_does_not_allow_is_PERMISSION_DENIED_naming_the_allowed_roles_and_the_token_s()
    {
        var analyst = fixture.Host.ClientWithToken<FeedbackService.FeedbackServiceClient>(
            CxMeshTestHost.ForgedToken([("sub", "x"), ("role", Roles.Analyst)], signingKey: AuthFixture.LongKey));
        var refused = await RpcAssert.StatusAsync(() => analyst.DeleteImportProfileAsync(new DeleteImportProfileRequest { Name = "any" }).ResponseAsync,
            StatusCode.PermissionDenied);
        Assert.Contains("DeleteImportProfile needs the role admin; the token has analyst.", refused.Status.Detail);
        var info = refused.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>();
        Assert.Equal(("ROLE_NOT_ALLOWED", "admin", "analyst"), (info.Reason, info.Metadata["allowed_roles"], info.Metadata["token_roles"]));
    }

    [Fact]
    public async Task JSON_calls_refused_get_a_status_body_saying_what_was_missing_or_which_roles_are_allowed()
    {
        var http = fixture.Host.Http();
        using var anonymous = await http.GetAsync("/v1/questions");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.Single().Scheme);
        var body = System.Text.Json.JsonDocument.Parse(await anonymous.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(16, body.GetProperty("code").GetInt32());
        Assert.Contains("bearer token", body.GetProperty("message").GetString());
        Assert.Equal("UNAUTHENTICATED", body.GetProperty("details")[0].GetProperty("reason").GetString());

        using var expired = new HttpRequestMessage(HttpMethod.Get, "/v1/questions");
        expired.Headers.Authorization = new("Bearer", CxMeshTestHost.ForgedToken([("sub", "x"), ("role", Roles.Admin)], signingKey: AuthFixture.LongKey, lifetime: TimeSpan.FromHours(-2)));
        using var expiredResponse = await http.SendAsync(expired);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, expiredResponse.StatusCode);
        Assert.Contains("expired", await expiredResponse.Content.ReadAsStringAsync());

        using var partner = new HttpRequestMessage(HttpMethod.Delete, "/v1/import-profiles/any");
        partner.Headers.Authorization = new("Bearer", CxMeshTestHost.ForgedToken([("sub", "x"), ("role", Roles.Partner), (Roles.PartnerIdClaim, "farm")], signingKey: AuthFixture.LongKey));
        using var forbidden = await http.SendAsync(partner);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, forbidden.StatusCode);
        var denied = System.Text.Json.JsonDocument.Parse(await forbidden.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(7, denied.GetProperty("code").GetInt32());
        Assert.Contains("needs the role admin; the token has partner", denied.GetProperty("message").GetString());
        Assert.Equal("admin", denied.GetProperty("details")[0].GetProperty("metadata").GetProperty("allowed_roles").GetString());
    }
}
