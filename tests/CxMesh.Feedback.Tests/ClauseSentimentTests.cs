using CxMesh.Feedback.Domain.Text;
using CxMesh.TestKit;

namespace CxMesh.Feedback.Tests;

/// <summary>Sentiment v2 (#17): clauses, contrast and MIXED, negation that reaches and negations that are not, degree, idioms.</summary>
public sealed class ClauseSentimentTests
{
    private static readonly LexiconSentiment Sentiment = new();

    [Theory]
    // contrast: both sides clear → mixed; a hedge before "but" gives way to what follows
    [InlineData("The barista was lovely but the latte was cold and bitter.", "en", Polarity.Mixed)]
    [InlineData("店员很热情，但是拿铁是凉的，还很苦。", "zh", Polarity.Mixed)]
    [InlineData("Although the app is easy, the wait for my order was terrible.", "en", Polarity.Mixed)]
    [InlineData("虽然下单很方便，但是等了太久。", "zh", Polarity.Mixed)]
    [InlineData("It took a while to get used to, but now I love the taste.", "en", Polarity.Positive)]
    [InlineData("虽然排队很久，但是咖啡很好喝，值得等。", "zh", Polarity.Positive)]
    [InlineData("I wanted to like it, but it is overpriced and disappointing.", "en", Polarity.Negative)]
    // a contrast whose stressed clause the lexicons cannot read still goes against what it concedes
    [InlineData("Great barista, but the machine sat idle for ten minutes.", "en", Polarity.Mixed)]
    [InlineData("店员很热情，可是队伍一动不动。", "zh", Polarity.Mixed)]
    // mixed without a marker
    [InlineData("Delicious coffee. Terrible packaging.", "en", Polarity.Mixed)]
    [InlineData("咖啡很好喝。包装太差。", "zh", Polarity.Mixed)]
    // negation reaches to the sentiment word, however far; and raising
    [InlineData("我不认为这次服务很好", "zh", Polarity.Negative)]
    [InlineData("I don't think the service was good.", "en", Polarity.Negative)]
    [InlineData("I don't think the staff care at all.", "en", Polarity.Negative)]
    [InlineData("我不觉得快递员有认真对待我的包裹。", "zh", Polarity.Negative)]
    [InlineData("Nobody answered my emails for a week.", "en", Polarity.Negative)]
    [InlineData("发了好几条消息都没有人回复。", "zh", Polarity.Negative)]
    // a spent negation does not reverse what follows it
    [InlineData("I was not kept well informed about the delay.", "en", Polarity.Negative)]
    // non-negating
    [InlineData("Not only was delivery quick, it was beautifully packed too.", "en", Polarity.Positive)]
    [InlineData("不仅送货快，包装也很漂亮。", "zh", Polarity.Positive)]
    [InlineData("味道不错。", "zh", Polarity.Positive)]
    [InlineData("没想到这么快就到了，太棒了。", "zh", Polarity.Positive)]
    [InlineData("No wonder everyone recommends them.", "en", Polarity.Positive)]
    // double negation
    [InlineData("Not unreasonable for the price.", "en", Polarity.Positive)]
    [InlineData("这个价格并非不合理。", "zh", Polarity.Positive)]
    [InlineData("他们没有一次不回复我的。", "zh", Polarity.Positive)]
    // idioms
    [InlineData("I couldn't be happier with my order.", "en", Polarity.Positive)]
    [InlineData("Nothing to complain about.", "en", Polarity.Positive)]
    [InlineData("简直不能再满意了。", "zh", Polarity.Positive)]
    [InlineData("挑不出毛病。", "zh", Polarity.Positive)]
    // degree: a diminished negative stays negative, 好 before a sentiment word is "so"
    [InlineData("The coffee was a bit bitter.", "en", Polarity.Negative)]
    [InlineData("店员有点不耐烦。", "zh", Polarity.Negative)]
    [InlineData("等了好久。", "zh", Polarity.Negative)]
    // words that only contain a sentiment character
    [InlineData("快递员周五送到的。", "zh", Polarity.Neutral)]
    [InlineData("差不多十点到的。", "zh", Polarity.Neutral)]
    public void Reads_the_hard_phenomena_as_people_mean_them(string text, string language, Polarity expected) =>
        Assert.Equal(expected, Sentiment.Score(text, language).Polarity);

    [Fact]
    public void A_theme_mention_takes_the_sentiment_of_its_own_clause_not_of_the_sentence()
    {
        var mentions = ThemeMatcher.Match("The barista was lovely but the coffee tasted bitter.", "en", DefaultTaxonomy.Themes, Sentiment);
        Assert.Equal(Polarity.Positive, mentions.Single(m => m.ThemeKey == "staff-friendliness").Sentiment.Polarity);
        Assert.Equal(Polarity.Negative, mentions.Single(m => m.ThemeKey == "taste").Sentiment.Polarity);

        var zh = ThemeMatcher.Match("店员很热情但是咖啡太苦了", "zh", DefaultTaxonomy.Themes, Sentiment);
        Assert.Equal(Polarity.Positive, zh.Single(m => m.ThemeKey == "staff-friendliness").Sentiment.Polarity);
        Assert.Equal(Polarity.Negative, zh.Single(m => m.ThemeKey == "taste").Sentiment.Polarity);
    }

    [Theory]
    [InlineData("They replied within the hour.", "communication")]
    [InlineData("Both parcels arriving on the same day was handy.", "delivery")]
    [InlineData("The grinder broke after two uses.", "product-quality")]
    [InlineData("They refunded me the same day.", "problem-resolution")]
    [InlineData("Everything was carefully packed.", "packaging")]
    [InlineData("I returned it twice.", "problem-resolution")]
    public void English_keywords_find_their_inflected_forms(string text, string theme) =>
        Assert.Contains(theme, ThemeMatcher.Match(text, "en", DefaultTaxonomy.Themes, Sentiment).Select(m => m.ThemeKey));

    [Theory]
    // A keyword written inflected means that form: "ordering" is the ordering process, not every order.
    [InlineData("Second order this month.", "ease-of-use")]
    // Generic words give way to a specific one in the same clause.
    [InlineData("The courier dumped the box in the rain.", "packaging")]
    [InlineData("The parcels were delayed twice.", "waiting-time")]
    [InlineData("快递员把箱子扔在门口。", "packaging")]
    [InlineData("很快就给我退了钱。", "price-value")]
    public void Generic_or_inflected_words_do_not_add_a_wrong_theme(string text, string theme)
    {
        var language = LanguageDetector.Detect(text);
        Assert.DoesNotContain(theme, ThemeMatcher.Match(text, language, DefaultTaxonomy.Themes, Sentiment).Select(m => m.ThemeKey));
    }

    [Theory]
    [InlineData("The box was crushed.", "packaging")]
    [InlineData("Great coffee!", "taste")]
    [InlineData("服务非常好。", "staff-friendliness")]
    public void A_generic_word_alone_still_names_its_theme(string text, string theme)
    {
        var language = LanguageDetector.Detect(text);
        Assert.Contains(theme, ThemeMatcher.Match(text, language, DefaultTaxonomy.Themes, Sentiment).Select(m => m.ThemeKey));
    }

    [Fact]
    public void The_labelled_set_reaches_the_theme_target()
    {
        long tp = 0, fp = 0, fn = 0;
        foreach (var item in TextEvalSet.Load())
        {
            var redacted = Redactor.Redact(item.Text, phones: new LibPhoneNumberFinder());
            var found = ThemeMatcher.Match(redacted, LanguageDetector.Detect(redacted), DefaultTaxonomy.Themes, Sentiment).Select(m => m.ThemeKey).ToHashSet();
            tp += found.Count(item.Themes.Contains);
            fp += found.Count(t => !item.Themes.Contains(t));
            fn += item.Themes.Count(t => !found.Contains(t));
        }
        double precision = (double)tp / (tp + fp), recall = (double)tp / (tp + fn);
        Assert.True(2 * precision * recall / (precision + recall) >= 0.93, $"micro-F1 {2 * precision * recall / (precision + recall):0.000}");
    }

    [Fact]
    public void Clauses_cover_the_text_with_the_contrast_weights()
    {
        const string text = "Although the app is easy, the wait was terrible.";
        var analysis = Sentiment.Analyze(text, "en");
        Assert.Equal(2, analysis.Clauses.Count);
        Assert.Equal(" the app is easy", text.Substring(analysis.Clauses[0].Start, analysis.Clauses[0].Length));
        Assert.Equal(0.5, analysis.Clauses[0].Weight);
        Assert.Equal(1.5, analysis.Clauses[1].Weight);
        Assert.Equal(Polarity.Positive, analysis.Clauses[0].Sentiment.Polarity);
        Assert.Equal(Polarity.Negative, analysis.Clauses[1].Sentiment.Polarity);
    }

    [Fact]
    public void Empty_and_punctuation_only_texts_are_neutral_without_clauses()
    {
        foreach (var text in new[] { "", "   ", "!!!", "，。", "----" })
        {
            var analysis = Sentiment.Analyze(text, "en");
            Assert.Equal(Polarity.Neutral, analysis.Overall.Polarity);
            Assert.Equal(Polarity.Neutral, Sentiment.Analyze(text, "zh").Overall.Polarity);
        }
    }

    [Fact]
    public void Every_score_stays_between_minus_one_and_one_and_every_clause_inside_the_text()
    {
        var texts = TextEvalSet.Load().Select(i => (i.Text, i.Lang)).Concat(
        [
            (new string('!', 5000), "en"), (string.Concat(Enumerable.Repeat("terrible ", 2000)), "en"), (string.Concat(Enumerable.Repeat("不", 3000)), "zh"),
            ("but but but however although", "en"), ("但是但是虽然不过", "zh"), ("n't n't not", "en"), ("\uD83D\uDE00 \u0000 \uFFFF", "en"),
        ]);
        foreach (var (text, lang) in texts)
        {
            var analysis = Sentiment.Analyze(text, lang);
            Assert.InRange(analysis.Overall.Score, -1, 1);
            Assert.All(analysis.Clauses, c =>
            {
                Assert.InRange(c.Start, 0, text.Length);
                Assert.InRange(c.Start + c.Length, c.Start, text.Length);
                Assert.InRange(c.Sentiment.Score, -1, 1);
            });
        }
    }

    /// <summary>The labelled set's figures as the issue asks them, so a change that loses ground fails here and not only in the benchmark.</summary>
    [Fact]
    public void The_labelled_set_reaches_the_targets_overall_and_on_every_phenomenon()
    {
        var items = TextEvalSet.Load();
        var right = items.Select(i => (i, Right: Label(Sentiment.Score(Redactor.Redact(i.Text, phones: new LibPhoneNumberFinder()), i.Lang).Polarity) == i.Sentiment)).ToList();
        Assert.True(right.Count(r => r.Right) >= 0.9 * items.Count, $"overall {right.Count(r => r.Right)}/{items.Count}");
        foreach (var phenomenon in new[] { "contrast", "mixed", "negation-scope", "negation-raising", "double-negation", "non-negating", "degree", "idiom", "lexicon-gap" })
        {
            var of = right.Where(r => r.i.Phenomena.Contains(phenomenon)).ToList();
            Assert.True(of.Count(r => r.Right) >= 0.85 * of.Count, $"{phenomenon}: {of.Count(r => r.Right)}/{of.Count}");
        }
    }

    private static string Label(Polarity polarity) => polarity.ToString().ToLowerInvariant();
}
