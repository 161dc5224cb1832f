using System.Diagnostics;
using CxMesh.Feedback.Domain.Text;
using CxMesh.Feedback.Infrastructure;

namespace CxMesh.Benchmarks;

internal static class FeedbackBenchmarks
{
    // About 300 characters each, with a little personal data to redact, as real verbatims have.
    private const string English =
        "Ordered the Ethiopian single origin on Monday. The beans were fresh and the aroma was lovely, but delivery took four days " +
        "and nobody told me it was late. The box was slightly damaged. Support was friendly and quick to reply; " +
        "call me on +44 20 7946 0958 or mail jane.doe@example.com if you need more.";

    private const string Chinese =
        "周一订了埃塞俄比亚单品咖啡豆，豆子很新鲜，香味很好，但是快递用了四天才到，也没有人通知我延误了。" +
        "盒子有点破损，包装需要改进。客服态度很好，回复也很及时，没有问题。味道比上次好喝，价格也实惠，" +
        "会推荐给朋友。如果需要更多信息，请打我的手机13812345678，或者发邮件到zhang.wei@example.cn。" +
        "希望下次配送能快一点，烘焙日期也能写得更清楚一些，这样我就知道咖啡是不是新鲜的。谢谢！整体体验还是满意的。" +
        "另外，手机应用下单很方便，界面清楚，支付也很顺利。上次的订单漏发了一袋，售后很快就处理了退款，这一点很专业。" +
        "不过等待客服接通用了十几分钟，希望能改进。";

    /// <summary>Redaction, language, sentiment and themes of one verbatim, on one thread: items per second per core.</summary>
    public static void Text(int seconds)
    {
        Console.WriteLine($"# Text analysis alone, one thread (= one core), {seconds} s per language; verbatims of {English.Length} and {Chinese.Length} characters");
        var sentiment = new LexiconSentiment();
        var phones = new LibPhoneNumberFinder();
        foreach (var (name, text) in new[] { ("English", English), ("Chinese", Chinese) })
        {
            for (var i = 0; i < 200; i++) TextAnalyzer.Analyze(text, null, DefaultTaxonomy.Themes, sentiment, phones);
            var count = 0;
            var stopwatch = Stopwatch.StartNew();
            while (stopwatch.Elapsed.TotalSeconds < seconds)
            {
                TextAnalyzer.Analyze(text, null, DefaultTaxonomy.Themes, sentiment, phones);
                count++;
            }
            var analysis = TextAnalyzer.Analyze(text, null, DefaultTaxonomy.Themes, sentiment, phones);
            Console.WriteLine($"{name,-8} {count / stopwatch.Elapsed.TotalSeconds,10:N0} items/s per core  " +
                $"(language {analysis.Language}, sentiment {analysis.Sentiment.Score:+0.00;-0.00}, themes {string.Join(",", analysis.Themes.Select(t => t.ThemeKey))})");
        }
    }
}
