using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Google.Protobuf;
using Grpc.Core;

namespace CxMesh.Feedback.Tests;

/// <summary>Runs an ImportFeedbackCsv call as a client would: the options, then the file in chunks, reading every answer.</summary>
public static class Imports
{
    public static async Task<List<ImportFeedbackCsvResponse>> RunAsync(CxMeshTestHost host, CsvImportOptions options, byte[] file, int chunkSize = 7)
    {
        var client = host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
        // A deadline, so that a write the server will never read (it refused the options) ends instead of waiting.
        using var call = client.ImportFeedbackCsv(deadline: DateTime.UtcNow.AddMinutes(2));
        var reading = Task.Run(async () =>
        {
            var responses = new List<ImportFeedbackCsvResponse>();
            await foreach (var response in call.ResponseStream.ReadAllAsync()) responses.Add(response);
            return responses;
        });
        try
        {
            await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Options = options });
            // Small chunks on purpose: records, quoted line breaks and multi-byte characters are split between messages.
            for (var at = 0; at < file.Length; at += chunkSize)
            {
                await call.RequestStream.WriteAsync(new ImportFeedbackCsvRequest { Chunk = ByteString.CopyFrom(file, at, Math.Min(chunkSize, file.Length - at)) });
            }
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or OperationCanceledException or IOException)
        {
            // The server answered (refused the options) before the file was sent: its answer is what the test reads.
        }
        return await reading;
    }
}
