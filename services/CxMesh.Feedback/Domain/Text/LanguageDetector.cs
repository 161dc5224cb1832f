namespace CxMesh.Feedback.Domain.Text;

/// <summary>Picks the lexicon by script: Han characters mean Chinese, Latin letters English. Good enough to choose a lexicon.</summary>
public static class LanguageDetector
{
    public const string Chinese = "zh";
    public const string English = "en";
    public const string Undetermined = "und";

    public static string Detect(string text)
    {
        int han = 0, latin = 0;
        foreach (var c in text)
        {
            if (c is >= '\u4e00' and <= '\u9fff' or >= '\u3400' and <= '\u4dbf') han++;
            else if (char.IsAsciiLetter(c)) latin++;
        }
        if (han == 0 && latin == 0) return Undetermined;
        // A Han character carries about a word; Latin words average ~5 letters.
        return han * 5 >= latin ? Chinese : English;
    }
}
