using CxMesh.Journey.Domain;
using CxMesh.Journey.V1;
using CxMesh.Platform.Validation;
using FluentValidation;

namespace CxMesh.Journey.Api;

public sealed class JourneyDefinitionValidator : AbstractValidator<JourneyDefinition>
{
    public JourneyDefinitionValidator()
    {
        RuleFor(d => d.Key).Must(k => Identifiers.Key().IsMatch(k))
            .WithMessage("key must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");
        RuleFor(d => d.Name).NotEmpty().WithMessage("name is required.")
            .MaximumLength(JourneyLimits.MaxNameLength).WithMessage($"name must be at most {JourneyLimits.MaxNameLength} characters.");
        RuleFor(d => d.Description).MaximumLength(JourneyLimits.MaxDescriptionLength)
            .WithMessage($"description must be at most {JourneyLimits.MaxDescriptionLength} characters.");
        RuleFor(d => d.Stages)
            .NotEmpty().WithMessage("stages must hold at least one stage.")
            .Must(s => s.Count <= JourneyLimits.MaxStages).WithMessage($"stages may hold at most {JourneyLimits.MaxStages} stages.")
            .Must(s => s.Sum(x => x.Touchpoints.Count) <= JourneyLimits.MaxTouchpoints)
            .WithMessage($"a journey may have at most {JourneyLimits.MaxTouchpoints} touchpoints.")
            .Must(s => s.SelectMany(x => x.Touchpoints).Any(t => t.StartsJourney))
            .WithMessage("stages must contain at least one touchpoint with starts_journey.")
            .Must(s => s.SelectMany(x => x.Touchpoints).Any(t => t.EndsJourney))
            .WithMessage("stages must contain at least one touchpoint with ends_journey.");
        RuleForEach(d => d.Stages).ChildRules(stage =>
        {
            stage.RuleFor(s => s.Key).Must(k => Identifiers.Key().IsMatch(k))
                .WithMessage("key must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");
            stage.RuleFor(s => s.Name).MaximumLength(JourneyLimits.MaxNameLength).WithMessage($"name must be at most {JourneyLimits.MaxNameLength} characters.");
            stage.RuleFor(s => s.Touchpoints).NotEmpty().WithMessage("touchpoints must hold at least one touchpoint: a stage cannot be empty.");
            stage.RuleForEach(s => s.Touchpoints).ChildRules(tp =>
            {
                tp.RuleFor(t => t.Key).Must(k => Identifiers.Key().IsMatch(k))
                    .WithMessage("key must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");
                tp.RuleFor(t => t.Name).MaximumLength(JourneyLimits.MaxNameLength).WithMessage($"name must be at most {JourneyLimits.MaxNameLength} characters.");
                tp.RuleFor(t => t.Channel).Must(c => c != TouchpointChannel.Unspecified && Enum.IsDefined(c))
                    .WithMessage(t => $"channel must be one of {string.Join(", ", Enum.GetNames<TouchpointChannel>().Skip(1))}; got {(int)t.Channel}.");
            });
        });
        RuleFor(d => d).Custom((d, context) =>
        {
            var stageKeys = new HashSet<string>(StringComparer.Ordinal);
            var touchpointKeys = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var s = 0; s < d.Stages.Count; s++)
            {
                if (!stageKeys.Add(d.Stages[s].Key))
                {
                    context.AddFailure($"stages[{s}].key", $"stage key '{d.Stages[s].Key}' is used twice.");
                }
                for (var t = 0; t < d.Stages[s].Touchpoints.Count; t++)
                {
                    var key = d.Stages[s].Touchpoints[t].Key;
                    if (touchpointKeys.TryGetValue(key, out var other))
                    {
                        context.AddFailure($"stages[{s}].touchpoints[{t}].key",
                            other == s ? $"touchpoint '{key}' is listed twice in this stage." : $"touchpoint '{key}' is already in stage '{d.Stages[other].Key}': a touchpoint belongs to one stage.");
                    }
                    else
                    {
                        touchpointKeys[key] = s;
                    }
                }
            }
        });
        RuleFor(d => d.InactivityTimeout)
            .NotNull().WithMessage("inactivity_timeout is required.")
            .Must(t => t is null || (t.ToTimeSpan() >= JourneyLimits.MinTimeout && t.ToTimeSpan() <= JourneyLimits.MaxTimeout))
            .WithMessage("inactivity_timeout must be between 1 minute and 365 days.");
        RuleFor(d => d.SegmentAttributes)
            .Must(a => a.Count <= JourneyLimits.MaxSegmentAttributes).WithMessage($"segment_attributes may hold at most {JourneyLimits.MaxSegmentAttributes} names.")
            .Must(a => a.Distinct().Count() == a.Count).WithMessage("segment_attributes must not repeat a name.");
        RuleForEach(d => d.SegmentAttributes).Must(a => Identifiers.Key().IsMatch(a))
            .WithMessage("segment attribute names must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");
    }
}

public sealed class CreateJourneyDefinitionValidator : AbstractValidator<CreateJourneyDefinitionRequest>
{
    public CreateJourneyDefinitionValidator()
    {
        RuleFor(r => r.Definition).NotNull().WithMessage("definition is required.").SetValidator(new JourneyDefinitionValidator());
    }
}

public sealed class UpdateJourneyDefinitionValidator : AbstractValidator<UpdateJourneyDefinitionRequest>
{
    public UpdateJourneyDefinitionValidator()
    {
        RuleFor(r => r.Definition).NotNull().WithMessage("definition is required.").SetValidator(new JourneyDefinitionValidator());
        RuleFor(r => r.ExpectedVersion).GreaterThanOrEqualTo(0).WithMessage("expected_version must not be negative.");
    }
}

public sealed class TouchpointEventValidator : AbstractValidator<TouchpointEvent>
{
    public TouchpointEventValidator(TimeProvider clock)
    {
        // Checked here as well as for every unary request, so that in a stream one such touchpoint is rejected alone.
        RuleFor(t => t).Custom((touchpoint, context) =>
        {
            if (WireValues.FindProblem(touchpoint) is { } problem) context.AddFailure(problem.Field, problem.Problem);
        });

        RuleFor(t => t.IdempotencyKey)
            .NotEmpty().WithMessage("idempotency_key is required.")
            .Length(8, 128).WithMessage("idempotency_key must be 8 to 128 characters.")
            .Matches(Identifiers.Token()).WithMessage("idempotency_key may contain only letters, digits and . _ : -");
        RuleFor(t => t.CustomerId)
            .NotEmpty().WithMessage("customer_id is required (a pseudonymous id, never an email or a name).")
            .MaximumLength(JourneyLimits.MaxIdLength).WithMessage($"customer_id must be at most {JourneyLimits.MaxIdLength} characters.")
            .Matches(Identifiers.Token()).WithMessage("customer_id may contain only letters, digits and . _ : - (no emails or names).");
        RuleFor(t => t.JourneyKey).Must(k => Identifiers.Key().IsMatch(k)).WithMessage("journey_key is not a journey key.");
        RuleFor(t => t.TouchpointKey).Must(k => Identifiers.Key().IsMatch(k)).WithMessage("touchpoint_key is not a touchpoint key.");
        RuleFor(t => t.OccurredAt).NotNull().WithMessage("occurred_at is required.");
        RuleFor(t => t.OccurredAt).Recent(clock, JourneyLimits.MaxAge, JourneyLimits.MaxClockSkew, "occurred_at");
        RuleFor(t => t.Attributes)
            .Must(a => a.Count <= JourneyLimits.MaxAttributes).WithMessage($"attributes may hold at most {JourneyLimits.MaxAttributes} entries.")
            .Must(a => a.Keys.All(k => Identifiers.Key().IsMatch(k))).WithMessage("attribute names must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.")
            .Must(a => a.Values.All(v => v.Length <= JourneyLimits.MaxAttributeValueLength))
            .WithMessage($"attribute values must be at most {JourneyLimits.MaxAttributeValueLength} characters.");
        RuleFor(t => t.Revenue).Must(v => v is >= 0 and <= JourneyLimits.MaxAmount)
            .WithMessage($"revenue must be a number from 0 to {JourneyLimits.MaxAmount:N0} (the reporting currency).");
        RuleFor(t => t.CostToServe).Must(v => v is >= 0 and <= JourneyLimits.MaxAmount)
            .WithMessage($"cost_to_serve must be a number from 0 to {JourneyLimits.MaxAmount:N0} (the reporting currency).");
    }
}
