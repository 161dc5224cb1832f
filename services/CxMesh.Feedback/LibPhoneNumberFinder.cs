using CxMesh.Feedback.Domain.Text;
using PhoneNumbers;

namespace CxMesh.Feedback;

/// <summary>
/// Phone numbers found with libphonenumber (Google's numbering-plan data): numbers in international form,
/// and national numbers valid in any of the configured regions.
/// </summary>
public sealed class LibPhoneNumberFinder(IReadOnlyList<string> regions) : IPhoneNumberFinder
{
    public static readonly IReadOnlyList<string> DefaultRegions = ["CN", "US", "GB", "DE", "FR"];

    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    public LibPhoneNumberFinder()
        : this(DefaultRegions)
    {
    }

    // No region's numbering plan has valid numbers this short; most verbatims have fewer digits than this in all.
    private const int MinDigits = 5;

    public IEnumerable<(int Start, int Length)> Find(string text)
    {
        var digits = 0;
        foreach (var c in text)
        {
            if (char.IsDigit(c) && ++digits >= MinDigits) break;
        }
        if (digits < MinDigits) yield break;
        var found = new HashSet<(int, int)>();
        foreach (var region in regions)
        {
            foreach (var match in Util.FindNumbers(text, region, PhoneNumberUtil.Leniency.VALID, long.MaxValue))
            {
                if (found.Add((match.Start, match.Length))) yield return (match.Start, match.Length);
            }
        }
    }
}
