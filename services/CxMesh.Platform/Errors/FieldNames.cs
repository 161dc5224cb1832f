using System.Text;

namespace CxMesh.Platform.Errors;

/// <summary>Turns C# property paths from generated proto classes into proto field paths.</summary>
public static class FieldNames
{
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
