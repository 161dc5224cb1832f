using System.Globalization;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Web.Components.Shared;

/// <summary>
/// Times as the console shows them: in the person's culture, in UTC (the server does not know the browser's zone), and a
/// dash for "never".
/// </summary>
public static class Times
{
    public static string When(Timestamp? at) => at is null ? "—" : When(at.ToDateTimeOffset());

    public static string When(DateTimeOffset at) => at.UtcDateTime.ToString("g", CultureInfo.CurrentCulture) + " UTC";

    public static string Day(Timestamp? at) => at is null ? "—" : at.ToDateTimeOffset().UtcDateTime.ToString("d", CultureInfo.CurrentCulture);
}
