using CxMesh.Common.V1;
using CxMesh.Feedback.Data;
using CxMesh.Feedback.Domain;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Validation;
using FluentValidation;

namespace CxMesh.Feedback.Api;

public sealed class SubmitFeedbackValidator : AbstractValidator<SubmitFeedbackRequest>
{
    public SubmitFeedbackValidator(TimeProvider clock, QuestionRegistry questions)
    {
        RuleFor(r => r.IdempotencyKey)
            .NotEmpty().WithMessage("idempotency_key is required.")
            .Length(FeedbackLimits.MinIdempotencyKeyLength, FeedbackLimits.MaxIdempotencyKeyLength)
            .WithMessage($"idempotency_key must be {FeedbackLimits.MinIdempotencyKeyLength} to {FeedbackLimits.MaxIdempotencyKeyLength} characters.")
            .Matches(FeedbackLimits.Token()).WithMessage("idempotency_key may contain only letters, digits and . _ : -");

        RuleFor(r => r.Channel)
            .Must(c => c != Channel.Unspecified && Enum.IsDefined(c))
            .WithMessage(r => $"channel must be one of {string.Join(", ", Enum.GetNames<Channel>().Skip(1))}; got {(int)r.Channel}.");

        RuleFor(r => r.JourneyId)
            .MaximumLength(FeedbackLimits.MaxIdLength).WithMessage($"journey_id must be at most {FeedbackLimits.MaxIdLength} characters.")
            .Matches(FeedbackLimits.Token()).When(r => r.JourneyId.Length > 0)
            .WithMessage("journey_id may contain only letters, digits and . _ : -");

        RuleFor(r => r.Ratings)
            .NotEmpty().WithMessage("ratings must hold at least one rating.")
            .Must(r => r.Count <= FeedbackLimits.MaxRatings).WithMessage($"ratings may hold at most {FeedbackLimits.MaxRatings} ratings.")
            .Must(r => r.Select(x => x.QuestionId).Distinct().Count() == r.Count).WithMessage("ratings must not rate the same question twice.");

        RuleForEach(r => r.Ratings).ChildRules(rating =>
        {
            rating.RuleFor(x => x.QuestionId)
                .MustAsync(async (id, ct) => await questions.FindAsync(id, ct) is not null)
                .WithMessage(x => $"question_id '{x.QuestionId}' is not a registered question (see ListQuestions).");
            rating.RuleFor(x => x.Value)
                .MustAsync(async (x, value, ct) => await questions.FindAsync(x.QuestionId, ct) is not { } q || q.InScale(value))
                .WithMessage(x => questions.Cached(x.QuestionId) is { } q
                    ? $"value {x.Value} is outside the scale of question '{q.Id}' ({q.ScaleMin}-{q.ScaleMax})."
                    : "value cannot be checked against an unknown question.");
        });

        RuleFor(r => r.Verbatim)
            .MaximumLength(FeedbackLimits.MaxVerbatimLength)
            .WithMessage($"verbatim must be at most {FeedbackLimits.MaxVerbatimLength} characters.");

        RuleFor(r => r.Audience)
            .Must(a => Enum.IsDefined(a)).WithMessage(r => $"audience must be AUDIENCE_CUSTOMER or AUDIENCE_EMPLOYEE; got {(int)r.Audience}.");

        RuleFor(r => r.CustomerId)
            .MaximumLength(FeedbackLimits.MaxIdLength).WithMessage($"customer_id must be at most {FeedbackLimits.MaxIdLength} characters.")
            .Matches(FeedbackLimits.Token()).When(r => r.CustomerId.Length > 0)
            .WithMessage("customer_id may contain only letters, digits and . _ : - (a pseudonymous id, never an email or a name).");

        When(r => r.Contact is not null, () =>
        {
            RuleFor(r => r.CustomerId).NotEmpty().WithMessage("customer_id is required with contact details, so that they can be erased.");
            RuleFor(r => r.Contact.Name).MaximumLength(FeedbackLimits.MaxContactFieldLength)
                .WithMessage($"contact.name must be at most {FeedbackLimits.MaxContactFieldLength} characters.").OverridePropertyName("contact.name");
            RuleFor(r => r.Contact.Email).MaximumLength(FeedbackLimits.MaxContactFieldLength)
                .WithMessage($"contact.email must be at most {FeedbackLimits.MaxContactFieldLength} characters.").OverridePropertyName("contact.email");
            RuleFor(r => r.Contact.Phone).MaximumLength(FeedbackLimits.MaxContactFieldLength)
                .WithMessage($"contact.phone must be at most {FeedbackLimits.MaxContactFieldLength} characters.").OverridePropertyName("contact.phone");
            RuleFor(r => r.Contact.Address).MaximumLength(FeedbackLimits.MaxContactFieldLength)
                .WithMessage($"contact.address must be at most {FeedbackLimits.MaxContactFieldLength} characters.").OverridePropertyName("contact.address");
        });

        RuleFor(r => r.GivenAt).Recent(clock, FeedbackLimits.MaxAge, FeedbackLimits.MaxClockSkew, "given_at");
    }
}
