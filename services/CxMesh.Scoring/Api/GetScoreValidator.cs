using System.Globalization;
using CxMesh.Common.V1;
using CxMesh.Scoring.Domain;
using CxMesh.Scoring.V1;
using FluentValidation;

namespace CxMesh.Scoring.Api;

public sealed class GetScoreValidator : AbstractValidator<GetScoreRequest>
{
    public const int MaxScopeValueLength = 128;

    public GetScoreValidator()
    {
        RuleFor(r => r.Metric)
            .Must(m => m == Metric.Nps)
            .WithMessage(r => r.Metric == Metric.Unspecified
                ? "metric is required."
                : $"metric {r.Metric} is not scored yet; only METRIC_NPS is.");

        When(r => r.Scope is not null, () =>
        {
            RuleFor(r => r.Scope.Dimensions)
                .Must(d => d.Count <= 1).WithMessage("scope.dimensions may hold at most one dimension so far.")
                .OverridePropertyName("scope.dimensions");
            RuleForEach(r => r.Scope.Dimensions).ChildRules(d =>
            {
                d.RuleFor(x => x.Kind)
                    .Must(k => k != DimensionKind.Unspecified && Enum.IsDefined(k))
                    .WithMessage(x => $"kind must be DIMENSION_KIND_JOURNEY; got {(int)x.Kind}.");
                d.RuleFor(x => x.Value)
                    .NotEmpty().WithMessage("value is required.")
                    .MaximumLength(MaxScopeValueLength).WithMessage($"value must be at most {MaxScopeValueLength} characters.");
            }).OverridePropertyName("scope.dimensions");
        });

        When(r => r.Window is not null, () =>
        {
            RuleFor(r => r.Window.LastDays)
                .InclusiveBetween(1, DayWindow.MaxDays).WithMessage($"window.last_days must be 1 to {DayWindow.MaxDays}.")
                .When(r => r.Window.WindowCase == Window.WindowOneofCase.LastDays)
                .OverridePropertyName("window.last_days");
            RuleFor(r => r.Window.Range.StartDate)
                .Must(BeADate).WithMessage("window.range.start_date must be a date (yyyy-MM-dd).")
                .When(r => r.Window.WindowCase == Window.WindowOneofCase.Range)
                .OverridePropertyName("window.range.start_date");
            RuleFor(r => r.Window.Range.EndDate)
                .Must(BeADate).WithMessage("window.range.end_date must be a date (yyyy-MM-dd).")
                .When(r => r.Window.WindowCase == Window.WindowOneofCase.Range)
                .OverridePropertyName("window.range.end_date");
            RuleFor(r => r.Window.Range)
                .Must(range => ParseDate(range.EndDate) >= ParseDate(range.StartDate))
                .WithMessage("window.range.end_date must not be before start_date.")
                .Must(range => ParseDate(range.EndDate).DayNumber - ParseDate(range.StartDate).DayNumber < DayWindow.MaxDays)
                .WithMessage($"window.range may span at most {DayWindow.MaxDays} days.")
                .When(r => r.Window.WindowCase == Window.WindowOneofCase.Range
                    && BeADate(r.Window.Range.StartDate) && BeADate(r.Window.Range.EndDate))
                .OverridePropertyName("window.range");
        });
    }

    public static DateOnly ParseDate(string value) => DateOnly.ParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static bool BeADate(string value) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
}
