using CxMesh.Platform.Errors;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Platform.Api;

/// <summary>
/// AIP-134 partial updates, one way for every Update method. An <c>update_mask</c> with paths takes only those fields
/// from the request's resource and keeps the stored values of every other; an empty mask (or <c>*</c>) replaces the
/// whole resource, as these methods did before masks existed. The merged resource then goes through the method's own
/// validation, so a partial update is refused exactly where a whole one would be.
/// </summary>
public static class UpdateMasks
{
    private static readonly FieldMask.MergeOptions Replace = new()
    {
        // A named list, message or value is the request's, not a blend with what was stored (AIP-134).
        ReplaceRepeatedFields = true,
        ReplaceMessageFields = true,
        ReplacePrimitiveFields = true,
    };

    /// <summary>Whether the mask asks for a partial update (paths other than the full-replacement <c>*</c>).</summary>
    public static bool IsPartial(FieldMask? mask) => mask is { Paths.Count: > 0 } && mask.Paths is not ["*"];

    private const string Field = "update_mask";

    /// <summary>
    /// The resource to store: <paramref name="requested"/> itself for a full replacement (null when the request has none:
    /// the method's own check names it); otherwise the stored resource (read only then, by the identity the request
    /// names) with the masked fields taken from the request. Unknown paths, <c>*</c> beside other paths and
    /// <paramref name="identity"/> fields (which name the resource and are never changed) are INVALID_ARGUMENT update_mask.
    /// </summary>
    public static async Task<T?> ApplyAsync<T>(FieldMask? mask, T? requested, string resource, Func<T, Task<T>> stored, params string[] identity)
        where T : class, IMessage<T>, new()
    {
        if (!IsPartial(mask)) return requested;
        if (requested is null) throw new FieldViolationException(resource, $"{resource} is required: it names what to update.");
        const string field = Field;
        var descriptor = new T().Descriptor;
        foreach (var path in mask!.Paths)
        {
            if (path == "*") throw new FieldViolationException(field, $"{field}: '*' replaces the whole {descriptor.Name} and cannot be combined with other paths.");
            if (!FieldMask.IsValid(descriptor, path))
            {
                throw new FieldViolationException(field, $"{field}: '{Shown(path)}' is not a field of {descriptor.Name}; its fields are {string.Join(", ", descriptor.Fields.InDeclarationOrder().Select(f => f.Name))}.");
            }
            if (identity.Contains(path.Split('.')[0], StringComparer.Ordinal))
            {
                throw new FieldViolationException(field, $"{field}: '{path}' names the {descriptor.Name} and cannot be changed.");
            }
        }
        var merged = (await stored(requested)).Clone();
        mask.Merge(requested, merged, Replace);
        return merged;
    }

    private static string Shown(string path) => path.Length <= 64 ? path : path[..64] + "…";
}
