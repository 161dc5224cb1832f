using System.Text;

namespace CxMesh.Platform.Errors;

/// <summary>Turns C# property paths from generated proto classes into proto field paths.</summary>
public static class FieldNames
{
    // Validators ask for the names of their members on every item they check: the few member names there are, kept.
    private const int MaxKept = 4096;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Kept = new(StringComparer.Ordinal);

    /// <summary>A member name as its proto field name; the same answer as <see cref="ToProtoPath"/>, remembered.</summary>
    public static string ToProtoName(string memberName)
    {
        if (Kept.TryGetValue(memberName, out var name)) return name;
        name = ToProtoPath(memberName);
        if (Kept.Count < MaxKept) Kept.TryAdd(memberName, name);
        return name;
    }

    /// <summary><c>Ratings[0].QuestionId</c> becomes <c>ratings[0].question_id</c>.</summary>
    public static string ToProtoPath(string propertyPath)
    {
        if (string.IsNullOrEmpty(propertyPath)) return propertyPath;
        var sb = new StringBuilder(propertyPath.Length + 8);
        var startOfSegment = true;
        foreach (var c in propertyPath)
        {
            if (char.IsUpper(c))
            {
                if (!startOfSegment) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
                startOfSegment = false;
            }
            else
            {
                sb.Append(c);
                startOfSegment = c is '.' or '[' or ']';
            }
        }
        return sb.ToString();
    }
}
