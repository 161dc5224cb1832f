using System.Reflection;
using CxMesh.Host;
using CxMesh.TestKit;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NetArchTest.Rules;

namespace CxMesh.Architecture.Tests;

/// <summary>The boundaries CONVENTIONS.md sets, kept by tests rather than by review.</summary>
public sealed class ArchitectureTests
{
    public static IReadOnlyList<Assembly> ServiceAssemblies { get; } =
        CxMeshTestHost.MigrationAssemblies.Values.Distinct().ToList();

    public static TheoryData<string> Services => new(ServiceAssemblies.Select(a => a.GetName().Name!));

    /// <summary>The service assemblies and the web module's, which owns no database.</summary>
    public static IReadOnlyList<Assembly> ModuleAssemblies { get; } = [.. ServiceAssemblies, typeof(CxMesh.Web.WebModule).Assembly];

    public static TheoryData<string> Modules_ => new(ModuleAssemblies.Select(a => a.GetName().Name!));

    private static Assembly Service(string name) => ModuleAssemblies.Single(a => a.GetName().Name == name);

    [Fact]
    public void Every_hosted_module_has_an_assembly_under_test() =>
        Assert.Equal(Modules.All.Count, ModuleAssemblies.Count);

    /// <summary>
    /// The web module is a client like any internal app: no service's code, no database, no cache of its own, no events.
    /// Its wiring alone names Redis, where the replicas share the keys that seal sign-in cookies.
    /// </summary>
    [Fact]
    public void The_web_module_calls_the_services_and_reads_no_database()
    {
        var web = typeof(CxMesh.Web.WebModule).Assembly;
        var referenced = web.GetReferencedAssemblies().Select(r => r.Name!).ToList();
        Assert.Empty(referenced.Intersect(ServiceAssemblies.Select(a => a.GetName().Name!)));
        Assert.DoesNotContain(referenced, r => r is "Npgsql" or "Dapper");
        var result = Types.InAssembly(web).Should().NotHaveDependencyOnAny("CxMesh.Platform.Postgres", "CxMesh.Platform.Redis", "CxMesh.Platform.Messaging").GetResult();
        Assert.True(result.IsSuccessful, $"web types touching data or events: {string.Join(", ", result.FailingTypeNames ?? [])}");
        var redis = Types.InAssembly(web).That().DoNotHaveName(nameof(CxMesh.Web.WebModule)).ShouldNot().HaveDependencyOn("StackExchange.Redis").GetResult();
        Assert.True(redis.IsSuccessful, $"web types using Redis: {string.Join(", ", redis.FailingTypeNames ?? [])}");
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void Domain_code_references_nothing_but_the_BCL(string service)
    {
        var assembly = Service(service);
        var domain = $"{service}.Domain";
        var result = Types.InAssembly(assembly).That().ResideInNamespace(domain)
            .Should().OnlyHaveDependenciesOn("System", domain)
            .GetResult();
        Assert.True(result.IsSuccessful, $"{domain} depends on more than the BCL: {string.Join(", ", result.FailingTypeNames ?? [])}");
        Assert.NotEmpty(Types.InAssembly(assembly).That().ResideInNamespace(domain).GetTypes());
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void No_service_references_another_service(string service)
    {
        var others = ServiceAssemblies.Select(a => a.GetName().Name!).Where(n => n != service).ToArray();
        var referenced = Service(service).GetReferencedAssemblies().Select(r => r.Name);
        Assert.Empty(referenced.Intersect(others));

        // By the other services' own types: their contracts (CxMesh.Scoring.V1 ...) live in CxMesh.Contracts and are shared.
        var theirTypes = others.SelectMany(o => Service(o).GetTypes()).Select(t => t.FullName!).Where(n => !n.Contains('<')).ToArray();
        var result = Types.InAssembly(Service(service)).ShouldNot().HaveDependencyOnAny(theirTypes).GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void Every_RPC_declares_the_roles_it_allows(string service)
    {
        var grpcServices = Service(service).GetTypes()
            .Where(t => t.BaseType?.GetCustomAttribute<BindServiceMethodAttribute>() is not null)
            .ToList();
        Assert.NotEmpty(grpcServices);
        foreach (var type in grpcServices)
        {
            var rpcs = type.BaseType!.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).Where(m => m.IsVirtual);
            foreach (var rpc in rpcs)
            {
                var implementation = type.GetMethod(rpc.Name, rpc.GetParameters().Select(p => p.ParameterType).ToArray());
                Assert.True(implementation is not null && implementation.DeclaringType == type, $"{type.Name} does not implement {rpc.Name}");
                var authorize = implementation!.GetCustomAttribute<AuthorizeAttribute>();
                Assert.True(!string.IsNullOrWhiteSpace(authorize?.Roles), $"{type.Name}.{rpc.Name} declares no roles");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void Each_service_has_the_same_shape(string service)
    {
        var assembly = Service(service);
        var area = service["CxMesh.".Length..];
        Assert.NotNull(assembly.GetType($"{service}.{area}Module"));
        Assert.Contains(assembly.GetTypes(), t => t.Namespace == $"{service}.Api" && t.Name == $"{area}GrpcService");
        Assert.Contains(assembly.GetManifestResourceNames(), n => n.Contains(".Data.Migrations.") && n.EndsWith(".sql"));
        Assert.NotNull(assembly.GetType($"{service}.{area}Options"));
        foreach (var folder in Folders)
        {
            Assert.True(assembly.GetTypes().Any(t => t.Namespace == $"{service}.{folder}"), $"{service} has nothing in {folder}/");
        }
        var elsewhere = assembly.GetTypes()
            .Where(t => t.Namespace is { } ns && ns.StartsWith(service + ".", StringComparison.Ordinal) && !ns.StartsWith("CxMesh.Events", StringComparison.Ordinal))
            .Select(t => t.Namespace!.Split('.')[2])
            .Where(f => !Folders.Contains(f) && f != "V1")
            .Distinct().ToList();
        Assert.True(elsewhere.Count == 0, $"{service} has folders outside the shape: {string.Join(", ", elsewhere)}");
    }

    /// <summary>The folders of every service, in the order a request passes them.</summary>
    private static readonly string[] Folders = ["Api", "UseCases", "Domain", "Data", "Events", "Workers"];

    /// <summary>
    /// SQL lives in Data/ (and the platform): nothing else of a service names Dapper or Npgsql, nor calls anything that
    /// takes or gives a connection (a use case hands its write scope to a store, never the scope's connection).
    /// </summary>
    [Theory]
    [MemberData(nameof(Services))]
    public void Only_Data_talks_to_the_database(string service)
    {
        var result = Types.InAssembly(Service(service)).That().DoNotResideInNamespace($"{service}.Data")
            .ShouldNot().HaveDependencyOnAny("Dapper", "Npgsql")
            .GetResult();
        Assert.True(result.IsSuccessful, $"outside {service}.Data, these use Dapper or Npgsql: {string.Join(", ", result.FailingTypeNames ?? [])}");

        static bool Database(Mono.Cecil.TypeReference type) => type.FullName.StartsWith("Npgsql", StringComparison.Ordinal) || type.FullName.StartsWith("Dapper", StringComparison.Ordinal);
        var touching = Calls(Service(service))
            .Where(c => !c.Caller.StartsWith($"{service}.Data.", StringComparison.Ordinal))
            .Where(c => Database(c.Callee.DeclaringType) || Database(c.Callee.ReturnType) || c.Callee.Parameters.Any(p => Database(p.ParameterType)))
            .Select(c => $"{c.Caller} → {c.Callee.DeclaringType.Name}.{c.Callee.Name}").Distinct().ToList();
        Assert.True(touching.Count == 0, $"outside {service}.Data, these reach the database: {string.Join("; ", touching)}");
    }

    /// <summary>
    /// Every write goes through the platform's write scope: no service opens a transaction of its own, and events are
    /// published only by use cases, event handlers and workers, never by a store or a gRPC method.
    /// </summary>
    [Theory]
    [MemberData(nameof(Services))]
    public void Writes_and_events_go_through_the_write_scope(string service)
    {
        var calls = Calls(Service(service)).ToList();
        var transactions = calls.Where(c => c.Callee.DeclaringType.FullName.StartsWith("Npgsql.", StringComparison.Ordinal)
                && c.Callee.Name.StartsWith("BeginTransaction", StringComparison.Ordinal))
            .Select(c => c.Caller).Distinct().ToList();
        Assert.True(transactions.Count == 0, $"these open a transaction instead of a write scope: {string.Join(", ", transactions)}");

        var publishers = calls.Where(c => c.Callee.DeclaringType.FullName == typeof(Platform.Postgres.WriteScope).FullName
                && c.Callee.Name.StartsWith("Publish", StringComparison.Ordinal))
            .Select(c => c.Caller).Distinct().ToList();
        // Notifications consumes events and publishes none; every other service publishes (an empty list there means the scan broke).
        if (service != "CxMesh.Notifications") Assert.NotEmpty(publishers);
        var misplaced = publishers.Where(p => !new[] { "UseCases", "Events", "Workers" }.Any(f => p.StartsWith($"{service}.{f}.", StringComparison.Ordinal))).ToList();
        Assert.True(misplaced.Count == 0, $"events published outside UseCases/, Events/ and Workers/: {string.Join(", ", misplaced)}");
    }

    /// <summary>Names have one grammar: no service declares its own pattern for keys or tokens (the platform's <c>Identifiers</c> does).</summary>
    [Theory]
    [MemberData(nameof(Services))]
    public void Keys_and_tokens_have_one_grammar(string service)
    {
        var copies = Service(service).GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Pattern: m.GetCustomAttribute<System.Text.RegularExpressions.GeneratedRegexAttribute>()?.Pattern))
            .Where(m => m.Pattern is { } p && (p.StartsWith("^[a-z0-9", StringComparison.Ordinal) || p.StartsWith("^[A-Za-z0-9._", StringComparison.Ordinal)))
            .Select(m => $"{m.Method.DeclaringType!.Name}.{m.Method.Name} {m.Pattern}").ToList();
        Assert.True(copies.Count == 0, $"name patterns outside Platform.Validation.Identifiers: {string.Join(", ", copies)}");
    }

    /// <summary>
    /// Requests are checked in one shape: through the platform's <c>Violations</c> (or a FluentValidation validator whose
    /// result is added to it), so no service builds validation failures or throws FluentValidation's exception itself,
    /// and no service declares a checking helper of its own.
    /// </summary>
    [Theory]
    [MemberData(nameof(Services))]
    public void Requests_are_checked_through_the_platforms_violations(string service)
    {
        var builders = Calls(Service(service))
            .Where(c => c.Callee.Name == ".ctor" && c.Callee.DeclaringType.FullName is "FluentValidation.ValidationException" or "FluentValidation.Results.ValidationFailure"
                || c.Callee.Name.StartsWith("ValidateAndThrow", StringComparison.Ordinal))
            .Select(c => c.Caller).Distinct().ToList();
        Assert.True(builders.Count == 0, $"these build validation failures by hand instead of through Violations: {string.Join(", ", builders)}");
        var helpers = Service(service).GetTypes().Where(t => t.Name is "Check" or "Checks" or "Validate").Select(t => t.FullName).ToList();
        Assert.True(helpers.Count == 0, $"checking helpers outside the platform: {string.Join(", ", helpers)}");
    }

    /// <summary>Every method call in an assembly, with the (outermost) type that makes it: async and lambda bodies count for the type they are written in.</summary>
    private static IEnumerable<(string Caller, Mono.Cecil.MethodReference Callee)> Calls(Assembly assembly)
    {
        using var module = Mono.Cecil.ModuleDefinition.ReadModule(assembly.Location);
        var calls = new List<(string, Mono.Cecil.MethodReference)>();
        foreach (var type in module.GetTypes())
        {
            var outer = type;
            while (outer.DeclaringType is not null) outer = outer.DeclaringType;
            foreach (var method in type.Methods.Where(m => m.HasBody))
            {
                foreach (var instruction in method.Body.Instructions)
                {
                    if (instruction.Operand is Mono.Cecil.MethodReference callee) calls.Add((outer.FullName, callee));
                }
            }
        }
        return calls;
    }

    /// <summary>Background work is where a newcomer looks for it: every hosted service of a service is in Workers/.</summary>
    [Theory]
    [MemberData(nameof(Services))]
    public void Background_work_lives_in_Workers(string service)
    {
        var misplaced = Service(service).GetTypes()
            .Where(t => typeof(Microsoft.Extensions.Hosting.IHostedService).IsAssignableFrom(t) && !t.IsAbstract)
            .Where(t => t.Namespace != $"{service}.Workers")
            .Select(t => t.FullName)
            .ToList();
        Assert.True(misplaced.Count == 0, $"hosted services outside {service}.Workers: {string.Join(", ", misplaced)}");
    }

    /// <summary>Options live beside the module, and every one of them is checked when the process starts.</summary>
    [Theory]
    [MemberData(nameof(Modules_))]
    public void Options_live_beside_the_module_and_are_validated_at_start(string service)
    {
        var options = Service(service).GetTypes().Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) && t.IsClass && t.IsPublic).ToList();
        Assert.NotEmpty(options);
        foreach (var type in options)
        {
            Assert.True(type.Namespace == service, $"{type.FullName} is not in {service} (beside the module)");
            Assert.True(typeof(System.ComponentModel.DataAnnotations.IValidatableObject).IsAssignableFrom(type)
                || type.GetProperties().Any(p => p.GetCustomAttributes(typeof(System.ComponentModel.DataAnnotations.ValidationAttribute), true).Length > 0),
                $"{type.FullName} declares no validation");
        }
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = "127.0.0.1:1",
            ["Auth:SigningKey"] = CxMeshTestHost.SigningKey,
        };
        foreach (var name in CxMeshTestHost.MigrationAssemblies.Keys) settings[$"ConnectionStrings:{name}"] = "Host=127.0.0.1;Port=1;Database=x;Username=u";
        var app = Platform.Hosting.CxMeshServer.Build([], Modules.All, b =>
        {
            b.WebHost.UseTestServer();
            b.Configuration.AddInMemoryCollection(settings);
        });
        foreach (var type in options)
        {
            var validators = app.Services.GetServices(typeof(Microsoft.Extensions.Options.IValidateOptions<>).MakeGenericType(type));
            Assert.True(validators.Any(v => v!.GetType().Name.StartsWith("DataAnnotationValidateOptions", StringComparison.Ordinal)),
                $"{type.Name} is not registered with AddValidatedOptions (its data annotations checked at start)");
        }
    }

    /// <summary>
    /// Every HTTP route but these needs a signed-in caller: the probes, reflection, and the connectors' deliveries
    /// (their senders prove themselves by signature or token). A new anonymous route must be added here on purpose.
    /// </summary>
    [Fact]
    public void Only_the_probes_reflection_and_connector_deliveries_are_open_without_a_token()
    {
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:redis"] = "127.0.0.1:1", ["Auth:SigningKey"] = CxMeshTestHost.SigningKey };
        foreach (var name in CxMeshTestHost.MigrationAssemblies.Keys) settings[$"ConnectionStrings:{name}"] = "Host=127.0.0.1;Port=1;Database=x;Username=u";
        var app = Platform.Hosting.CxMeshServer.Build([], Modules.All, b =>
        {
            b.WebHost.UseTestServer();
            b.Configuration.AddInMemoryCollection(settings);
        });
        var open = ((Microsoft.AspNetCore.Routing.IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints)
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            .Select(e => e.RoutePattern.RawText!)
            .Select(r => r.TrimStart('/'))
            .Select(r => r.StartsWith("grpc.", StringComparison.Ordinal) || r.StartsWith("{unimplemented", StringComparison.Ordinal) ? "/" + r[..r.IndexOf('/')] : "/" + r)
            .Select(r => r.StartsWith("/_framework/", StringComparison.Ordinal) ? "/_framework/*" : r)
            .Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
        [
            // The framework's scripts of the console, and its sign-in, sign-out and language choice (its pages and circuit
            // need the console's cookie).
            "/_framework/*",
            "/culture/{name}",
            "/grpc.health.v1.Health",
            "/grpc.reflection.v1.ServerReflection",
            "/grpc.reflection.v1alpha.ServerReflection",
            "/healthz/live",
            "/healthz/ready",
            // Prometheus' scrape: figures only, never a person's data (Telemetry:Prometheus=false turns it off; a
            // NetworkPolicy keeps the port inside the cluster).
            "/metrics",
            // The unsubscribe link of notification e-mails: its token is the key, and it switches off that one channel.
            "/notifications/unsubscribe",
            // The JSON API's OpenAPI document: it describes the API, never data.
            "/openapi",
            "/openapi/{documentName}.json",
            "/signin",
            "/signin/development",
            "/signin/oidc",
            "/signout",
            "/v1/sources/{source}/events",
            // grpc-dotnet's answer to a method no service has: UNIMPLEMENTED, whoever asks.
            "/{unimplementedService}",
        ], open);
    }
}
