using System.Globalization;
using CsvHelper.Configuration;

namespace CxMesh.Platform.Api;

/// <summary>
/// How every CSV CxMesh writes is configured: a cell starting with =, +, -, @, tab or CR is escaped with a leading
/// apostrophe (and quoted), so a spreadsheet opening a download or a rejection file shows it as text instead of
/// running it as a formula.
/// </summary>
public static class SafeCsv
{
    public static CsvConfiguration Configuration { get; } = new(CultureInfo.InvariantCulture)
    {
        InjectionOptions = InjectionOptions.Escape,
        NewLine = "\r\n",
    };
}
