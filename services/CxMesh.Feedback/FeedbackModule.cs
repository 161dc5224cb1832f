using CxMesh.Events.V1;
using CxMesh.Feedback.Api;
using CxMesh.Feedback.Data;
using CxMesh.Feedback.Domain.Text;
using CxMesh.Feedback.Events;
using CxMesh.Feedback.UseCases;
using CxMesh.Feedback.V1;
using CxMesh.Feedback.Workers;
using CxMesh.Platform.Hosting;
using CxMesh.Platform.Messaging;
using CxMesh.Platform.Postgres;
using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CxMesh.Feedback;

/// <summary>The feedback service's whole wiring.</summary>
public static class FeedbackModule
{
    public const string Name = "feedback";

    public static WebApplicationBuilder AddFeedbackService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(Name, typeof(FeedbackModule).Assembly);
        builder.AddOutboxRelay(Name);
        builder.AddEventHandler<ErasureApplied, ErasureAppliedHandler>(Name, Topics.ErasureApplied);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<FeedbackStore>();
        builder.Services.AddSingleton<SubmitFeedback>();
        builder.Services.AddSingleton<ImportFeedbackCsv>();
        builder.Services.AddSingleton<ImportProfileStore>();
        builder.Services.AddSingleton<ImportProfiles>();
        builder.Services.AddSingleton<ConfiguredSources>();
        builder.Services.AddSingleton<ReceiveSourceEvent>();
        builder.Services.AddSingleton<EraseCustomer>();
        builder.Services.AddSingleton<ExpireIdempotencyKeys>();
        builder.Services.AddHostedService<KeyExpiry>();
        builder.Services.AddSingleton<QuestionRegistry>();
        builder.Services.AddSingleton<UnitRegistry>();
        builder.Services.AddSingleton<PraiseStore>();
        builder.Services.AddSingleton<FeedbackQueries>();
        builder.Services.AddSingleton<ThemeCatalog>();
        builder.Services.AddSingleton<RetagStore>();
        builder.Services.AddSingleton<RetagHistory>();
        builder.Services.AddHostedService<Retagger>();
        builder.Services.AddValidatedOptions<FeedbackOptions>(FeedbackOptions.Section);
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<FeedbackOptions>, FeedbackOptionsValidator>();
        builder.Services.AddSingleton<ContactVault>();
        builder.Services.AddSingleton<ISentimentAnalyzer, LexiconSentiment>();
        builder.Services.AddSingleton<IPhoneNumberFinder>(new LibPhoneNumberFinder());
        builder.Services.AddSingleton<IValidator<SubmitFeedbackRequest>, SubmitFeedbackValidator>();
        builder.Services.AddSingleton(sp => new Domain.CustomerPseudonyms(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<FeedbackOptions>>().Value.PseudonymKeyBytes()));
        return builder;
    }

    public static WebApplication MapFeedbackService(this WebApplication app)
    {
        app.MapGrpcService<FeedbackGrpcService>();
        app.MapSourceEvents();
        return app;
    }
}
