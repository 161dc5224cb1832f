using System.ComponentModel.DataAnnotations;

namespace CxMesh.Notifications;

public sealed class NotificationsOptions : IValidatableObject
{
    public const string Section = "Notifications";

    /// <summary>The console's public address, for the links in every message (e.g. https://cx.example.com); empty: paths only.</summary>
    public string ConsoleUrl { get; set; } = "";

    /// <summary>Where recipients reach this service's HTTP port (the unsubscribe link); empty: <see cref="ConsoleUrl"/>.</summary>
    public string PublicUrl { get; set; } = "";

    /// <summary>Hosts whose chat webhooks may use plain http or resolve to private addresses (development receivers).</summary>
    public List<string> WebhookAllowList { get; set; } = [];

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(24);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (key, url) in new[] { ("ConsoleUrl", ConsoleUrl), ("PublicUrl", PublicUrl) })
        {
            if (url.Length > 0 && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            {
                yield return new ValidationResult($"Notifications:{key} must be an absolute http(s) URL, not '{url}'.");
            }
        }
        for (var i = 0; i < WebhookAllowList.Count; i++)
        {
            if (Uri.CheckHostName(WebhookAllowList[i]) == UriHostNameType.Unknown)
            {
                yield return new ValidationResult($"Notifications:WebhookAllowList:{i} is '{WebhookAllowList[i]}', which is not a host name or address.");
            }
        }
        if (PollInterval <= TimeSpan.Zero) yield return new ValidationResult("Notifications:PollInterval must be positive.");
        if (Timeout <= TimeSpan.Zero) yield return new ValidationResult("Notifications:Timeout must be positive.");
        if (InitialBackoff <= TimeSpan.Zero) yield return new ValidationResult("Notifications:InitialBackoff must be positive.");
        if (MaxBackoff < InitialBackoff) yield return new ValidationResult("Notifications:MaxBackoff must not be below InitialBackoff.");
        if (GiveUpAfter <= TimeSpan.Zero) yield return new ValidationResult("Notifications:GiveUpAfter must be positive.");
    }

    /// <summary>The base of links into the console (no trailing slash).</summary>
    public string ConsoleBase => ConsoleUrl.TrimEnd('/');

    /// <summary>The base of links to this service (unsubscribe).</summary>
    public string PublicBase => (PublicUrl.Length > 0 ? PublicUrl : ConsoleUrl).TrimEnd('/');
}

/// <summary>The SMTP relay e-mails go through. Without a host, e-mail channels wait (their deliveries fail with that reason).</summary>
public sealed class SmtpOptions : IValidatableObject
{
    public const string Section = "Notifications:Smtp";

    public string Host { get; set; } = "";
    public int Port { get; set; } = 587;
    /// <summary>auto (STARTTLS when offered), none, starttls (required) or tls (implicit, port 465).</summary>
    public string Security { get; set; } = "auto";
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";
    /// <summary>The sender, e.g. cx@example.com.</summary>
    public string From { get; set; } = "";
    public string FromName { get; set; } = "CxMesh";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Host.Length > 0 && From.Length == 0) yield return new ValidationResult("Notifications:Smtp:From is required when Notifications:Smtp:Host is set.");
        if (From.Length > 0 && !System.Net.Mail.MailAddress.TryCreate(From, out _)) yield return new ValidationResult($"Notifications:Smtp:From must be an e-mail address, not '{From}'.");
        if (Port is < 1 or > 65535) yield return new ValidationResult("Notifications:Smtp:Port must be 1-65535.");
        if (Security is not ("auto" or "none" or "starttls" or "tls")) yield return new ValidationResult("Notifications:Smtp:Security must be auto, none, starttls or tls.");
    }
}
