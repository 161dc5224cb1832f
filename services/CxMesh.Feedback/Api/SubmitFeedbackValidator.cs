using CxMesh.Common.V1;
using CxMesh.Feedback.Data;
using CxMesh.Feedback.Domain;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Validation;
using FluentValidation;
using Microsoft.Extensions.Options;
using Speaker = CxMesh.Feedback.V1.Speaker;

namespace CxMesh.Feedback.Api;

/// <summary>
/// Synchronous, so a chunk is checked on every core: questions are looked up against the registry's cache, which
/// the caller fills first (<see cref="QuestionRegistry.LoadAsync"/>), units against the tree it refreshed (<see cref="UnitRegistry.CurrentAsync"/>).
/// </summary>
public sealed class SubmitFeedbackValidator : AbstractValidator<SubmitFeedbackRequest>
{
    public SubmitFeedbackValidator(TimeProvider clock, QuestionRegistry questions, UnitRegistry units, IOptions<FeedbackOptions> options)
    {
        // Checked here as well as for every unary request, so that in a batch or an import one such item is rejected alone.
        RuleFor(r => r).Custom((request, context) =>
        {
            if (WireValues.FindProblem(request) is { } problem) context.AddFailure(problem.Field, problem.Problem);
        });

        RuleFor(r => r.IdempotencyKey)
            .NotEmpty().WithMessage("idempotency_key is required.")
            .Length(FeedbackLimits.MinIdempotencyKeyLength, FeedbackLimits.MaxIdempotencyKeyLength)
            .WithMessage($"idempotency_key must be {FeedbackLimits.MinIdempotencyKeyLength} to {FeedbackLimits.MaxIdempotencyKeyLength} characters.")
            .Matches(Identifiers.Token()).WithMessage("idempotency_key may contain only letters, digits and . _ : -");

        RuleFor(r => r.Channel)
            .Must(c => c != Channel.Unspecified && Enum.IsDefined(c))
            .WithMessage(r => $"channel must be one of {string.Join(", ", Enum.GetNames<Channel>().Skip(1))}; got {(int)r.Channel}.");

        RuleFor(r => r.JourneyKey)
            .Must(key => key.Length == 0 || Identifiers.IsKey(key)).WithMessage($"journey_key must be {Identifiers.KeyRule} (the journey's key).")
            .Must((r, _) => !r.JourneyFieldsDisagree).WithMessage("journey_key and the deprecated journey_id name different journeys: send journey_key only.");
        // The deprecated field keeps the grammar it always had, so old clients go on working.
        RuleFor(r => r.Journey)
            .Must(id => Identifiers.IsToken(id, FeedbackLimits.MaxIdLength))
            .WithMessage($"journey_id (deprecated: use journey_key) must be {Identifiers.TokenRule}.")
            .OverridePropertyName("journey_id")
            .When(r => r.JourneyFromDeprecatedField);

        // A complaint, a review or a call note may carry no rating at all: then its text is what it says.
        RuleFor(r => r.Ratings)
            .Must((r, ratings) => ratings.Count > 0 || !string.IsNullOrWhiteSpace(r.Verbatim) || r.Conversation is { Turns.Count: > 0 })
            .WithMessage("ratings may be empty only when there is a verbatim: an item carries at least one rating or some text.")
            .Must(r => r.Count <= FeedbackLimits.MaxRatings).WithMessage($"ratings may hold at most {FeedbackLimits.MaxRatings} ratings.")
            .Must(r => r.Select(x => x.QuestionId).Distinct().Count() == r.Count).WithMessage("ratings must not rate the same question twice.");

        RuleForEach(r => r.Ratings).ChildRules(rating =>
        {
            rating.RuleFor(x => x.QuestionId)
                .Must(id => questions.Cached(id) is not null)
                .WithMessage(x => $"question_id '{x.QuestionId}' is not a registered question (see ListQuestions).");
            rating.RuleFor(x => x.Value)
                .Must((x, value) => questions.Cached(x.QuestionId) is not { } q || q.InScale(value))
                .WithMessage(x => questions.Cached(x.QuestionId) is { } q
                    ? $"value {x.Value} is outside the scale of question '{q.Id}' ({q.ScaleMin}-{q.ScaleMax})."
                    : "value cannot be checked against an unknown question.");
        });

        // A rating belongs to its question's audience: employees' eNPS never counts as customers' and the other way round.
        RuleFor(r => r).Custom((request, context) =>
        {
            var audience = request.Audience == Audience.Employee ? Domain.Question.Employees : Domain.Question.Customers;
            for (var i = 0; i < request.Ratings.Count; i++)
            {
                if (questions.Cached(request.Ratings[i].QuestionId) is { } q && q.Audience != audience)
                {
                    context.AddFailure($"ratings[{i}].question_id",
                        $"question '{q.Id}' is asked of {q.Audience}s and this item's audience is {audience}: set audience to AUDIENCE_{q.Audience.ToUpperInvariant()}, or rate a question asked of {audience}s.");
                }
            }
        });

        RuleFor(r => r.Verbatim)
            .MaximumLength(FeedbackLimits.MaxVerbatimLength)
            .WithMessage($"verbatim must be at most {FeedbackLimits.MaxVerbatimLength} characters.")
            .Must(text => Violations.IsCleanText(text, refuseReplacement: true))
            .WithMessage("verbatim must be valid UTF-8 text without control characters (tabs and line breaks are fine).");

        When(r => r.Conversation is not null, () =>
        {
            RuleFor(r => r.Conversation.Turns)
                .Must(t => t.Count <= Conversations.MaxTurns).WithMessage($"conversation.turns holds at most {Conversations.MaxTurns:N0} turns.")
                .Must(t => t.Any(x => x.Speaker == Speaker.Customer && x.Text.Trim().Length > 0))
                .WithMessage("conversation.turns has no turn of the customer (SPEAKER_CUSTOMER) with words: only the customer's turns are analysed, so there is nothing to hear.")
                .Must(t => t.Where(x => x.At is not null).Select(x => x.At.ToDateTimeOffset()).Zip(t.Where(x => x.At is not null).Select(x => x.At.ToDateTimeOffset()).Skip(1)).All(p => p.First <= p.Second))
                .WithMessage("conversation.turns are out of order: turns with times come in the order they were said.")
                .OverridePropertyName("conversation.turns");
            RuleForEach(r => r.Conversation.Turns).ChildRules(turn =>
            {
                turn.RuleFor(x => x.Speaker).Must(s => s != Speaker.Unspecified && Enum.IsDefined(s))
                    .WithMessage("speaker must be SPEAKER_CUSTOMER, SPEAKER_AGENT or SPEAKER_SYSTEM.");
                turn.RuleFor(x => x.Text)
                    .MaximumLength(FeedbackLimits.MaxVerbatimLength).WithMessage($"text must be at most {FeedbackLimits.MaxVerbatimLength} characters.")
                    .Must(text => Violations.IsCleanText(text, refuseReplacement: true))
                    .WithMessage("text must be valid UTF-8 text without control characters (tabs and line breaks are fine).");
            }).OverridePropertyName("conversation.turns");
            RuleFor(r => r.Verbatim)
                .Must((r, verbatim) => verbatim == Conversations.CustomerText(r.Conversation.Turns.Select(ProtoMapping.ToTurn)))
                .WithMessage("verbatim must be empty when a conversation is given: the customer's turns are its verbatim.");
        });

        RuleFor(r => r.Audience)
            .Must(a => Enum.IsDefined(a)).WithMessage(r => $"audience must be AUDIENCE_CUSTOMER or AUDIENCE_EMPLOYEE; got {(int)r.Audience}.");

        RuleFor(r => r.CustomerId)
            .MaximumLength(FeedbackLimits.MaxIdLength).WithMessage($"customer_id must be at most {FeedbackLimits.MaxIdLength} characters.")
            .Matches(Identifiers.Token()).When(r => r.CustomerId.Length > 0)
            .WithMessage("customer_id may contain only letters, digits and . _ : - (a pseudonymous id, never an email or a name).");

        When(r => r.Contact is not null, () =>
        {
            RuleFor(r => r.CustomerId).NotEmpty().WithMessage(options.Value.PseudonymKey is { Length: > 0 }
                ? "customer_id is required with contact details that hold no e-mail or phone (and no source.external_id), so that they can be erased."
                : "customer_id is required with contact details, so that they can be erased (or set Feedback:PseudonymKey to derive one from the e-mail, phone or response id).");
            RuleFor(r => r.Contact.Name).MaximumLength(FeedbackLimits.MaxContactFieldLength)
                .WithMessage($"contact.name must be at most {FeedbackLimits.MaxContactFieldLength} characters.").OverridePropertyName("contact.name");
            RuleFor(r => r.Contact.Email).MaximumLength(FeedbackLimits.MaxContactFieldLength)
                .WithMessage($"contact.email must be at most {FeedbackLimits.MaxContactFieldLength} characters.").OverridePropertyName("contact.email");
            RuleFor(r => r.Contact.Phone).MaximumLength(FeedbackLimits.MaxContactFieldLength)
                .WithMessage($"contact.phone must be at most {FeedbackLimits.MaxContactFieldLength} characters.").OverridePropertyName("contact.phone");
            RuleFor(r => r.Contact.Address).MaximumLength(FeedbackLimits.MaxContactFieldLength)
                .WithMessage($"contact.address must be at most {FeedbackLimits.MaxContactFieldLength} characters.").OverridePropertyName("contact.address");
        });

        When(r => r.Links is not null, () =>
        {
            foreach (var (name, select) in new (string, Func<SubmitFeedbackRequest, string>)[]
            {
                ("links.touchpoint_key", r => r.Links.TouchpointKey), ("links.product_id", r => r.Links.ProductId),
                ("links.lot_id", r => r.Links.LotId), ("links.store_id", r => r.Links.StoreId),
            })
            {
                RuleFor(r => select(r)).Must(BeAnOptionalId).WithMessage($"{name} may hold up to {FeedbackLimits.MaxIdLength} characters of letters, digits and . _ : -")
                    .OverridePropertyName(name);
            }
            RuleFor(r => r.Links.UnitKey).Custom((key, context) =>
            {
                if (key.Length == 0) return;
                if (units.Cached.Find(key) is not { } unit)
                {
                    context.AddFailure("links.unit_key", $"links.unit_key '{Shown(key)}' is not a registered unit (see ListUnits; SaveUnit registers one).");
                }
                else if (unit.Kind == Domain.UnitKind.Agent && context.InstanceToValidate.Audience == Audience.Employee)
                {
                    context.AddFailure("links.unit_key",
                        $"an employee's item names their team or store, never an agent: '{key}' is an agent, and an agent's eNPS would be one person's answer.");
                }
            });
            RuleFor(r => r.Links.Segment)
                .Must(a => a.Count <= FeedbackLimits.MaxSegmentAttributes).WithMessage($"links.segment may hold at most {FeedbackLimits.MaxSegmentAttributes} attributes.")
                .Must(a => a.Keys.All(k => Identifiers.Key().IsMatch(k))).WithMessage("links.segment names must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.")
                .Must(a => a.Values.All(v => v.Length <= FeedbackLimits.MaxAttributeValueLength))
                .WithMessage($"links.segment values must be at most {FeedbackLimits.MaxAttributeValueLength} characters.")
                .OverridePropertyName("links.segment");
        });

        When(r => r.Source is not null, () =>
        {
            RuleFor(r => r.Source.System).Must(BeAnOptionalId).WithMessage("source.system may hold up to 128 characters of letters, digits and . _ : -")
                .OverridePropertyName("source.system");
            RuleFor(r => r.Source.SurveyId).Must(BeAnOptionalId).WithMessage("source.survey_id may hold up to 128 characters of letters, digits and . _ : -")
                .OverridePropertyName("source.survey_id");
            RuleFor(r => r.Source.ExternalId).Must(BeAnOptionalId).WithMessage("source.external_id may hold up to 128 characters of letters, digits and . _ : -")
                .OverridePropertyName("source.external_id");
            RuleFor(r => r.Source.System).NotEmpty().When(r => r.Source.ExternalId.Length > 0)
                .WithMessage("source.system is required with source.external_id: an external id means something only in its system.")
                .OverridePropertyName("source.system");
        });

        RuleFor(r => r.GivenAt).Recent(clock, options.Value.HistoryLimit, FeedbackLimits.MaxClockSkew, "given_at");
    }

    private static string Shown(string key) => key.Length > 64 ? key[..64] + "…" : key;

    private static bool BeAnOptionalId(string value) =>
        value.Length == 0 || value.Length <= FeedbackLimits.MaxIdLength && Identifiers.Token().IsMatch(value);
}
