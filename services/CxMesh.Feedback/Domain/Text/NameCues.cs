using System.Text.RegularExpressions;

namespace CxMesh.Feedback.Domain.Text;

/// <summary>
/// A customer's own name in their words when no contact details came with it: introduced ("my name is", "I'm", "this is",
/// 我叫, 我是, 本人, 收货人, 联系人, 落款) or signed ("Thanks, Jane Doe", "Regards, …", "- Jane Doe" at the end, "谢谢！王芳",
/// "——孙丽"). English names are one to three capitalised words; Chinese names a common surname and one or two characters.
/// Staff named in passing ("ask for Kevin") are not the customer and stay.
/// </summary>
public static partial class NameCues
{
    private const string EnglishName = @"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?(?:[ ]+[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?){0,2}";

    // The most common surnames, leaving out those that often begin an ordinary word at the end of a comment (方便, 马上, 高兴…).
    private const string Surnames = "王李张刘陈杨赵黄周吴徐孙胡朱郭林罗梁宋郑谢韩唐冯董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛阎潘杜戴钟汪姜范姚谭廖邹熊陆郝孔崔邱秦顾侯邵孟段钱汤尹贺赖龚欧司";

    [GeneratedRegex(@"(?i:\bmy name is|\bmy name's|\bi am|\bi'm|\bthis is|\bit's)[ ]+(?<n>" + EnglishName + ")")]
    private static partial Regex EnglishIntroduced();

    [GeneratedRegex(@"(?i:\bthanks|\bthank you|\bregards|\bbest wishes|\bcheers|\bsincerely|\byours truly|\bmany thanks)(?:[ ]+(?i:from))?[ ]*[,!.:]?[ ]+(?<n>" + EnglishName + @")(?=[ ]*(?:[.!,;]|$))")]
    private static partial Regex EnglishSigned();

    [GeneratedRegex(@"(?:^|\s)[-–—]+[ ]*(?<n>" + EnglishName + @")[ ]*[.!]?[ ]*$")]
    private static partial Regex EnglishDashSigned();

    private const string ChineseName = "(?:欧阳|司马|诸葛|上官|东方|皇甫|令狐|[" + Surnames + @"])[\u4e00-\u9fff]{1,2}";

    [GeneratedRegex(@"(?:我叫|我是|本人|收货人|联系人|落款|署名|姓名)[:：]?[ ]*(?<n>" + ChineseName + ")")]
    private static partial Regex ChineseIntroduced();

    [GeneratedRegex(@"(?:(?:谢谢|感谢|多谢)[^。！!？?]{0,6}[！!。，,]|——|—|－－)[ ]*(?<n>" + ChineseName + @")[ ]*[。！!]?[ ]*$")]
    private static partial Regex ChineseSigned();

    // Words that open a sentence in capitals but are no name ("I'm Very happy", "This is Great").
    private static readonly HashSet<string> NotNames = new(
        "The A An Very Really So Not Just Still Great Good Happy Sorry Back Here Again Now Also Quite Pretty Absolutely Totally Very Extremely Never Always Your Our My Their It This That There What".Split(' '),
        StringComparer.Ordinal);

    // Characters that end a Chinese name the pattern took too far (我叫李明我的… → 李明).
    private const string NotInNames = "我的了是想要在和也都还就请您你他她们吗呢吧啊，。！？";

    public static IEnumerable<(int Start, int Length)> Find(string text)
    {
        foreach (var pattern in (Regex[])[EnglishIntroduced(), EnglishSigned(), EnglishDashSigned()])
        {
            foreach (Match m in pattern.Matches(text))
            {
                var name = m.Groups["n"];
                var words = name.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (NotNames.Contains(words[0])) continue;
                yield return (name.Index, name.Length);
            }
        }
        foreach (var pattern in (Regex[])[ChineseIntroduced(), ChineseSigned()])
        {
            foreach (Match m in pattern.Matches(text))
            {
                var name = m.Groups["n"];
                var length = name.Length;
                for (var i = 1; i < name.Length; i++)
                {
                    if (NotInNames.Contains(name.Value[i], StringComparison.Ordinal))
                    {
                        length = i;
                        break;
                    }
                }
                if (length >= 2) yield return (name.Index, length);
            }
        }
    }
}
