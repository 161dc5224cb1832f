using System.Globalization;
using System.Security.Claims;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Clients;
using CxMesh.Platform.Hosting;
using CxMesh.Web.Calls;
using CxMesh.Web.Components;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using StackExchange.Redis;

namespace CxMesh.Web;

/// <summary>
/// The web module: the CX console, a Blazor app served on the HTTP port. It owns no database; it calls the five
/// services through their gRPC clients with the signed-in person's token, so every rule of theirs holds here too.
/// </summary>
public static class WebModule
{
    public const string Name = "web";
    public const string CookieScheme = "cxmesh-web";
    public const string OidcScheme = "oidc";
    public static readonly CultureInfo[] Cultures = [new("en"), new("zh-CN")];

    public static WebApplicationBuilder AddWebService(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<WebOptions>(WebOptions.Section);
        var web = builder.Configuration.GetSection(WebOptions.Section).Get<WebOptions>() ?? new WebOptions();
        // Served from the build output's manifest when not published (run.sh, tests); a published app has them in wwwroot.
        builder.WebHost.UseStaticWebAssets();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
        builder.Services.AddLocalization();
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddScoped<Person>();
        builder.Services.AddScoped<ConsoleClients>();
        builder.Services.TryAddSingleton(TimeProvider.System);

        // The sign-in cookie and antiforgery tokens are sealed with keys every replica shares (in Redis; lost keys only
        // mean signing in again).
        builder.Services.AddDataProtection().SetApplicationName("cxmesh-console");
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IConnectionMultiplexer, IConfiguration>((o, redis, configuration) =>
            o.XmlRepository = new RedisXmlRepository(() => redis.GetDatabase(), $"{configuration["Redis:KeyPrefix"] ?? "cxmesh"}:console:data-protection-keys"));

        var authentication = builder.Services.AddAuthentication().AddCookie(CookieScheme, o =>
        {
            o.Cookie.Name = "cxmesh-console";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.LoginPath = "/signin";
            o.AccessDeniedPath = "/signin";
            o.ExpireTimeSpan = web.SessionLifetime;
            o.SlidingExpiration = false;
        });
        if (web.Oidc)
        {
            authentication.AddOpenIdConnect(OidcScheme, o =>
            {
                o.SignInScheme = CookieScheme;
                o.Authority = web.OidcAuthority;
                o.ClientId = web.OidcClientId;
                o.ClientSecret = web.OidcClientSecret;
                o.ResponseType = "code";
                o.UsePkce = true;
                o.SaveTokens = false;
                o.MapInboundClaims = false;
                foreach (var scope in web.OidcScopes) o.Scope.Add(scope);
                o.Events.OnTokenValidated = context =>
                {
                    // The services are called with the access token: the cookie keeps it, with who the token says the person is.
                    var access = context.TokenEndpointResponse?.AccessToken;
                    if (string.IsNullOrEmpty(access))
                    {
                        context.Fail("the identity provider gave no access token for CxMesh (add its API scope to Web:OidcScopes).");
                        return Task.CompletedTask;
                    }
                    var name = context.Principal?.FindFirst("name")?.Value ?? context.Principal?.FindFirst("preferred_username")?.Value;
                    context.Principal = new ClaimsPrincipal(WebClaims.IdentityOf(access, name, CookieScheme));
                    return Task.CompletedTask;
                };
            });
        }

        // The services, called as the signed-in person.
        static Task<string?> PersonToken(IServiceProvider sp) => sp.GetRequiredService<Person>().TokenAsync();
        builder.AddServiceClient<CxMesh.Journey.V1.JourneyService.JourneyServiceClient>("journey", PersonToken, ConsoleClients.NameOf<CxMesh.Journey.V1.JourneyService.JourneyServiceClient>());
        builder.AddServiceClient<CxMesh.Feedback.V1.FeedbackService.FeedbackServiceClient>("feedback", PersonToken, ConsoleClients.NameOf<CxMesh.Feedback.V1.FeedbackService.FeedbackServiceClient>());
        builder.AddServiceClient<CxMesh.Scoring.V1.ScoringService.ScoringServiceClient>("scoring", PersonToken, ConsoleClients.NameOf<CxMesh.Scoring.V1.ScoringService.ScoringServiceClient>());
        builder.AddServiceClient<CxMesh.Partner.V1.PartnerService.PartnerServiceClient>("partner", PersonToken, ConsoleClients.NameOf<CxMesh.Partner.V1.PartnerService.PartnerServiceClient>());
        builder.AddServiceClient<CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient>("governance", PersonToken, ConsoleClients.NameOf<CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient>());
        builder.AddServiceClient<CxMesh.Notifications.V1.NotificationService.NotificationServiceClient>("notifications", PersonToken, ConsoleClients.NameOf<CxMesh.Notifications.V1.NotificationService.NotificationServiceClient>());
        return builder;
    }

    public static WebApplication MapWebService(this WebApplication app)
    {
        app.UseRequestLocalization(new RequestLocalizationOptions
        {
            DefaultRequestCulture = new RequestCulture("en"),
            SupportedCultures = Cultures,
            SupportedUICultures = Cultures,
            // A person's choice (cookie) first, then the browser's languages.
            RequestCultureProviders = [new CookieRequestCultureProvider(), new AcceptLanguageHeaderRequestCultureProvider()],
        });
        app.UseAntiforgery();
        // The build's or the publish's manifest of static assets (MudBlazor's, the console's, the framework's script). A host
        // built as another application (a test host) has none: it serves the APIs, not the console's pages.
        if (File.Exists(Path.Combine(AppContext.BaseDirectory, $"{app.Environment.ApplicationName}.staticwebassets.endpoints.json")))
        {
            app.MapStaticAssets().AllowAnonymous();
        }
        var console = app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        // Pages and the circuit's hub need a signed-in person (the cookie); the framework's scripts are for everyone.
        console.Add(endpoint =>
        {
            var framework = endpoint is RouteEndpointBuilder { RoutePattern.RawText: { } route } && route.TrimStart('/').StartsWith("_framework/", StringComparison.Ordinal);
            endpoint.Metadata.Add(framework ? new AllowAnonymousAttribute() : new AuthorizeAttribute { AuthenticationSchemes = CookieScheme });
        });

        app.MapGet("/feedback/export.csv", CxMesh.Web.Pages.Feedback.FeedbackCsv.ExportAsync)
            .RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = CookieScheme });
        app.MapGet("/portal/reports/{reportId}/download.{format}", CxMesh.Web.Pages.Portal.ReportDownload.DownloadAsync)
            .RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = CookieScheme });
        app.MapPost("/signin/development", async (HttpContext http, [FromForm] string person, [FromForm] string? returnUrl, [FromForm] string? sessionSeconds,
            IOptions<WebOptions> web, IOptions<AuthOptions> auth) =>
        {
            var who = DevelopmentTokens.People.FirstOrDefault(p => p.Name == person && ConsolePeople.Contains(p.Name));
            if (!web.Value.DevelopmentSignIn || who.Name is null) return Results.Redirect("/signin?error=unknown");
            // A developer may ask for a short session, to see what happens when one ends (never longer than the configured one).
            var lifetime = int.TryParse(sessionSeconds, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? TimeSpan.FromSeconds(Math.Clamp(s, 10, (int)web.Value.SessionLifetime.TotalSeconds)) : web.Value.SessionLifetime;
            var token = DevelopmentTokens.Create(auth.Value, who.Role, who.Subject, who.PartnerId, lifetime);
            await http.SignInAsync(CookieScheme, new ClaimsPrincipal(WebClaims.IdentityOf(token, who.Subject, CookieScheme)),
                new AuthenticationProperties { ExpiresUtc = DateTimeOffset.UtcNow + lifetime });
            // A partner's user belongs in the supplier portal, whatever page they came from.
            return Results.LocalRedirect(who.Role == Roles.Partner && !LocalOrHome(returnUrl).StartsWith("/portal", StringComparison.Ordinal) ? "/portal" : LocalOrHome(returnUrl));
        }).AllowAnonymous();
        // A page whose session ended keeps what the person typed: they sign in again in another tab, and the page's circuit
        // takes the new token from here (sealed for the server: the browser's script only carries it across).
        app.MapGet("/session/renew", (HttpContext http, IDataProtectionProvider protection) =>
        {
            http.Response.Headers.CacheControl = "no-store";
            var user = http.User;
            var token = user.FindFirst(WebClaims.AccessToken)?.Value;
            if (token is null) return Results.Unauthorized();
            return Results.Json(new { @sealed = SessionRenewal.Seal(protection, token, user.Identity?.Name) });
        }).RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = CookieScheme });
        app.MapGet("/signin/oidc", (string? returnUrl, IOptions<WebOptions> web) => web.Value.Oidc
            ? Results.Challenge(new AuthenticationProperties { RedirectUri = LocalOrHome(returnUrl) }, [OidcScheme])
            : Results.Redirect("/signin")).AllowAnonymous();
        app.MapPost("/signout", async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieScheme);
            return Results.LocalRedirect("/signin");
        }).AllowAnonymous();
        app.MapGet("/culture/{name}", (HttpContext http, string name, string? returnUrl) =>
        {
            if (Cultures.Any(c => c.Name == name))
            {
                http.Response.Cookies.Append(CookieRequestCultureProvider.DefaultCookieName,
                    CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(name)),
                    new CookieOptions { MaxAge = TimeSpan.FromDays(365), HttpOnly = true, SameSite = SameSiteMode.Lax, IsEssential = true });
            }
            return Results.LocalRedirect(LocalOrHome(returnUrl));
        }).AllowAnonymous();
        return app;
    }

    /// <summary>
    /// Who may sign in in development: the programme's people (to the console) and the demo partners' users (to the
    /// supplier portal); the app is no person.
    /// </summary>
    public static readonly IReadOnlySet<string> ConsolePeople = new HashSet<string>(["admin", "approver", "analyst", "journey-owner", "partner", "farm"], StringComparer.Ordinal);

    private static string LocalOrHome(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/";
}
