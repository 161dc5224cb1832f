namespace CxMesh.TestKit;

/// <summary>Builds a variant of a valid request in one expression: <c>Change.With(Valid(), r =&gt; r.Kind = ...)</c>.</summary>
public static class Change
{
    public static T With<T>(T value, Action<T> change)
    {
        change(value);
        return value;
    }
}
