using CxMesh.Feedback.Domain.Text;

namespace CxMesh.Feedback.Tests;

/// <summary>
/// Names a customer gives in their own words without contact details, and long numbers that are order numbers rather than
/// cards (examples apart from the evaluation set's, so the rules are not fitted to it).
/// </summary>
public sealed class CuedRedactionTests
{
    [Theory]
    [InlineData("My name is Grace O'Neill and the grinder is broken.", "Grace O'Neill")]
    [InlineData("Hi, I'm Lukas Brandt, my beans never came.", "Lukas Brandt")]
    [InlineData("Hello, this is Amara Nwosu; please call back.", "Amara Nwosu")]
    [InlineData("Great roast. Many thanks, Ahmed", "Ahmed")]
    [InlineData("Late again. Sincerely, Beatriz Costa-Lima", "Beatriz Costa-Lima")]
    [InlineData("Perfect as always — Yuki Tanaka", "Yuki Tanaka")]
    [InlineData("你好，我叫欧阳娜娜，订阅想暂停。", "欧阳娜娜")]
    [InlineData("收货人：郑凯，电话打不通。", "郑凯")]
    [InlineData("本人钱多多，退款还没到账", "钱多多")]
    [InlineData("豆子很香。非常感谢！潘婷", "潘婷")]
    [InlineData("包装有破损——许嵩", "许嵩")]
    public void A_name_the_customer_gives_in_their_words_is_redacted(string text, string name)
    {
        var redacted = Redactor.Redact(text);
        Assert.DoesNotContain(name, redacted, StringComparison.Ordinal);
        Assert.Contains("[name]", redacted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("I'm Very happy with the subscription.")]
    [InlineData("This is The best coffee I have had.")]
    [InlineData("Ask for Kevin at the Soho shop, he knows his beans.")]
    [InlineData("Thanks, the refund arrived.")]
    [InlineData("我是老客户了，这次很失望。")]
    [InlineData("我是第一次买，味道不错。")]
    [InlineData("送货很快，方便。")]
    [InlineData("谢谢！马上就到了")]
    public void Words_that_only_look_like_a_name_are_left_alone(string text) => Assert.Equal(text, Redactor.Redact(text));

    [Theory]
    [InlineData("Order number 4916 3380 2781 0414 still not shipped.", "4916 3380 2781 0414")]
    [InlineData("Ticket #5425233430109903 is open.", "5425233430109903")]
    [InlineData("Tracking no. 6011000990139424, nothing moves.", "6011000990139424")]
    [InlineData("订单号4916338027810414一直没有发货。", "4916338027810414")]
    [InlineData("会员号：5425233430109903", "5425233430109903")]
    [InlineData("Ref 9012345678901238 for your records", "9012345678901238")]
    public void A_long_number_introduced_as_an_order_ticket_or_member_number_is_kept(string text, string number)
    {
        Assert.Contains(number, Redactor.Redact(text), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Charge my card 4916 3380 2781 0414 please.")]
    [InlineData("Order paid by credit card 5425233430109903.")]
    [InlineData("信用卡4916338027810414被多扣了一次。")]
    [InlineData("4916338027810414")]
    [InlineData("Use 3714 496353 98431 next time.")]
    public void A_card_number_is_still_redacted_even_near_an_order(string text) =>
        Assert.Contains("[card]", Redactor.Redact(text), StringComparison.Ordinal);

    [Theory]
    [InlineData("9012345678901238")] // Luhn-valid, but no scheme issues cards starting with 9
    [InlineData("7992739871300")]
    public void A_Luhn_valid_number_no_card_scheme_issues_is_no_card(string number) => Assert.False(Redactor.IsCardPrefix(number) && Redactor.IsLuhn(number));
}
