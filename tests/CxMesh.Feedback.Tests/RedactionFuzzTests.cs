using CxMesh.Feedback.Domain.Text;
namespace CxMesh.Feedback.Tests;

public sealed class RedactionFuzzTests
{
    [Fact]
    public void Redaction_leaves_nothing_detectable_in_twenty_thousand_mixed_texts()
    {
        var phones = new LibPhoneNumberFinder();
        var r = new Random(1);
        string[] parts = ["a.b@example.com", "4111 1111 1111 1111", "4111111111111111", "13812345678", "+44 20 7946 0958", "(415) 555-2671", "+86 21 6123 4567", "0049 30 901820", "great coffee", "送货太慢", " ", "order 42", "and", "，", "2026-11-23", "咖啡很香", "12.50"];
        for (var i = 0; i < 20000; i++)
        {
            var text = string.Join(' ', Enumerable.Range(0, r.Next(0, 8)).Select(_ => parts[r.Next(parts.Length)]));
            var red = Redactor.Redact(text, phones: phones);
            var left = Redactor.Detect(red, phones: phones);
            if (left.Count > 0) Assert.Fail($"'{text}' => '{red}' leaves {left[0]} '{red.Substring(left[0].Start, left[0].Length)}'");
        }
    }
}
