namespace CxMesh.Platform.Telemetry;

/// <summary>Configuration section <c>Telemetry</c>.</summary>
public sealed class TelemetryOptions : System.ComponentModel.DataAnnotations.IValidatableObject
{
    public const string Section = "Telemetry";

    /// <summary>Serve Prometheus metrics at <see cref="MetricsPath"/> on the HTTP port (anonymous: keep the port inside the cluster).</summary>
    public bool Prometheus { get; set; } = true;

    public string MetricsPath { get; set; } = "/metrics";

    /// <summary><c>text</c> (one line per entry, for people) or <c>json</c> (one object per line, with trace and span ids, for log collectors).</summary>
    public string LogFormat { get; set; } = "text";

    /// <summary>How often the pipeline gauges (outbox backlog, parked rows, dead letters, lags) are read from each database.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(15);

    public IEnumerable<System.ComponentModel.DataAnnotations.ValidationResult> Validate(System.ComponentModel.DataAnnotations.ValidationContext validationContext)
    {
        if (!MetricsPath.StartsWith('/') || MetricsPath.Length < 2) yield return new("Telemetry:MetricsPath must be a path such as /metrics.");
        if (LogFormat is not ("text" or "json")) yield return new($"Telemetry:LogFormat must be text or json, got '{LogFormat}'.");
        if (SampleInterval < TimeSpan.FromMilliseconds(100) || SampleInterval > TimeSpan.FromMinutes(10))
        {
            yield return new("Telemetry:SampleInterval must be between 00:00:00.1 and 00:10:00.");
        }
    }
}
