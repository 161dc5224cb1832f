using System.Diagnostics;
using FluentValidation;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Npgsql;
using Status = Google.Rpc.Status;

namespace CxMesh.Platform.Errors;

/// <summary>
/// The one place where exceptions become gRPC statuses (the grpc-dotnet "Error" example).
/// Callers see a code and a safe message; exception details go to the log and the span only.
/// </summary>
public sealed class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public const string ErrorDomain = "cxmesh.io";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            RequireWireValues(request);
            return await continuation(request, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.OK)
        {
            throw Explained(ex);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.OK)
        {
            throw Explained(ex);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            RequireWireValues(request);
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.OK)
        {
            throw Explained(ex);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.OK)
        {
            throw Explained(ex);
        }
    }

    /// <summary>
    /// NUL characters, impossible Timestamps and Durations are refused before any method sees them, naming the field.
    /// Streams are checked per item by their validators instead, so one bad item is rejected alone.
    /// </summary>
    private static void RequireWireValues(object? request)
    {
        if (request is Google.Protobuf.IMessage message && Validation.WireValues.FindProblem(message) is { } problem)
        {
            throw new FieldViolationException(problem.Field, problem.Problem);
        }
    }

    private RpcException Map(Exception ex, ServerCallContext context)
    {
        var status = ToStatus(ex, context.CancellationToken.IsCancellationRequested);
        var code = (StatusCode)status.Code;
        if (code is StatusCode.Internal)
        {
            logger.LogError(ex, "Unhandled error in {Method} (trace {TraceId})", context.Method, Activity.Current?.TraceId.ToHexString());
        }
        else if (code is StatusCode.Unavailable)
        {
            logger.LogWarning(ex, "Dependency unavailable in {Method}", context.Method);
        }
        var activity = Activity.Current;
        if (activity is not null && code is StatusCode.Internal or StatusCode.Unavailable)
        {
            activity.AddException(ex);
            activity.SetStatus(ActivityStatusCode.Error, code.ToString());
        }
        return WithErrorInfo(status).ToRpcException();
    }

    /// <summary>An RpcException a method raised itself (a refusal): given the same ErrorInfo as mapped errors.</summary>
    private static RpcException Explained(RpcException ex)
    {
        var status = ex.GetRpcStatus() ?? new Status { Code = (int)ex.StatusCode, Message = ex.Status.Detail };
        var explained = WithErrorInfo(status).ToRpcException();
        foreach (var entry in ex.Trailers)
        {
            if (entry.Key != "grpc-status-details-bin") explained.Trailers.Add(entry);
        }
        return explained;
    }

    /// <summary>
    /// Every error carries a google.rpc.ErrorInfo (AIP-193): a stable reason callers can switch on (the specific one a rule
    /// gave, or one per code) and the trace id to quote when asking an operator, who finds the logs and spans by it.
    /// </summary>
    internal static Status WithErrorInfo(Status status)
    {
        var any = status.Details.FirstOrDefault(d => d.Is(ErrorInfo.Descriptor));
        var info = any is not null ? any.Unpack<ErrorInfo>() : new ErrorInfo { Reason = DefaultReason((Code)status.Code), Domain = ErrorDomain };
        if (Activity.Current is { } activity) info.Metadata["trace_id"] = activity.TraceId.ToHexString();
        if (any is not null)
        {
            any.Value = info.ToByteString();
        }
        else
        {
            status.Details.Add(Any.Pack(info));
        }
        return status;
    }

    /// <summary>The reason of an error no rule named more precisely: one per status code, stable across versions.</summary>
    public static string DefaultReason(Code code) => code switch
    {
        Code.InvalidArgument => "INVALID_FIELD",
        Code.NotFound => "NOT_FOUND",
        Code.AlreadyExists => "ALREADY_EXISTS",
        Code.PermissionDenied => "PERMISSION_DENIED",
        Code.Unauthenticated => "UNAUTHENTICATED",
        Code.FailedPrecondition => "FAILED_PRECONDITION",
        Code.ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code.Unavailable => "DEPENDENCY_UNAVAILABLE",
        Code.Cancelled => "CANCELLED",
        Code.DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code.OutOfRange => "OUT_OF_RANGE",
        Code.Aborted => "ABORTED",
        Code.Unimplemented => "UNIMPLEMENTED",
        _ => "INTERNAL_ERROR",
    };

    /// <summary>The status of an exception, with its message and details bounded whatever values the exception carries.</summary>
    internal static Status ToStatus(Exception ex, bool callCancelled)
    {
        var status = Unbounded(ex, callCancelled);
        status.Message = Cut(status.Message, MaxMessageLength);
        foreach (var any in status.Details)
        {
            if (any.TryUnpack<ResourceInfo>(out var resource))
            {
                resource.ResourceName = Cut(resource.ResourceName, MaxDescriptionLength);
                any.Value = resource.ToByteString();
            }
            else if (any.TryUnpack<ErrorInfo>(out var info))
            {
                foreach (var key in info.Metadata.Keys.ToList()) info.Metadata[key] = Cut(info.Metadata[key], MaxDescriptionLength);
                any.Value = info.ToByteString();
            }
        }
        return status;
    }

    private static Status Unbounded(Exception ex, bool callCancelled)
    {
        switch (ex)
        {
            case ValidationException validation:
                return BadRequest(validation.Errors.Select(e => (FieldNames.ToProtoPath(e.PropertyName), e.ErrorMessage)));
            case FieldViolationException field:
                return BadRequest([(field.Field, field.Description)]);
            case NotFoundException notFound:
                return new Status
                {
                    Code = (int)Code.NotFound,
                    Message = notFound.Message,
                    Details = { Any.Pack(new ResourceInfo { ResourceType = notFound.Resource, ResourceName = notFound.Id }) },
                };
            case AlreadyExistsException exists:
                return new Status { Code = (int)Code.AlreadyExists, Message = exists.Message };
            case PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } unique:
                return new Status { Code = (int)Code.AlreadyExists, Message = $"A record with the same key exists already ({unique.ConstraintName})." };
            case PreconditionFailedException rule:
                // ErrorInfo carries the reason and the field (as "field", where clients have always read it);
                // PreconditionFailure is the standard detail for the same, for generic clients.
                var info = new ErrorInfo { Reason = rule.Reason, Domain = ErrorDomain };
                if (rule.Field.Length > 0) info.Metadata["field"] = rule.Field;
                foreach (var (k, v) in rule.Metadata) info.Metadata[k] = v;
                var failure = new PreconditionFailure
                {
                    Violations = { new PreconditionFailure.Types.Violation { Type = rule.Reason, Subject = rule.Field, Description = Cut(rule.Message, MaxDescriptionLength) } },
                };
                return new Status { Code = (int)Code.FailedPrecondition, Message = rule.Message, Details = { Any.Pack(info), Any.Pack(failure) } };
            case Clients.DependencyUnavailableException dependency:
                return new Status
                {
                    Code = (int)Code.Unavailable,
                    Message = dependency.Message,
                    Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)) }) },
                };
            case OperationCanceledException when callCancelled:
                return new Status { Code = (int)Code.Cancelled, Message = "The call was cancelled." };
            case var _ when TransientFailures.IsTransient(ex):
                return new Status
                {
                    Code = (int)Code.Unavailable,
                    Message = "A dependency of the service is unavailable; retry with backoff.",
                    Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)) }) },
                };
            default:
                return new Status { Code = (int)Code.Internal, Message = "Internal error. It has been logged." };
        }
    }

    /// <summary>
    /// Field violations listed at most; the rest are counted. Keeps an error and its grpc-status-details-bin trailer
    /// (about 25 KB at worst) well under clients' header limits, so it reaches them instead of dropping the connection.
    /// </summary>
    public const int MaxViolations = 50;

    /// <summary>Longest status message; a longer one is cut (the violations' details stay in the BadRequest).</summary>
    public const int MaxMessageLength = 2000;

    /// <summary>Longest description of one violation.</summary>
    public const int MaxDescriptionLength = 200;

    private static Status BadRequest(IEnumerable<(string Field, string Description)> violations)
    {
        var badRequest = new BadRequest();
        var total = 0;
        foreach (var (field, description) in violations)
        {
            if (++total > MaxViolations) continue;
            badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = Cut(field, 100), Description = Cut(description, MaxDescriptionLength) });
        }
        var fields = string.Join(", ", badRequest.FieldViolations.Select(v => v.Field).Distinct());
        var more = total > MaxViolations ? $" ({total - MaxViolations} more violations not listed)" : "";
        var status = new Status
        {
            Code = (int)Code.InvalidArgument,
            Message = Cut($"Invalid request: {fields}{more}. {string.Join(" ", badRequest.FieldViolations.Select(v => v.Description))}".Trim(), MaxMessageLength),
            Details = { Any.Pack(badRequest) },
        };
        if (total > MaxViolations)
        {
            status.Details.Add(Any.Pack(new ErrorInfo
            {
                Reason = "TOO_MANY_VIOLATIONS",
                Domain = ErrorDomain,
                Metadata = { ["violations"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture), ["listed"] = MaxViolations.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            }));
        }
        return status;
    }

    /// <summary>The text, cut to <paramref name="max"/> characters with an ellipsis.</summary>
    internal static string Cut(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
}
