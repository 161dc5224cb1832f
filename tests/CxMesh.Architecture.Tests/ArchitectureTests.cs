using System.Reflection;
using CxMesh.Host;
using CxMesh.TestKit;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
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
    }
}
