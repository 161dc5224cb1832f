using System.Runtime.CompilerServices;
using CxMesh.Common.V1;
using CxMesh.Platform.Errors;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;

namespace CxMesh.Platform.Api;

/// <summary>One item of a client stream: its position and either the message or why it was refused unread.</summary>
public readonly record struct BatchItem<T>(int Index, T? Message, ItemError? Refused) where T : class;

/// <summary>
/// How every batch RPC reads its client stream, with its limits enforced while reading: an item that cannot be
/// parsed is refused alone and reading goes on; the first item past the item or byte limit is refused and reading
/// stops there, so an oversized stream costs no more than a full one and the reply stays small (at most
/// <c>maxItems + 1</c> results).
/// </summary>
public static class BatchStream
{
    public static async IAsyncEnumerable<BatchItem<T>> ReadAsync<T>(IAsyncStreamReader<T> stream, int maxItems, long maxBytes, string itemField,
        [EnumeratorCancellation] CancellationToken ct) where T : class, IMessage
    {
        long bytes = 0;
        for (var index = 0; ; index++)
        {
            T? message = null;
            string? malformed = null;
            try
            {
                if (!await stream.MoveNext(ct)) yield break;
                message = stream.Current;
            }
            catch (MalformedRequestException ex)
            {
                malformed = ex.Description;
            }
            bytes += message?.CalculateSize() ?? 0;
            if (index >= maxItems || bytes > maxBytes)
            {
                yield return new(index, null, Refused(itemField,
                    $"a call may carry at most {maxItems:N0} items and {maxBytes / (1024 * 1024):N0} MiB; nothing from this item on was read: send it and the rest in another call."));
                yield break;
            }
            yield return malformed is null ? new(index, message, null) : new(index, null, Refused(itemField, malformed));
        }
    }

    private static ItemError Refused(string field, string message) =>
        new() { Code = (int)Code.InvalidArgument, Field = field, Message = message };
}
