using System.Text.RegularExpressions;
using Xunit;

namespace CxMesh.TestKit;

/// <summary>An RPC as its proto declares it: service, method, streaming and the roles its comment names.</summary>
public sealed record DeclaredRpc(string Service, string Method, bool ClientStreams, bool ServerStreams, IReadOnlySet<string> Roles)
{
    public override string ToString() => $"{Service}/{Method}";
}

/// <summary>Every RPC in protos/cxmesh/*/v1/*_service.proto with the roles its comment declares ("Roles: ...").</summary>
public static partial class DeclaredRpcs
{
    [GeneratedRegex(@"rpc\s+(\w+)\s*\(\s*(stream\s+)?[\w.]+\s*\)\s*returns\s*\(\s*(stream\s+)?[\w.]+\s*\)")]
    private static partial Regex RpcLine();

    [GeneratedRegex(@"Roles:\s*([a-z\-,\s]+?)\.")]
    private static partial Regex RolesDeclared();

    /// <summary>Read from the proto files; an RPC that declares no roles fails the caller's test.</summary>
    public static IReadOnlyList<DeclaredRpc> All()
    {
        var rpcs = new List<DeclaredRpc>();
        foreach (var file in Directory.GetFiles(Path.Combine(RepoFiles.Root, "protos", "cxmesh"), "*_service.proto", SearchOption.AllDirectories).Order())
        {
            var text = File.ReadAllLines(file);
            var package = text.Select(l => Regex.Match(l, @"^package\s+([\w.]+);")).First(m => m.Success).Groups[1].Value;
            string? service = null;
            var comment = new List<string>();
            foreach (var raw in text)
            {
                var line = raw.Trim();
                if (Regex.Match(line, @"^service\s+(\w+)") is { Success: true } s) service = $"{package}.{s.Groups[1].Value}";
                if (line.StartsWith("//", StringComparison.Ordinal))
                {
                    comment.Add(line[2..].Trim());
                    continue;
                }
                if (RpcLine().Match(line) is { Success: true } rpc)
                {
                    var roles = RolesDeclared().Match(string.Join(' ', comment));
                    Assert.True(roles.Success, $"{service}/{rpc.Groups[1].Value} declares no roles (a comment line 'Roles: ...'): every RPC joins the authorization matrix.");
                    rpcs.Add(new DeclaredRpc(service!, rpc.Groups[1].Value, rpc.Groups[2].Success, rpc.Groups[3].Success,
                        roles.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet()));
                }
                comment.Clear();
            }
        }
        return rpcs;
    }
}
