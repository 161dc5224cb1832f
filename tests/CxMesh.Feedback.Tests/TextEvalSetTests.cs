using CxMesh.Feedback.Domain.Text;
using CxMesh.TestKit;

namespace CxMesh.Feedback.Tests;

/// <summary>The labelled set text understanding is measured on (tests/text-eval) is what its README says it is.</summary>
public sealed class TextEvalSetTests
{
    private static readonly IReadOnlyList<TextEvalItem> Items = TextEvalSet.Load();

    [Fact]
    public void It_holds_at_least_400_items_half_Chinese_half_English_with_unique_ids()
    {
        Assert.True(Items.Count >= 400, $"{Items.Count} items");
        var english = Items.Count(i => i.Lang == "en");
        var chinese = Items.Count(i => i.Lang == "zh");
        Assert.Equal(Items.Count, english + chinese);
        Assert.True(Math.Abs(english - chinese) <= Items.Count / 20, $"{english} English, {chinese} Chinese");
        Assert.Equal(Items.Count, Items.Select(i => i.Id).Distinct().Count());
        // Labelled by language as the analyser would read the script: Chinese items have Han characters, English ones none.
        Assert.All(Items, i => Assert.Equal(i.Lang == "zh", i.Text.Any(c => c is >= '\u4e00' and <= '\u9fff')));
    }

    [Theory]
    [InlineData("contrast")]
    [InlineData("mixed")]
    [InlineData("negation-scope")]
    [InlineData("negation-raising")]
    [InlineData("double-negation")]
    [InlineData("non-negating")]
    [InlineData("degree")]
    [InlineData("idiom")]
    [InlineData("lexicon-gap")]
    [InlineData("inflection")]
    [InlineData("name")]
    [InlineData("order-number")]
    public void Each_hard_phenomenon_has_at_least_ten_items(string phenomenon) =>
        Assert.True(Items.Count(i => i.Phenomena.Contains(phenomenon)) >= 10, phenomenon);

    [Fact]
    public void Every_label_is_one_the_analyser_can_be_held_to()
    {
        var themes = DefaultTaxonomy.Themes.Select(t => t.Key).ToHashSet();
        Assert.All(Items, i =>
        {
            Assert.Contains(i.Sentiment, (string[])["positive", "negative", "neutral", "mixed"]);
            Assert.NotEmpty(i.Phenomena);
            Assert.All(i.Themes, t => Assert.Contains(t, themes));
            Assert.All(i.Personal.Concat(i.Keep), s => Assert.Contains(s, i.Text, StringComparison.Ordinal));
        });
        Assert.Contains(Items, i => i.Sentiment == "mixed" && i.Lang == "en");
        Assert.Contains(Items, i => i.Sentiment == "mixed" && i.Lang == "zh");
    }
}
