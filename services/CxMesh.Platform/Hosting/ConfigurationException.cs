namespace CxMesh.Platform.Hosting;

/// <summary>A missing or malformed setting. Stops the process at start-up with a message naming the key.</summary>
public sealed class ConfigurationException(string key, string problem) : Exception($"Configuration error: {key} {problem}")
{
    public string Key { get; } = key;
}
