using System.Net.Sockets;
using CxMesh.Platform.Errors;
using FluentValidation;
using FluentValidation.Results;
using Google.Rpc;
using Npgsql;
using StackExchange.Redis;

namespace CxMesh.Platform.Tests;

public sealed class ErrorMappingTests
{
    private static Status Map(Exception ex) => ErrorMappingInterceptor.ToStatus(ex, callCancelled: false);

    [Fact]
    public void Validation_failures_become_INVALID_ARGUMENT_with_every_field_violation()
    {
        var status = Map(new ValidationException([new ValidationFailure("Ratings[0].QuestionId", "unknown"), new ValidationFailure("Channel", "required")]));
        Assert.Equal((int)Code.InvalidArgument, status.Code);
        var badRequest = status.Details.Single().Unpack<BadRequest>();
        Assert.Equal(["ratings[0].question_id", "channel"], badRequest.FieldViolations.Select(v => v.Field));
    }

    [Fact]
    public void A_flood_of_violations_is_listed_up_to_fifty_and_counted_so_the_error_stays_small()
    {
        var failures = Enumerable.Range(0, 10_000).Select(i => new ValidationFailure($"Answers[{i}].QuestionKey", new string('x', 5_000)));
        var status = Map(new ValidationException(failures));
        Assert.Equal((int)Code.InvalidArgument, status.Code);
        Assert.Equal(ErrorMappingInterceptor.MaxViolations, status.Details[0].Unpack<BadRequest>().FieldViolations.Count);
        var info = status.Details[1].Unpack<ErrorInfo>();
        Assert.Equal(("TOO_MANY_VIOLATIONS", "10000"), (info.Reason, info.Metadata["violations"]));
        Assert.True(status.Message.Length <= ErrorMappingInterceptor.MaxMessageLength);
        Assert.Contains("9950 more violations not listed", status.Message);
        Assert.True(status.CalculateSize() < 32 * 1024, $"the status is {status.CalculateSize()} bytes");
    }

    [Fact]
    public void Missing_things_are_NOT_FOUND_with_the_resource_named()
    {
        var status = Map(new NotFoundException("feedback", "42"));
        Assert.Equal((int)Code.NotFound, status.Code);
        Assert.Equal("42", status.Details.Single().Unpack<ResourceInfo>().ResourceName);
    }

    [Fact]
    public void A_unique_violation_is_ALREADY_EXISTS() =>
        Assert.Equal((int)Code.AlreadyExists, Map(new PostgresException("duplicate key", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation)).Code);

    [Fact]
    public void A_broken_rule_is_FAILED_PRECONDITION_with_its_reason_and_field()
    {
        var status = Map(new PreconditionFailedException("CX_CODE_SIZE", "The CX code holds 3 to 5 drivers.", "drivers"));
        Assert.Equal((int)Code.FailedPrecondition, status.Code);
        var info = status.GetDetail<ErrorInfo>();
        Assert.Equal(("CX_CODE_SIZE", "drivers"), (info.Reason, info.Metadata["field"]));
        var violation = Assert.Single(status.GetDetail<PreconditionFailure>().Violations);
        Assert.Equal(("CX_CODE_SIZE", "drivers"), (violation.Type, violation.Subject));
    }

    public static TheoryData<Exception> Transient => new()
    {
        new NpgsqlException("connect failed", new SocketException((int)SocketError.ConnectionRefused)),
        new NpgsqlException("read failed", new EndOfStreamException()),
        new PostgresException("shutting down", "FATAL", "FATAL", PostgresErrorCodes.AdminShutdown),
        new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "no connection"),
        new RedisTimeoutException(CommandFlags.None, "timeout", CommandStatus.Sent),
        new TimeoutException(),
    };

    [Theory]
    [MemberData(nameof(Transient))]
    public void Dependency_failures_are_UNAVAILABLE_so_clients_retry(Exception ex) =>
        Assert.Equal((int)Code.Unavailable, Map(ex).Code);

    [Fact]
    public void Anything_else_is_INTERNAL_and_says_nothing_of_the_exception()
    {
        var status = Map(new InvalidOperationException("connection string Password=hunter2 leaked"));
        Assert.Equal((int)Code.Internal, status.Code);
        Assert.DoesNotContain("hunter2", status.Message);
        Assert.DoesNotContain("InvalidOperation", status.Message);
        Assert.Empty(status.Details);
    }

    [Fact]
    public void A_syntax_error_in_SQL_is_a_bug_not_an_outage() =>
        Assert.Equal((int)Code.Internal, Map(new PostgresException("syntax error", "ERROR", "ERROR", PostgresErrorCodes.SyntaxError)).Code);

    [Theory]
    [InlineData("IdempotencyKey", "idempotency_key")]
    [InlineData("Ratings[0].QuestionId", "ratings[0].question_id")]
    [InlineData("Scope.Dimensions[12].Value", "scope.dimensions[12].value")]
    [InlineData("window.range", "window.range")]
    public void Property_paths_become_proto_field_paths(string property, string field) =>
        Assert.Equal(field, FieldNames.ToProtoPath(property));
}
