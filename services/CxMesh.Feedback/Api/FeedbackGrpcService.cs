using System.Security.Cryptography;
using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Feedback.Data;
using CxMesh.Feedback.Domain;
using CxMesh.Feedback.Domain.Text;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Errors;
using FluentValidation;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Polarity = CxMesh.Common.V1.Polarity;
using Question = CxMesh.Feedback.Domain.Question;
using ThemeMention = CxMesh.Common.V1.ThemeMention;

namespace CxMesh.Feedback.Api;

public sealed class FeedbackGrpcService(
    FeedbackStore store, IValidator<SubmitFeedbackRequest> validator, TimeProvider clock,
    ISentimentAnalyzer sentiment, IPhoneNumberFinder phones, ContactVault vault, QuestionRegistry questions, FeedbackQueries queries, ThemeCatalog themes)
    : FeedbackService.FeedbackServiceBase
{
    [Authorize(Roles = $"{Roles.Admin},{Roles.App}")]
    public override Task<SubmitFeedbackResponse> SubmitFeedback(SubmitFeedbackRequest request, ServerCallContext context) =>
        SubmitOneAsync(request, CanReadRaw(context), context.CancellationToken);

    [Authorize(Roles = $"{Roles.Admin},{Roles.App}")]
    public override async Task<SubmitFeedbackBatchResponse> SubmitFeedbackBatch(IAsyncStreamReader<SubmitFeedbackBatchRequest> requestStream, ServerCallContext context)
    {
        var response = new SubmitFeedbackBatchResponse();
        var raw = CanReadRaw(context);
        var index = 0;
        long bytes = 0;
        await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken))
        {
            var item = message.Item ?? new SubmitFeedbackRequest();
            var result = new SubmitFeedbackResult { Index = index++, IdempotencyKey = item.IdempotencyKey };
            bytes += message.CalculateSize();
            if (result.Index >= FeedbackLimits.MaxItemsPerBatch || bytes > FeedbackLimits.MaxBatchBytes)
            {
                result.Status = SubmitStatus.Rejected;
                result.Error = new ItemError
                {
                    Code = (int)Google.Rpc.Code.InvalidArgument,
                    Field = "item",
                    Message = $"a batch may carry at most {FeedbackLimits.MaxItemsPerBatch} items and {FeedbackLimits.MaxBatchBytes / (1024 * 1024)} MiB; send the rest in another call.",
                };
            }
            else
            {
                // Each item is its own transaction: what was stored stays stored if the call breaks later.
                try
                {
                    var stored = await SubmitOneAsync(item, raw, context.CancellationToken);
                    result.FeedbackId = stored.Item.Id;
                    result.Status = stored.Replayed ? SubmitStatus.Replayed : SubmitStatus.Stored;
                }
                catch (Exception ex) when (ItemErrors.From(ex) is { } error)
                {
                    result.Status = SubmitStatus.Rejected;
                    result.Error = error;
                }
            }
            response.Results.Add(result);
        }
        response.Stored = response.Results.Count(r => r.Status == SubmitStatus.Stored);
        response.Replayed = response.Results.Count(r => r.Status == SubmitStatus.Replayed);
        response.Rejected = response.Results.Count(r => r.Status == SubmitStatus.Rejected);
        return response;
    }

    private async Task<SubmitFeedbackResponse> SubmitOneAsync(SubmitFeedbackRequest request, bool raw, CancellationToken ct)
    {
        await validator.ValidateAndThrowAsync(request, ct);

        // Redaction, language, sentiment and themes happen before anything is stored or published.
        var contact = request.Contact is { } c && (c.Name.Length + c.Email.Length + c.Phone.Length + c.Address.Length) > 0 ? c : null;
        var own = contact is null ? null : new OwnDetails(NullIfEmpty(contact.Name), NullIfEmpty(contact.Email), NullIfEmpty(contact.Phone), NullIfEmpty(contact.Address));
        var analysis = request.Verbatim.Length > 0
            ? TextAnalyzer.Analyze(request.Verbatim, own, await themes.CurrentAsync(ct), sentiment, phones)
            : null;
        var id = Guid.CreateVersion7();
        var item = new NewFeedback(
            id,
            ChannelNames.ToStored(request.Channel),
            request.JourneyId.Length > 0 ? request.JourneyId : null,
            request.Verbatim.Length > 0 ? request.Verbatim : null,
            ToMicroseconds(request.GivenAt?.ToDateTime() ?? clock.GetUtcNow().UtcDateTime),
            request.Ratings.Select(r => new RatingRow(r.QuestionId, r.Value)).ToList(),
            analysis?.RedactedText,
            analysis?.Language,
            analysis?.Sentiment.Score,
            analysis?.Themes.Select(t => new StoredTheme(t.ThemeKey, t.Sentiment.Score)).ToList() ?? [],
            NullIfEmpty(request.CustomerId),
            request.Audience == Audience.Employee ? "employee" : "customer",
            contact is null ? null : vault.Seal(id, contact))
        {
            Links = new FeedbackLinks(
                NullIfEmpty(request.Links?.TouchpointKey ?? ""), NullIfEmpty(request.Links?.ProductId ?? ""), NullIfEmpty(request.Links?.LotId ?? ""),
                NullIfEmpty(request.Links?.StoreId ?? ""), request.Links?.Segment.ToDictionary(p => p.Key, p => p.Value) ?? [],
                NullIfEmpty(request.Source?.System ?? ""), NullIfEmpty(request.Source?.SurveyId ?? ""), NullIfEmpty(request.Source?.ExternalId ?? "")),
            TextHash = TextNormalizer.Normalize(request.Verbatim) is { Length: > 0 } normalized
                ? Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(normalized)))
                : null,
        };

        var result = await store.SubmitAsync(request.IdempotencyKey, Fingerprint(request), item, ToEvent, ct);
        return result switch
        {
            SubmitResult.Stored s => new SubmitFeedbackResponse { Item = ToProto(s.Item, raw) },
            SubmitResult.Replayed r => new SubmitFeedbackResponse { Item = ToProto(r.Item, raw), Replayed = true },
            _ => throw new PreconditionFailedException("IDEMPOTENCY_KEY_REUSED",
                "idempotency_key was used before for a different request; use a new key for new feedback.",
                new Dictionary<string, string> { ["field"] = "idempotency_key" }),
        };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst}")]
    public override async Task<CreateThemeResponse> CreateTheme(CreateThemeRequest request, ServerCallContext context) =>
        new() { Theme = ToProto(await themes.SaveAsync(CheckedTheme(request.Theme), create: true, context.CancellationToken)) };

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst}")]
    public override async Task<UpdateThemeResponse> UpdateTheme(UpdateThemeRequest request, ServerCallContext context) =>
        new() { Theme = ToProto(await themes.SaveAsync(CheckedTheme(request.Theme), create: false, context.CancellationToken)) };

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.App}")]
    public override async Task<ListThemesResponse> ListThemes(ListThemesRequest request, ServerCallContext context)
    {
        var response = new ListThemesResponse();
        response.Themes.AddRange((await themes.CurrentAsync(context.CancellationToken)).Select(ToProto));
        return response;
    }

    private static Domain.Text.Theme CheckedTheme(V1.Theme? t)
    {
        if (t is null) throw new FieldViolationException("theme", "theme is required.");
        var problems = new List<FluentValidation.Results.ValidationFailure>();
        if (!FeedbackLimits.QuestionId().IsMatch(t.Key)) problems.Add(new("theme.key", "theme.key must be 1-64 characters of a-z, 0-9, '.', '_' or '-'."));
        if (t.Name.Length is 0 or > 100) problems.Add(new("theme.name", "theme.name is required, at most 100 characters."));
        if (t.Keywords.Count + t.Phrases.Count == 0) problems.Add(new("theme.keywords", "a theme needs at least one keyword or phrase."));
        foreach (var (field, values) in new[] { ("theme.keywords", t.Keywords), ("theme.phrases", t.Phrases) })
        {
            if (values.Count > 50) problems.Add(new(field, $"{field} may hold at most 50 entries."));
            if (values.Any(v => v.Trim().Length is 0 or > 50 || !FeedbackLimits.IsCleanText(v))) problems.Add(new(field, $"each of {field} must be 1-50 characters of clean text."));
        }
        if (problems.Count > 0) throw new ValidationException(problems);
        return new Domain.Text.Theme(t.Key, t.Name, t.Keywords.Select(k => k.Trim().ToLowerInvariant()).ToList(), t.Phrases.Select(p => p.Trim()).ToList());
    }

    private static V1.Theme ToProto(Domain.Text.Theme theme)
    {
        var proto = new V1.Theme { Key = theme.Key, Name = theme.Name };
        proto.Keywords.AddRange(theme.Keywords);
        proto.Phrases.AddRange(theme.Phrases);
        return proto;
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst}")]
    public override async Task<ListFeedbackResponse> ListFeedback(ListFeedbackRequest request, ServerCallContext context)
    {
        var problems = new List<FluentValidation.Results.ValidationFailure>();
        void Check(bool ok, string field, string message)
        {
            if (!ok) problems.Add(new FluentValidation.Results.ValidationFailure(field, message));
        }
        Check(request.PageSize is >= 0 and <= 200, "page_size", "page_size must be 0 to 200.");
        Check(request.Channel == Channel.Unspecified || System.Enum.IsDefined(request.Channel), "channel", "channel is not a known channel.");
        Check(System.Enum.IsDefined(request.Audience), "audience", "audience is not a known audience.");
        Check(System.Enum.IsDefined(request.Polarity), "polarity", "polarity is not a known polarity.");
        foreach (var (field, value) in new[] { ("journey_id", request.JourneyId), ("touchpoint_key", request.TouchpointKey), ("product_id", request.ProductId), ("lot_id", request.LotId), ("question_id", request.QuestionId), ("theme_key", request.ThemeKey) })
        {
            Check(value.Length == 0 || value.Length <= FeedbackLimits.MaxIdLength && FeedbackLimits.Token().IsMatch(value), field, $"{field} is not an id.");
        }
        Check(request.TextContains.Length is 0 or (>= 2 and <= 100), "text_contains", "text_contains must be 2 to 100 characters.");
        Check(request.QuestionId.Length > 0 || !request.HasMinRating && !request.HasMaxRating, "question_id", "question_id is required with min_rating or max_rating.");
        Check(!request.HasMinRating || !request.HasMaxRating || request.MinRating <= request.MaxRating, "max_rating", "max_rating must not be below min_rating.");
        Check(request.ReceivedAfter is null || request.ReceivedBefore is null || request.ReceivedAfter.ToDateTime() < request.ReceivedBefore.ToDateTime(),
            "received_before", "received_before must be after received_after.");
        FeedbackCursor? cursor = null;
        if (request.PageToken.Length > 0)
        {
            cursor = ParseCursor(request.PageToken);
            Check(cursor is not null, "page_token", "page_token is not one this service issued.");
        }
        if (problems.Count > 0) throw new ValidationException(problems);

        var filter = new FeedbackFilter(
            request.ReceivedAfter?.ToDateTime(), request.ReceivedBefore?.ToDateTime(),
            request.Channel == Channel.Unspecified ? null : ChannelNames.ToStored(request.Channel),
            request.Audience switch { Audience.Customer => "customer", Audience.Employee => "employee", _ => null },
            NullIfEmpty(request.JourneyId), NullIfEmpty(request.TouchpointKey), NullIfEmpty(request.ProductId), NullIfEmpty(request.LotId),
            NullIfEmpty(request.QuestionId), request.HasMinRating ? request.MinRating : null, request.HasMaxRating ? request.MaxRating : null,
            NullIfEmpty(request.ThemeKey),
            request.Polarity switch
            {
                Polarity.Negative => (-1.0, -0.05 - 1e-9),
                Polarity.Neutral => (-0.05, 0.05),
                Polarity.Positive => (0.05 + 1e-9, 1.0),
                _ => null,
            },
            NullIfEmpty(request.TextContains),
            request.HasDuplicate ? request.Duplicate : null);
        var (page, next) = await queries.ListAsync(filter, cursor, request.PageSize == 0 ? 50 : request.PageSize, context.CancellationToken);
        var raw = CanReadRaw(context);
        var response = new ListFeedbackResponse { NextPageToken = next is null ? "" : FormatCursor(next) };
        response.Items.AddRange(page.Select(r => ToProto(r, raw)));
        return response;
    }

    private static string FormatCursor(FeedbackCursor c) => PageTokens.Encode($"{c.ReceivedAt.Ticks}:{c.Id}");

    private static FeedbackCursor? ParseCursor(string token)
    {
        if (!PageTokens.TryDecode(token, out var position)) return null;
        var parts = position.Split(':');
        return parts.Length == 2 && long.TryParse(parts[0], out var ticks) && Guid.TryParse(parts[1], out var id)
            ? new FeedbackCursor(new DateTime(ticks, DateTimeKind.Utc), id)
            : null;
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<RegisterQuestionResponse> RegisterQuestion(RegisterQuestionRequest request, ServerCallContext context)
    {
        var q = request.Question ?? throw new FieldViolationException("question", "question is required.");
        var problems = new List<FluentValidation.Results.ValidationFailure>();
        if (!FeedbackLimits.QuestionId().IsMatch(q.Id)) problems.Add(new("question.id", "question.id must be 1-64 characters of a-z, 0-9, '.', '_' or '-'."));
        if (q.Text.Length is 0 or > Question.MaxTextLength) problems.Add(new("question.text", $"question.text is required, at most {Question.MaxTextLength} characters."));
        if (q.Metric == Metric.Unspecified || !System.Enum.IsDefined(q.Metric)) problems.Add(new("question.metric", "question.metric is required."));
        var question = new Question(q.Id, q.Text, FromProto(q.Metric), q.ScaleMin, q.ScaleMax, q.HigherIsBetter, q.TopBoxValues.ToList());
        if (problems.Count == 0) problems.AddRange(question.Problems().Select(p => new FluentValidation.Results.ValidationFailure("question." + p.Field, p.Problem)));
        if (problems.Count > 0) throw new ValidationException(problems);
        return new RegisterQuestionResponse { Question = ToProto(await questions.RegisterAsync(question, context.CancellationToken)) };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.App}")]
    public override async Task<GetQuestionResponse> GetQuestion(GetQuestionRequest request, ServerCallContext context)
    {
        var question = await questions.FindAsync(request.Id, context.CancellationToken) ?? throw new NotFoundException("question", request.Id);
        return new GetQuestionResponse { Question = ToProto(question) };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.App}")]
    public override async Task<ListQuestionsResponse> ListQuestions(ListQuestionsRequest request, ServerCallContext context)
    {
        var response = new ListQuestionsResponse();
        response.Questions.AddRange((await questions.ListAsync(context.CancellationToken)).Select(ToProto));
        return response;
    }

    private static V1.Question ToProto(Question q)
    {
        var proto = new V1.Question { Id = q.Id, Text = q.Text, Metric = ToProto(q.Metric), ScaleMin = q.ScaleMin, ScaleMax = q.ScaleMax, HigherIsBetter = q.HigherIsBetter };
        proto.TopBoxValues.AddRange(q.TopBox);
        return proto;
    }

    private static MetricKind FromProto(Metric metric) => metric switch
    {
        Metric.Nps => MetricKind.Nps,
        Metric.Csat => MetricKind.Csat,
        Metric.Ces => MetricKind.Ces,
        Metric.Enps => MetricKind.Enps,
        _ => MetricKind.Custom,
    };

    [Authorize(Roles = Roles.Admin)]
    public override async Task<EraseCustomerResponse> EraseCustomer(EraseCustomerRequest request, ServerCallContext context)
    {
        if (request.CustomerId.Length is 0 or > FeedbackLimits.MaxIdLength || !FeedbackLimits.Token().IsMatch(request.CustomerId))
        {
            throw new FieldViolationException("customer_id", "customer_id is required: 1-128 characters of letters, digits and . _ : -");
        }
        var erasure = await store.EraseCustomerAsync(request.CustomerId, customerId => new FeedbackErased
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Timestamp.FromDateTimeOffset(clock.GetUtcNow()),
            CustomerId = customerId,
        }, context.CancellationToken);
        return new EraseCustomerResponse { VerbatimsErased = erasure.Verbatims, ContactsErased = erasure.Contacts, ErasureEventId = erasure.EventId };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.App}")]
    public override async Task<GetFeedbackResponse> GetFeedback(GetFeedbackRequest request, ServerCallContext context)
    {
        if (!Guid.TryParse(request.Id, out var id))
        {
            throw new FieldViolationException("id", "id must be a feedback id (a UUID).");
        }
        var row = await store.GetAsync(id, context.CancellationToken) ?? throw new NotFoundException("feedback", request.Id);
        return new GetFeedbackResponse { Item = ToProto(row, CanReadRaw(context)) };
    }

    // Postgres keeps microseconds: answer with what is stored, so a replay returns the very same item.
    private static DateTime ToMicroseconds(DateTime t) => new(t.Ticks - t.Ticks % 10, DateTimeKind.Utc);

    // The same key with the same request is a retry; with another request it is a client bug.
    // given_at is left out when not sent, because the server fills it with the time of the first call.
    private static byte[] Fingerprint(SubmitFeedbackRequest request) => SHA256.HashData(request.ToByteArray());

    private FeedbackReceived ToEvent(FeedbackRow row)
    {
        var evt = new FeedbackReceived
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Timestamp.FromDateTime(row.ReceivedAt),
            FeedbackId = row.Id.ToString(),
            Channel = ChannelNames.FromStored(row.Channel),
            JourneyId = row.JourneyId ?? "",
            GivenAt = Timestamp.FromDateTime(row.GivenAt),
            CustomerId = row.CustomerId ?? "",
            Audience = row.Audience,
            RedactedVerbatim = row.RedactedVerbatim ?? "",
            Language = row.Language ?? "",
            SentimentScore = row.Sentiment ?? 0,
            Polarity = row.Sentiment is { } score ? ToProto(new SentimentScore(score).Polarity) : Polarity.Unspecified,
        };
        evt.Themes.AddRange(row.Themes.Select(ToProto));
        evt.TouchpointKey = row.Links.TouchpointKey ?? "";
        evt.ProductId = row.Links.ProductId ?? "";
        evt.LotId = row.Links.LotId ?? "";
        evt.StoreId = row.Links.StoreId ?? "";
        evt.SourceSystem = row.Links.SourceSystem ?? "";
        evt.DuplicateOf = row.DuplicateOf?.ToString() ?? "";
        foreach (var (key, value) in row.Links.Segment) evt.Segment[key] = value;
        foreach (var rating in row.Ratings)
        {
            // Validation looked every question up, so the registry has it cached.
            var question = questions.Cached(rating.QuestionId)
                ?? throw new InvalidOperationException($"Question '{rating.QuestionId}' was validated but is not in the registry.");
            evt.Ratings.Add(new RatingValue
            {
                QuestionId = question.Id,
                Metric = ToProto(question.Metric),
                Value = rating.Value,
                ScaleMin = question.ScaleMin,
                ScaleMax = question.ScaleMax,
                HigherIsBetter = question.HigherIsBetter,
                TopBoxValues = { question.TopBox },
            });
        }
        return evt;
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    // Raw verbatims may hold personal data the redactor missed: only admins see them.
    private static bool CanReadRaw(ServerCallContext context) => context.GetHttpContext().User.IsInRole(Roles.Admin);

    private static ThemeMention ToProto(StoredTheme theme) => new()
    {
        ThemeKey = theme.Key,
        SentimentScore = theme.Sentiment,
        Polarity = ToProto(new SentimentScore(theme.Sentiment).Polarity),
    };

    private static Polarity ToProto(Domain.Text.Polarity polarity) => polarity switch
    {
        Domain.Text.Polarity.Negative => Polarity.Negative,
        Domain.Text.Polarity.Positive => Polarity.Positive,
        _ => Polarity.Neutral,
    };

    private FeedbackItem ToProto(FeedbackRow row, bool raw)
    {
        var item = new FeedbackItem
        {
            Id = row.Id.ToString(),
            Channel = ChannelNames.FromStored(row.Channel),
            JourneyId = row.JourneyId ?? "",
            Verbatim = raw ? row.Verbatim ?? "" : "",
            RedactedVerbatim = row.RedactedVerbatim ?? "",
            Language = row.Language ?? "",
            SentimentScore = row.Sentiment ?? 0,
            Polarity = row.Sentiment is { } score ? ToProto(new SentimentScore(score).Polarity) : Polarity.Unspecified,
            GivenAt = Timestamp.FromDateTime(row.GivenAt),
            ReceivedAt = Timestamp.FromDateTime(row.ReceivedAt),
        };
        item.Ratings.AddRange(row.Ratings.Select(r => new Rating { QuestionId = r.QuestionId, Value = r.Value }));
        item.Themes.AddRange(row.Themes.Select(ToProto));
        item.Audience = row.Audience == "employee" ? Audience.Employee : Audience.Customer;
        item.CustomerId = row.CustomerId ?? "";
        item.Erased = row.ErasedAt is not null;
        item.Links = new Links
        {
            TouchpointKey = row.Links.TouchpointKey ?? "",
            ProductId = row.Links.ProductId ?? "",
            LotId = row.Links.LotId ?? "",
            StoreId = row.Links.StoreId ?? "",
        };
        foreach (var (key, value) in row.Links.Segment) item.Links.Segment[key] = value;
        item.DuplicateOf = row.DuplicateOf?.ToString() ?? "";
        item.Source = new Source { System = row.Links.SourceSystem ?? "", SurveyId = row.Links.SurveyId ?? "", ExternalId = row.Links.ExternalId ?? "" };
        if (raw && row.Contact is { } sealedContact) item.Contact = vault.Open(row.Id, sealedContact);
        return item;
    }

    private static Metric ToProto(MetricKind metric) => metric switch
    {
        MetricKind.Nps => Metric.Nps,
        MetricKind.Csat => Metric.Csat,
        MetricKind.Ces => Metric.Ces,
        MetricKind.Enps => Metric.Enps,
        _ => Metric.Custom,
    };
}

/// <summary>Channels are stored by name (contact_centre), not by proto number.</summary>
internal static class ChannelNames
{
    public static string ToStored(Channel channel) => channel switch
    {
        Channel.Survey => "survey",
        Channel.Complaint => "complaint",
        Channel.ContactCentre => "contact_centre",
        Channel.Web => "web",
        Channel.SelfService => "self_service",
        Channel.Social => "social",
        Channel.Review => "review",
        Channel.Other => "other",
        _ => throw new ArgumentOutOfRangeException(nameof(channel), channel, "Not a storable channel."),
    };

    public static Channel FromStored(string channel) => channel switch
    {
        "survey" => Channel.Survey,
        "complaint" => Channel.Complaint,
        "contact_centre" => Channel.ContactCentre,
        "web" => Channel.Web,
        "self_service" => Channel.SelfService,
        "social" => Channel.Social,
        "review" => Channel.Review,
        "other" => Channel.Other,
        _ => Channel.Unspecified,
    };
}
