using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CxMesh.Deploy.Tests;

/// <summary>
/// The chart as Helm itself sees it: lint --strict, every rendering validated against the Kubernetes (and CRD) schemas
/// offline, the schema's refusals as Helm reports them, and the alerts and dashboards checked by Prometheus' promtool.
/// </summary>
public sealed partial class HelmTests
{
    private static readonly string ChartDir = Yaml.Chart();

    private static readonly string[] Monitoring =
        ["--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.dashboards.enabled=true"];

    /// <summary>The values a platform engineer installs with: the defaults, development, CloudNativePG, Kafka, and full monitoring.</summary>
    public static TheoryData<string> Variants => new("default", "dev", "cloudnativepg", "kafka", "monitoring", "json-logs-off-metrics-off");

    private static string[] ArgsOf(string variant) => variant switch
    {
        "default" => [],
        "dev" => ["-f", Yaml.Chart("values-dev.yaml")],
        "cloudnativepg" => ["--set", "postgres.cloudnativepg.enabled=true"],
        "kafka" => ["--set", "dapr.pubsub.type=kafka", "--set", "services.scoring.autoscaling.enabled=true", "--set", "auth.authority=https://login.example.com"],
        "monitoring" => [.. Monitoring, "--set", "networkPolicy.metricsNamespaceSelector.kubernetes\\.io/metadata\\.name=monitoring"],
        "json-logs-off-metrics-off" => ["--set", "telemetry.logFormat=text", "--set", "metrics.enabled=false", .. Monitoring],
        _ => throw new ArgumentOutOfRangeException(nameof(variant)),
    };

    private static string Render(string variant) =>
        Tools.Succeed(Tools.Helm, ["template", "cxmesh", ChartDir, "--namespace", "cxmesh", .. ArgsOf(variant)]);

    [Theory]
    [MemberData(nameof(Variants))]
    public void Helm_lints_the_chart_strictly(string variant)
    {
        var output = Tools.Succeed(Tools.Helm, ["lint", ChartDir, "--strict", "--namespace", "cxmesh", .. ArgsOf(variant)]);
        Assert.Contains("0 chart(s) failed", output);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Every_rendered_manifest_is_valid_against_the_kubernetes_schemas(string variant)
    {
        var rendered = Render(variant);
        var result = Tools.Run("node", [Tools.ManifestValidator], stdin: rendered);
        Assert.True(result.ExitCode == 0, $"{variant}: {result.Output}");
        Assert.Matches("[1-9][0-9]* manifests checked, 0 problems", result.Stdout);
    }

    [Theory]
    [MemberData(nameof(ChartValuesTests.BadValueFiles), MemberType = typeof(ChartValuesTests))]
    public void Helm_refuses_wrong_values_naming_the_key(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "BadValues", file);
        var key = Regex.Match(File.ReadLines(path).First(), "^# rejects: (.+)$").Groups[1].Value.Trim();
        var result = Tools.Run(Tools.Helm, ["template", "cxmesh", ChartDir, "-f", path]);
        Assert.True(result.ExitCode != 0, $"{file} was accepted");
        Assert.Contains(key.Split('.')[^1], result.Output);
    }

    [Fact]
    public void Monitoring_renders_a_service_monitor_the_alerts_and_three_dashboards_and_nothing_when_metrics_are_off()
    {
        var kinds = Kinds(Render("monitoring"));
        Assert.Contains(("ServiceMonitor", "cxmesh"), kinds);
        Assert.Contains(("PrometheusRule", "cxmesh"), kinds);
        Assert.Contains(("ConfigMap", "cxmesh-dashboards"), kinds);
        var off = Kinds(Render("json-logs-off-metrics-off"));
        Assert.DoesNotContain(off, k => k.Kind is "ServiceMonitor" or "PrometheusRule" || k.Name == "cxmesh-dashboards");
        Assert.DoesNotContain(("ServiceMonitor", "cxmesh"), Kinds(Render("default")));
    }

    [Fact]
    public void The_alert_rules_pass_promtool_and_fire_on_the_situations_of_the_runbook()
    {
        var rules = RulesFile();
        Tools.Succeed(Tools.Promtool, "check", "rules", rules);
        var unitTests = Path.Combine(AppContext.BaseDirectory, "Alerts", "alerts.test.yaml");
        var copy = Path.Combine(Path.GetDirectoryName(rules)!, "alerts.test.yaml");
        File.Copy(unitTests, copy, overwrite: true);
        Tools.Succeed(Tools.Promtool, "test", "rules", copy);
    }

    [Fact]
    public void Every_alert_links_to_a_runbook_entry_that_exists()
    {
        var readme = File.ReadAllText(Yaml.Chart("README.md"));
        var anchors = Heading().Matches(readme).Select(m => Anchor(m.Groups[1].Value)).ToHashSet();
        var rule = PrometheusRule();
        var alerts = rule["spec"]!["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray()).ToList();
        Assert.True(alerts.Count >= 8);
        foreach (var alert in alerts)
        {
            var url = (string)alert!["annotations"]!["runbook_url"]!;
            var anchor = url[(url.IndexOf('#') + 1)..];
            Assert.True(anchors.Contains(anchor), $"{alert["alert"]} links to #{anchor}, which is no heading of charts/cxmesh/README.md");
        }
    }

    [Fact]
    public void Every_metric_the_alerts_and_dashboards_query_is_one_the_services_serve()
    {
        var served = ServedMetricNames();
        var queried = new List<(string Where, string Expr)>();
        queried.AddRange(PrometheusRule()["spec"]!["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray())
            .Select(r => ((string)r!["alert"]!, (string)r["expr"]!)));
        queried.AddRange(Dashboards().SelectMany(d => d.Panels.Select(p => ($"{d.Name}: {p.Title}", p.Expr))));
        foreach (var (where, expr) in queried)
        {
            foreach (Match m in OurMetric().Matches(expr))
            {
                Assert.True(served.Contains(Base(m.Value)), $"{where} queries {m.Value}, which no CxMesh instrument produces");
            }
        }
    }

    [Fact]
    public void Every_dashboard_query_is_valid_promql()
    {
        var groups = Dashboards().Select(d => new JsonObject
        {
            ["name"] = d.Name,
            ["rules"] = new JsonArray([.. d.Panels.Select((p, i) => (JsonNode)new JsonObject
            {
                ["record"] = $"dashboard:query_{i}",
                ["expr"] = p.Expr.Replace("$namespace", "cxmesh", StringComparison.Ordinal),
            })]),
        });
        var file = Path.Combine(Directory.CreateTempSubdirectory("cxmesh-dashboards").FullName, "queries.yaml");
        File.WriteAllText(file, new JsonObject { ["groups"] = new JsonArray([.. groups]) }.ToJsonString());
        Tools.Succeed(Tools.Promtool, "check", "rules", file);
    }

    /// <summary>The rendered PrometheusRule's groups, as a rules file promtool reads.</summary>
    private static string RulesFile()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("cxmesh-rules").FullName, "cxmesh.rules.yaml");
        File.WriteAllText(file, new JsonObject { ["groups"] = PrometheusRule()["spec"]!["groups"]!.DeepClone() }.ToJsonString());
        return file;
    }

    private static JsonNode PrometheusRule()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("cxmesh-render").FullName, "rendered.yaml");
        File.WriteAllText(file, Render("monitoring"));
        return Yaml.LoadAll(file).Single(d => (string?)d?["kind"] == "PrometheusRule")!;
    }

    private static IEnumerable<(string Name, IReadOnlyList<(string Title, string Expr)> Panels)> Dashboards() =>
        Directory.GetFiles(Yaml.Chart("files", "dashboards"), "*.json").Order().Select(f =>
        {
            var json = JsonNode.Parse(File.ReadAllText(f))!;
            var panels = json["panels"]!.AsArray()
                .SelectMany(p => p!["targets"]!.AsArray().Select(t => ((string)p["title"]!, (string)t!["expr"]!))).ToList();
            return (Path.GetFileName(f), (IReadOnlyList<(string, string)>)panels);
        });

    private static List<(string Kind, string Name)> Kinds(string rendered)
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("cxmesh-render").FullName, "rendered.yaml");
        File.WriteAllText(file, rendered);
        return Yaml.LoadAll(file).Where(d => d is not null).Select(d => ((string)d!["kind"]!, (string)d["metadata"]!["name"]!)).ToList();
    }

    /// <summary>The Prometheus names of the instruments the services create (dots become underscores).</summary>
    private static HashSet<string> ServedMetricNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Yaml.RepoRoot, "services"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains("/obj/", StringComparison.Ordinal) || file.Contains("/bin/", StringComparison.Ordinal)) continue;
            foreach (Match m in Instrument().Matches(File.ReadAllText(file))) names.Add(m.Groups[1].Value.Replace('.', '_'));
        }
        return names;
    }

    /// <summary>A queried name without the suffixes the exporter adds (unit, _total, histogram series).</summary>
    private static string Base(string metric) => SuffixPattern().Replace(metric, "");

    private static string Anchor(string heading) =>
        Regex.Replace(heading.Trim().ToLowerInvariant(), "[^a-z0-9 -]", "").Replace(' ', '-');

    [GeneratedRegex(@"\bcxmesh_[a-z_]+")]
    private static partial Regex OurMetric();

    [GeneratedRegex(@"""(cxmesh\.[a-z_]+\.[a-z_.]+)""")]
    private static partial Regex Instrument();

    [GeneratedRegex(@"(_seconds)?(_total|_bucket|_count|_sum)?$")]
    private static partial Regex SuffixPattern();

    [GeneratedRegex(@"^#{2,4} (.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();
}
