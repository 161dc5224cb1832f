using Grpc.Core;
using Grpc.Net.Client;

namespace CxMesh.Cli;

/// <summary>Where cxmesh-server listens and who is calling: flags, else CXMESH_GRPC and CXMESH_TOKEN.</summary>
internal sealed record Connection(string Address, string? Token)
{
    public GrpcChannel Channel()
    {
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            if (!string.IsNullOrEmpty(Token)) metadata.Add("Authorization", $"Bearer {Token}");
            return Task.CompletedTask;
        });
        return GrpcChannel.ForAddress(Address, new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, credentials),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
    }

    /// <summary>Every call gets a deadline: a hung server must not hang a script.</summary>
    public static DateTime Deadline(int seconds = 30) => DateTime.UtcNow.AddSeconds(seconds);
}
