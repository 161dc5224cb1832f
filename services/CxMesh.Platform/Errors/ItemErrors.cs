using CxMesh.Common.V1;
using Google.Rpc;

namespace CxMesh.Platform.Errors;

/// <summary>
/// Per-item results of batch RPCs, from the same mapping the error interceptor uses for whole calls:
/// an item's bad input or broken rule becomes its <see cref="ItemError"/>; anything else (a dependency down,
/// a bug) is not the item's fault and ends the call.
/// </summary>
public static class ItemErrors
{
    /// <summary>The first problem a batch item's validator found (the item's INVALID_ARGUMENT).</summary>
    public static ItemError From(FluentValidation.Results.ValidationResult result) =>
        From(new FluentValidation.ValidationException(result.Errors))!;

    public static ItemError? From(Exception ex)
    {
        var status = ErrorMappingInterceptor.ToStatus(ex, callCancelled: false);
        if ((Code)status.Code is not (Code.InvalidArgument or Code.FailedPrecondition or Code.NotFound or Code.AlreadyExists)) return null;
        var violation = status.GetDetail<BadRequest>()?.FieldViolations.FirstOrDefault();
        return new ItemError
        {
            Code = status.Code,
            Field = violation?.Field ?? status.GetDetail<ErrorInfo>()?.Metadata.GetValueOrDefault("field") ?? "",
            Message = violation?.Description ?? status.Message,
        };
    }
}
