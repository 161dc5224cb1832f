namespace CxMesh.Platform.Auth;

/// <summary>The roles a caller's token may carry (claim <c>role</c>).</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Analyst = "analyst";
    public const string JourneyOwner = "journey-owner";
    public const string App = "app";
    /// <summary>An ecosystem partner; the token also carries a <c>partner_id</c> claim.</summary>
    public const string Partner = "partner";

    public const string PartnerIdClaim = "partner_id";

    public static readonly IReadOnlyList<string> All = [Admin, Analyst, JourneyOwner, App, Partner];
}
