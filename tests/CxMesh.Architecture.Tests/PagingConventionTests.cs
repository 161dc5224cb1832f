namespace CxMesh.Architecture.Tests;

/// <summary>Every List method pages the same way (AIP-158): page_size and page_token in, next_page_token out.</summary>
public sealed class PagingConventionTests
{
    [Fact]
    public void Every_list_method_takes_page_size_and_page_token_and_returns_next_page_token()
    {
        var services = typeof(CxMesh.Feedback.V1.FeedbackService).Assembly.GetTypes()
            .Select(t => t.GetProperty("Descriptor", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static))
            .Where(p => p?.PropertyType == typeof(Google.Protobuf.Reflection.ServiceDescriptor))
            .Select(p => (Google.Protobuf.Reflection.ServiceDescriptor)p!.GetValue(null)!)
            .ToList();
        var lists = services.SelectMany(s => s.Methods).Where(m => m.Name.StartsWith("List", StringComparison.Ordinal)).ToList();
        Assert.True(lists.Count >= 28, $"{lists.Count} List methods found");
        var problems = new List<string>();
        foreach (var method in lists)
        {
            var size = method.InputType.FindFieldByName("page_size");
            var token = method.InputType.FindFieldByName("page_token");
            var next = method.OutputType.FindFieldByName("next_page_token");
            if (size?.FieldType != Google.Protobuf.Reflection.FieldType.Int32) problems.Add($"{method.FullName}: no int32 page_size");
            if (token?.FieldType != Google.Protobuf.Reflection.FieldType.String) problems.Add($"{method.FullName}: no string page_token");
            if (next?.FieldType != Google.Protobuf.Reflection.FieldType.String) problems.Add($"{method.FullName}: no string next_page_token");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
