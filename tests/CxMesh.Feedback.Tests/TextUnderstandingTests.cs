using CxMesh.Feedback.Domain.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace CxMesh.Feedback.Tests;

public sealed class RedactionTests
{
    private static readonly LibPhoneNumberFinder Phones = new();

    [Theory]
    [InlineData("Mail me at jane.doe+cx@example.co.uk please", "Mail me at [email] please")]
    [InlineData("Call +44 20 7946 0958 after 5", "Call [phone] after 5")]
    [InlineData("My number is (415) 555-2671.", "My number is [phone].")]
    [InlineData("ring 020 7946 0958 today", "ring [phone] today")]
    [InlineData("手机13812345678，谢谢", "手机[phone]，谢谢")]
    [InlineData("call +86 138 1234 5678 now", "call [phone] now")]
    [InlineData("card 4111 1111 1111 1111 was charged twice", "card [card] was charged twice")]
    [InlineData("身份证号11010519491231002X", "身份证号[national-id]")]
    [InlineData("refund to GB82 WEST 1234 5698 7654 32 thanks", "refund to [iban] thanks")]
    public void Personal_data_is_replaced_by_a_marker(string text, string expected) =>
        Assert.Equal(expected, Redactor.Redact(text, phones: Phones));

    [Theory]
    [InlineData("Order 2026-11-23 cost 12.50 for 3 bags")]
    [InlineData("card 4111 1111 1111 1112 fails the Luhn check")]
    [InlineData("id 110105194912310021 has a bad checksum")]
    [InlineData("order number 12345678")]
    public void Numbers_that_are_not_personal_data_stay(string text) =>
        Assert.Equal(text, Redactor.Redact(text, phones: Phones));

    [Fact]
    public void The_customer_s_own_name_and_contact_details_are_removed()
    {
        var own = new OwnDetails(Name: "Jane Doe", Email: "jd@corp.example", Phone: "020 7946 0000");
        Assert.Equal("[name] here; [name] says the roast was great, write to [email]",
            Redactor.Redact("Jane Doe here; Jane says the roast was great, write to jd@corp.example", own));
        Assert.Equal("我是[name]，咖啡很好", Redactor.Redact("我是张伟，咖啡很好", new OwnDetails(Name: "张伟")));
    }

    private static readonly Gen<string> Email = Gen.Elements("a.b", "jane", "x_y9", "li.wei").SelectMany(u =>
        Gen.Elements("example.com", "mail.cn", "corp.co.uk").Select(d => $"{u}@{d}"));

    private static readonly Gen<string> Card = Gen.Choose(0, int.MaxValue).Select(seed =>
    {
        var r = new Random(seed);
        var digits = new int[16];
        digits[0] = 4;
        for (var i = 1; i < 15; i++) digits[i] = r.Next(10);
        for (var check = 0; check < 10; check++)
        {
            digits[15] = check;
            var s = string.Concat(digits);
            if (Redactor.IsLuhn(s)) return r.Next(2) == 0 ? s : string.Join(' ', s.Chunk(4).Select(c => new string(c)));
        }
        throw new InvalidOperationException();
    });

    private static readonly Gen<string> Mobile = Gen.Choose(3, 9).SelectMany(second => Gen.Choose(0, 99_999_999).Select(rest => $"1{second}{rest % 10}{rest:D8}"));

    private static readonly Gen<string> Phone = Gen.Elements("+44 20 7946 0958", "(415) 555-2671", "+86 21 6123 4567", "0049 30 901820");

    private static readonly Gen<string> Filler = Gen.Elements("great coffee", "送货太慢", " ", "order 42", "and", "，", "2026-11-23", "咖啡很香", "12.50");

    [Property(MaxTest = 300)]
    public Property No_detected_pattern_survives_redaction() =>
        Prop.ForAll(Gen.OneOf(Email, Card, Mobile, Phone, Filler).ListOf().Select(parts => string.Join(' ', parts)).ToArbitrary(), text =>
        {
            var redacted = Redactor.Redact(text, phones: Phones);
            return Redactor.Detect(redacted, phones: Phones).Count == 0;
        });

    [Property(MaxTest = 300)]
    public Property Embedded_emails_cards_and_mobiles_never_appear_in_the_redacted_text() =>
        Prop.ForAll(Email.SelectMany(e => Card.SelectMany(c => Mobile.SelectMany(m => Filler.Select(f => (e, c, m, f))))).ToArbitrary(), parts =>
        {
            var (email, card, mobile, filler) = parts;
            var redacted = Redactor.Redact($"{filler} {email} {filler} {card}，手机{mobile} {filler}", phones: Phones);
            return !redacted.Contains(email) && !redacted.Contains(card) && !redacted.Contains(mobile);
        });
}

public sealed class SentimentAndThemeTests
{
    private static readonly LexiconSentiment Sentiment = new();

    [Theory]
    [InlineData("The coffee was great and arrived fast", "en", Polarity.Positive)]
    [InlineData("not good at all", "en", Polarity.Negative)]
    [InlineData("No problem with the delivery", "en", Polarity.Positive)]
    [InlineData("The beans were stale and the box was damaged", "en", Polarity.Negative)]
    [InlineData("咖啡很好喝", "zh", Polarity.Positive)]
    [InlineData("不好", "zh", Polarity.Negative)]
    [InlineData("没有问题", "zh", Polarity.Positive)]
    [InlineData("快递太慢了，包装破损", "zh", Polarity.Negative)]
    [InlineData("咖啡不新鲜", "zh", Polarity.Negative)]
    [InlineData("I ordered on Monday", "en", Polarity.Neutral)]
    public void Sentiment_reads_negation_as_people_mean_it(string text, string language, Polarity expected) =>
        Assert.Equal(expected, Sentiment.Score(text, language).Polarity);

    [Theory]
    [InlineData("快递太慢了", "zh")]
    [InlineData("Delivery was late", "en")]
    [InlineData("12345", "und")]
    [InlineData("咖啡 coffee 很好", "zh")]
    public void The_language_follows_the_script(string text, string expected) =>
        Assert.Equal(expected, LanguageDetector.Detect(text));

    [Fact]
    public void Themes_are_found_in_Chinese_without_spaces_and_in_English_by_word_start_each_with_its_own_sentiment()
    {
        var zh = ThemeMatcher.Match("咖啡很新鲜，味道很好，但是快递太慢了", "zh", DefaultTaxonomy.Themes, Sentiment);
        Assert.Equal(Polarity.Positive, zh.Single(m => m.ThemeKey == "freshness").Sentiment.Polarity);
        Assert.Equal(Polarity.Positive, zh.Single(m => m.ThemeKey == "taste").Sentiment.Polarity);
        Assert.Equal(Polarity.Negative, zh.Single(m => m.ThemeKey == "delivery").Sentiment.Polarity);

        var en = ThemeMatcher.Match("Lovely aroma. The delivery was two days late and nobody told me!", "en", DefaultTaxonomy.Themes, Sentiment);
        Assert.Contains(en, m => m.ThemeKey == "taste");
        Assert.Equal(Polarity.Negative, en.Single(m => m.ThemeKey == "delivery").Sentiment.Polarity);
        Assert.Contains(en, m => m.ThemeKey == "communication");
        Assert.DoesNotContain(en, m => m.ThemeKey == "price-value");
    }

    [Fact]
    public void Analysis_sees_only_the_redacted_text()
    {
        var analysis = TextAnalyzer.Analyze("Jane here, call me on 13812345678: the beans were stale", new OwnDetails(Name: "Jane"), DefaultTaxonomy.Themes, Sentiment);
        Assert.Equal("[name] here, call me on [phone]: the beans were stale", analysis.RedactedText);
        Assert.Equal("en", analysis.Language);
        Assert.Equal(Polarity.Negative, analysis.Sentiment.Polarity);
        Assert.All(analysis.Themes, t => Assert.DoesNotContain("13812345678", t.Clause));
    }
}

public sealed class TextNormalizerTests
{
    [Theory]
    [InlineData("Great coffee!! Fresh beans.", "great coffee fresh beans")]
    [InlineData("great   coffee   fresh BEANS", "great coffee fresh beans")]
    [InlineData("Café crème", "cafe creme")]
    [InlineData("咖啡很好！", "咖啡很好")]
    [InlineData("ＡＢＣ１２３", "abc123")]
    public void Case_accents_punctuation_spacing_and_width_do_not_matter(string text, string expected) =>
        Assert.Equal(expected, TextNormalizer.Normalize(text));

    [Fact]
    public void Different_words_stay_different() =>
        Assert.NotEqual(TextNormalizer.Normalize("fresh beans"), TextNormalizer.Normalize("stale beans"));
}
