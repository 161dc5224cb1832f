using CxMesh.Platform.Errors;
using CxMesh.Platform.Validation;
using FluentValidation;

namespace CxMesh.Platform.Tests;

public sealed class ViolationsTests
{
    [Fact]
    public void Every_problem_is_named_with_its_field_in_one_error()
    {
        var check = new Violations();
        var key = check.Key("Not A Key", "team.id");
        var text = check.Text("   ", "team.name", 200);
        var id = check.Id("nope", "action_id");
        var date = check.Date("2024-02-30", "sprint.start_date");
        check.OptionalText("fine\tand\nclean", "comment", 100);

        Assert.Equal(("Not A Key", "", Guid.Empty), (key, text, id));
        Assert.Equal(new DateOnly(1970, 1, 1), date);
        var error = Assert.Throws<ValidationException>(check.ThrowIfAny);
        Assert.Equal(["team.id", "team.name", "action_id", "sprint.start_date"], error.Errors.Select(e => e.PropertyName));
        Assert.Contains("starting with a letter or digit", error.Errors.First().ErrorMessage);
    }

    [Fact]
    public void Clean_values_are_returned_parsed_and_trimmed()
    {
        var check = new Violations();
        var parsed = (check.Key("store.42", "k"), check.Text("  Lovely  ", "t", 20), check.OptionalKey("", "o"), check.PageSize(0, "page_size", 200, 50),
            check.Date("2026-11-30", "d"), check.Texts(["a", " b "], "lessons", 3, 10));
        check.ThrowIfAny();
        Assert.Equal(("store.42", "Lovely", (string?)null, 50, new DateOnly(2026, 11, 30)), (parsed.Item1, parsed.Item2, parsed.Item3, parsed.Item4, parsed.Item5));
        Assert.Equal(["a", "b"], parsed.Item6);
    }

    [Theory]
    [InlineData(0x0007)]
    [InlineData(0xD800)]
    [InlineData(0xDC00)]
    public void Text_with_control_characters_or_lone_surrogates_is_refused(int character)
    {
        var check = new Violations();
        check.OptionalText($"before {(char)character} after", "detail", 100);
        Assert.Equal("detail", Assert.Single(check.Failures).PropertyName);
    }

    [Fact]
    public void The_replacement_character_is_refused_only_where_asked() =>
        Assert.Equal((true, false), (Violations.IsCleanText("bad \uFFFD byte"), Violations.IsCleanText("bad \uFFFD byte", refuseReplacement: true)));

    [Fact]
    public void Fail_fast_stops_at_the_first_problem_and_keeps_nothing()
    {
        var first = Assert.Throws<FieldViolationException>(() => Violations.FailFast.Key("", "journey_key"));
        Assert.Equal(("journey_key", "journey_key is required."), (first.Field, first.Description));
        Assert.True(Violations.FailFast.IsEmpty);
        Violations.FailFast.ThrowIfAny();
    }

    [Fact]
    public void A_validators_result_is_added_under_a_prefix()
    {
        var check = new Violations();
        check.Add(new InlineValidator<string> { v => v.RuleFor(s => s.Length).GreaterThan(3).WithName("name").OverridePropertyName("name") }.Validate("ab"), "definition");
        Assert.Equal("definition.name", Assert.Single(check.Failures).PropertyName);
    }
}
