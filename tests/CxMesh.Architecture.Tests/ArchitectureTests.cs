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

    private static Assembly Service(string name) => ServiceAssemblies.Single(a => a.GetName().Name == name);

    [Fact]
    public void Every_hosted_module_has_a_service_assembly_under_test() =>
        Assert.Equal(Modules.All.Count, ServiceAssemblies.Count);

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
    [MemberData(nameof(Services))]
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
}
