using System.Xml.Linq;

namespace CxMesh.Web.Tests;

/// <summary>Every string of the console exists in English and in Chinese.</summary>
public sealed class StringsTests
{
    private static Dictionary<string, string> Load(string file)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CxMesh.sln"))) dir = dir.Parent;
        var path = Path.Combine(dir!.FullName, "services/CxMesh.Web/Resources", file);
        return XDocument.Load(path).Root!.Elements("data").ToDictionary(d => (string)d.Attribute("name")!, d => (string)d.Element("value")!);
    }

    [Fact]
    public void Every_string_has_an_English_and_a_Chinese_text()
    {
        var en = Load("Strings.resx");
        var zh = Load("Strings.zh-CN.resx");
        Assert.Equal(en.Keys.Order(), zh.Keys.Order());
        Assert.All(en, kv => Assert.False(string.IsNullOrWhiteSpace(kv.Value), kv.Key));
        // Chinese texts are Chinese (a copied English one would slip through): each has a CJK character or is a symbol.
        Assert.All(zh.Where(kv => kv.Value.Any(char.IsLetter)), kv => Assert.True(kv.Value.Any(c => c >= 0x4E00 && c <= 0x9FFF), $"{kv.Key}: '{kv.Value}'"));
    }
}
