namespace CxMesh.Platform.Errors;

/// <summary>The thing asked for does not exist. Mapped to NOT_FOUND.</summary>
public sealed class NotFoundException(string resource, string id)
    : Exception($"{resource} '{(id.Length > 100 ? id[..99] + "…" : id)}' was not found.")
{
    public string Resource { get; } = resource;
    public string Id { get; } = id;
}

/// <summary>The thing to create exists already. Mapped to ALREADY_EXISTS.</summary>
public sealed class AlreadyExistsException(string message) : Exception(message);

/// <summary>
/// A business rule forbids the call in the current state. Mapped to FAILED_PRECONDITION with a
/// google.rpc.ErrorInfo carrying <see cref="Reason"/> (an UPPER_SNAKE identifier callers can switch on).
/// </summary>
public sealed class PreconditionFailedException(string reason, string message, string field, IReadOnlyDictionary<string, string>? metadata = null)
    : Exception(message)
{
    public string Reason { get; } = reason;
    /// <summary>The request field whose value broke the rule (a proto field path).</summary>
    public string Field { get; } = field;
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata ?? new Dictionary<string, string>();
}

/// <summary>A request field broke a rule that only the data layer can check. Mapped to INVALID_ARGUMENT.</summary>
public sealed class FieldViolationException(string field, string description)
    : Exception($"{field}: {description}")
{
    public string Field { get; } = field;
    public string Description { get; } = description;
}
