using CxMesh.Common.V1;
using CxMesh.Feedback.Data;
using CxMesh.Feedback.Domain;
using CxMesh.Feedback.UseCases;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Validation;
using FluentValidation;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using static CxMesh.Platform.Validation.Identifiers;
using Polarity = CxMesh.Common.V1.Polarity;
using Question = CxMesh.Feedback.Domain.Question;

namespace CxMesh.Feedback.Api;

public sealed class FeedbackGrpcService(
    SubmitFeedback ingest, ImportFeedbackCsv csvImport, ImportProfiles importProfiles, EraseCustomer eraseCustomer, FeedbackStore store, TimeProvider clock, ContactVault vault, QuestionRegistry questions, FeedbackQueries queries, ThemeCatalog themes,
    RetagStore retags, UnitRegistry units, PraiseStore praise, Microsoft.Extensions.Options.IOptions<FeedbackOptions> options)
    : FeedbackService.FeedbackServiceBase
{
    [Authorize(Roles = $"{Roles.Admin},{Roles.App}")]
    [CallerLimit(CallerLimits.Ingest)]
    public override async Task<SubmitFeedbackResponse> SubmitFeedback(SubmitFeedbackRequest request, ServerCallContext context)
    {
        var outcome = await ingest.SubmitAsync(request, context.CancellationToken);
        var row = outcome.Stored ?? await store.GetAsync(outcome.Id!.Value, context.CancellationToken)
            ?? throw new InvalidOperationException($"Feedback {outcome.Id} was replayed but is not stored.");
        return new SubmitFeedbackResponse { Item = ToProto(row, CanReadRaw(context)), Replayed = outcome.Status == SubmitStatus.Replayed };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.App}")]
    [CallerLimit(CallerLimits.Ingest)]
    public override async Task<SubmitFeedbackBatchResponse> SubmitFeedbackBatch(IAsyncStreamReader<SubmitFeedbackBatchRequest> requestStream, ServerCallContext context)
    {
        var response = new SubmitFeedbackBatchResponse();
        var keys = new List<string>();
        async IAsyncEnumerable<IngestEntry> Entries()
        {
            await foreach (var (_, message, refused) in BatchStream.ReadAsync(requestStream, FeedbackLimits.MaxItemsPerBatch, FeedbackLimits.MaxBatchBytes, "item", context.CancellationToken))
            {
                keys.Add(message?.Item?.IdempotencyKey ?? "");
                yield return refused is null ? new IngestEntry(message!.Item ?? new SubmitFeedbackRequest()) : new IngestEntry(null, refused);
            }
        }
        await ingest.IngestAsync(Entries(), (first, outcomes) =>
        {
            for (var n = 0; n < outcomes.Count; n++)
            {
                response.Results.Add(new SubmitFeedbackResult
                {
                    Index = first + n,
                    IdempotencyKey = keys[first + n],
                    FeedbackId = outcomes[n].Id?.ToString() ?? "",
                    Status = outcomes[n].Status,
                    Error = outcomes[n].Error,
                });
            }
            return Task.CompletedTask;
        }, context.CancellationToken);
        response.Stored = response.Results.Count(r => r.Status == SubmitStatus.Stored);
        response.Replayed = response.Results.Count(r => r.Status == SubmitStatus.Replayed);
        response.Rejected = response.Results.Count(r => r.Status == SubmitStatus.Rejected);
        return response;
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.App}")]
    [CallerLimit(CallerLimits.Import)]
    public override Task ImportFeedbackCsv(IAsyncStreamReader<ImportFeedbackCsvRequest> requestStream,
        IServerStreamWriter<ImportFeedbackCsvResponse> responseStream, ServerCallContext context) =>
        csvImport.RunAsync(requestStream, responseStream, context.CancellationToken);

    [Authorize(Roles = $"{Roles.Admin},{Roles.App}")]
    public override async Task<PutImportProfileResponse> PutImportProfile(PutImportProfileRequest request, ServerCallContext context)
    {
        var (profile, created) = await importProfiles.PutAsync(request.Profile, context.GetHttpContext().User.Identity?.Name ?? "", context.CancellationToken);
        return new PutImportProfileResponse { Profile = profile, Created = created };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.App}")]
    public override async Task<GetImportProfileResponse> GetImportProfile(GetImportProfileRequest request, ServerCallContext context) =>
        new() { Profile = await importProfiles.GetAsync(request.Name, context.CancellationToken) };

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.App}")]
    public override async Task<ListImportProfilesResponse> ListImportProfiles(ListImportProfilesRequest request, ServerCallContext context)
    {
        var check = new Violations();
        var page = check.Page(request.PageSize, request.PageToken, 1000, 1000);
        check.ThrowIfAny();
        var response = new ListImportProfilesResponse();
        response.Profiles.AddRange(Pages.Slice(await importProfiles.ListAsync(context.CancellationToken), p => p.Name, page, out var next));
        response.NextPageToken = next;
        return response;
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<DeleteImportProfileResponse> DeleteImportProfile(DeleteImportProfileRequest request, ServerCallContext context) =>
        new() { Deleted = await importProfiles.DeleteAsync(request.Name, context.CancellationToken) };

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst}")]
    public override async Task<CreateThemeResponse> CreateTheme(CreateThemeRequest request, ServerCallContext context)
    {
        var theme = CheckedTheme(request.Theme);
        var job = await themes.SaveAsync(theme, create: true, context.CancellationToken);
        return new() { Theme = ToProto(theme), Retag = ProtoMapping.ToProto(job, clock.GetUtcNow()) };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst}")]
    public override async Task<UpdateThemeResponse> UpdateTheme(UpdateThemeRequest request, ServerCallContext context)
    {
        var theme = CheckedTheme(await UpdateMasks.ApplyAsync(request.UpdateMask, request.Theme, "theme", async named =>
        {
            var key = Violations.FailFast.Key(named.Key, "theme.key");
            return (await themes.CurrentAsync(context.CancellationToken)).Where(t => t.Key == key).Select(ToProto).FirstOrDefault()
                ?? throw new NotFoundException("theme", key);
        }, "key"));
        var job = await themes.SaveAsync(theme, create: false, context.CancellationToken);
        return new() { Theme = ToProto(theme), Retag = ProtoMapping.ToProto(job, clock.GetUtcNow()) };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst}")]
    public override async Task<DeleteThemeResponse> DeleteTheme(DeleteThemeRequest request, ServerCallContext context)
    {
        var key = Violations.FailFast.Key(request.Key, "key");
        return new() { Retag = ProtoMapping.ToProto(await themes.DeleteAsync(key, context.CancellationToken), clock.GetUtcNow()) };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.App}")]
    public override async Task<ListThemesResponse> ListThemes(ListThemesRequest request, ServerCallContext context)
    {
        var check = new Violations();
        var page = check.Page(request.PageSize, request.PageToken, 1000, 1000);
        check.ThrowIfAny();
        var taxonomy = await themes.CurrentTaxonomyAsync(context.CancellationToken);
        var response = new ListThemesResponse { TaxonomyVersion = taxonomy.Version };
        response.Themes.AddRange(Pages.Slice(taxonomy.Themes.Select(ToProto), t => t.Key, page, out var next));
        response.NextPageToken = next;
        return response;
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst}")]
    public override async Task<GetRetagStatusResponse> GetRetagStatus(GetRetagStatusRequest request, ServerCallContext context)
    {
        if (request.TaxonomyVersion < 0) throw new FieldViolationException("taxonomy_version", "taxonomy_version must be 0 (the latest) or a version.");
        var job = await retags.GetAsync(request.TaxonomyVersion, context.CancellationToken)
            ?? throw new NotFoundException("taxonomy version", request.TaxonomyVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new() { Retag = ProtoMapping.ToProto(job, clock.GetUtcNow()) };
    }

    private static Domain.Text.Theme CheckedTheme(V1.Theme? t)
    {
        if (t is null) throw new FieldViolationException("theme", "theme is required.");
        var check = new Violations();
        if (!Identifiers.Key().IsMatch(t.Key)) check.Add("theme.key", "theme.key must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");
        if (t.Name.Length is 0 or > 100) check.Add("theme.name", "theme.name is required, at most 100 characters.");
        if (t.Keywords.Count + t.Phrases.Count + t.GenericKeywords.Count + t.GenericPhrases.Count == 0) check.Add("theme.keywords", "a theme needs at least one keyword or phrase.");
        foreach (var (field, values) in new[] { ("theme.keywords", t.Keywords), ("theme.phrases", t.Phrases), ("theme.generic_keywords", t.GenericKeywords), ("theme.generic_phrases", t.GenericPhrases) })
        {
            if (values.Count > 50) check.Add(field, $"{field} may hold at most 50 entries.");
            if (values.Any(v => v.Trim().Length is 0 or > 50 || !Violations.IsCleanText(v, refuseReplacement: true))) check.Add(field, $"each of {field} must be 1-50 characters of clean text.");
        }
        check.ThrowIfAny();
        static List<string> Keywords(IEnumerable<string> keywords) => keywords.Select(k => k.Trim().ToLowerInvariant()).ToList();
        static List<string> Phrases(IEnumerable<string> phrases) => phrases.Select(p => p.Trim()).ToList();
        return new Domain.Text.Theme(t.Key, t.Name, Keywords(t.Keywords), Phrases(t.Phrases))
        {
            GenericKeywords = Keywords(t.GenericKeywords),
            GenericPhrases = Phrases(t.GenericPhrases),
        };
    }

    private static V1.Theme ToProto(Domain.Text.Theme theme)
    {
        var proto = new V1.Theme { Key = theme.Key, Name = theme.Name };
        proto.Keywords.AddRange(theme.Keywords);
        proto.Phrases.AddRange(theme.Phrases);
        proto.GenericKeywords.AddRange(theme.GenericKeywords);
        proto.GenericPhrases.AddRange(theme.GenericPhrases);
        return proto;
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst}")]
    public override async Task<ListFeedbackResponse> ListFeedback(ListFeedbackRequest request, ServerCallContext context)
    {
        var check = new Violations();
        check.Check(request.PageSize is >= 0 and <= 200, "page_size", "page_size must be 0 to 200.");
        check.Check(request.Channel == Channel.Unspecified || System.Enum.IsDefined(request.Channel), "channel", "channel is not a known channel.");
        check.Check(System.Enum.IsDefined(request.Audience), "audience", "audience is not a known audience.");
        check.Check(System.Enum.IsDefined(request.Polarity), "polarity", "polarity is not a known polarity.");
        foreach (var (field, value) in new[] { ("journey_key", request.Journey), ("touchpoint_key", request.TouchpointKey), ("product_id", request.ProductId), ("lot_id", request.LotId), ("question_id", request.QuestionId), ("theme_key", request.ThemeKey) })
        {
            check.Check(value.Length == 0 || value.Length <= FeedbackLimits.MaxIdLength && Identifiers.Token().IsMatch(value), field, $"{field} is not an id.");
        }
        check.Check(!request.JourneyFieldsDisagree, "journey_key", "journey_key and the deprecated journey_id name different journeys: send journey_key only.");
        check.Check(request.TextContains.Length is 0 or (>= 2 and <= 100), "text_contains", "text_contains must be 2 to 100 characters.");
        check.Check(request.QuestionId.Length > 0 || !request.HasMinRating && !request.HasMaxRating, "question_id", "question_id is required with min_rating or max_rating.");
        check.Check(!request.HasMinRating || !request.HasMaxRating || request.MinRating <= request.MaxRating, "max_rating", "max_rating must not be below min_rating.");
        check.Check(request.ReceivedAfter is null || request.ReceivedBefore is null || request.ReceivedAfter.ToDateTime() < request.ReceivedBefore.ToDateTime(),
            "received_before", "received_before must be after received_after.");
        FeedbackCursor? cursor = null;
        if (request.PageToken.Length > 0)
        {
            cursor = ParseCursor(request.PageToken);
            check.Check(cursor is not null, "page_token", "page_token is not one this service issued.");
        }
        check.ThrowIfAny();

        var filter = new FeedbackFilter(
            request.ReceivedAfter?.ToDateTime(), request.ReceivedBefore?.ToDateTime(),
            request.Channel == Channel.Unspecified ? null : ChannelNames.ToStored(request.Channel),
            request.Audience switch { Audience.Customer => "customer", Audience.Employee => "employee", _ => null },
            NullIfEmpty(request.Journey), NullIfEmpty(request.TouchpointKey), NullIfEmpty(request.ProductId), NullIfEmpty(request.LotId),
            NullIfEmpty(request.QuestionId), request.HasMinRating ? request.MinRating : null, request.HasMaxRating ? request.MaxRating : null,
            NullIfEmpty(request.ThemeKey),
            request.Polarity == Polarity.Unspecified ? null : ProtoMapping.FromProto(request.Polarity),
            NullIfEmpty(request.TextContains),
            request.HasDuplicate ? request.Duplicate : null);
        var (page, next) = await queries.ListAsync(filter, cursor, request.PageSize == 0 ? 50 : request.PageSize, context.CancellationToken);
        var raw = CanReadRaw(context);
        var response = new ListFeedbackResponse { NextPageToken = next is null ? "" : FormatCursor(next) };
        response.Items.AddRange(page.Select(r => ToProto(r, raw)));
        if (raw) await RecordRawReadsAsync(context, page);
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
        var check = new Violations();
        if (!Identifiers.Key().IsMatch(q.Id)) check.Add("question.id", "question.id must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");
        if (q.Text.Length is 0 or > Question.MaxTextLength) check.Add("question.text", $"question.text is required, at most {Question.MaxTextLength} characters.");
        if (q.Metric == Metric.Unspecified || !System.Enum.IsDefined(q.Metric)) check.Add("question.metric", "question.metric is required.");
        if (!System.Enum.IsDefined(q.Audience)) check.Add("question.audience", "question.audience is not a known audience.");
        var metric = ProtoMapping.FromProto(q.Metric);
        var question = new Question(q.Id, q.Text, metric, q.ScaleMin, q.ScaleMax, q.HigherIsBetter, q.TopBoxValues.ToList())
        {
            Audience = q.Audience switch
            {
                Audience.Employee => Question.Employees,
                Audience.Customer => Question.Customers,
                _ => Question.AudienceOf(metric) ?? Question.Customers,
            },
            DriverOf = q.DriverOf.Length > 0 ? q.DriverOf : null,
        };
        if (q.DriverOf.Length > 0 && !Identifiers.Key().IsMatch(q.DriverOf)) check.Add("question.driver_of", "question.driver_of must be the id of a registered question (1-64 characters of a-z, 0-9, '.', '_' or '-').");
        if (check.IsEmpty)
        {
            var outcome = question.DriverOf is { } of ? await questions.FindAsync(of, context.CancellationToken) : null;
            foreach (var p in question.Problems().Concat(question.DriverProblems(outcome))) check.Add("question." + p.Field, p.Problem);
        }
        check.ThrowIfAny();
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
        var check = new Violations();
        var page = check.Page(request.PageSize, request.PageToken, 1000, 1000);
        check.ThrowIfAny();
        var response = new ListQuestionsResponse();
        response.Questions.AddRange(Pages.Slice((await questions.ListAsync(context.CancellationToken)).Select(ToProto), q => q.Id, page, out var next));
        response.NextPageToken = next;
        return response;
    }

    private static V1.Question ToProto(Question q)
    {
        var proto = new V1.Question
        {
            Id = q.Id,
            Text = q.Text,
            Metric = ProtoMapping.ToProto(q.Metric),
            ScaleMin = q.ScaleMin,
            ScaleMax = q.ScaleMax,
            HigherIsBetter = q.HigherIsBetter,
            Audience = q.Audience == Question.Employees ? Audience.Employee : Audience.Customer,
            DriverOf = q.DriverOf ?? "",
        };
        proto.TopBoxValues.AddRange(q.TopBox);
        return proto;
    }


    [Authorize(Roles = Roles.Admin)]
    public override async Task<EraseCustomerResponse> EraseCustomer(EraseCustomerRequest request, ServerCallContext context)
    {
        if (request.WaitSeconds is < 0 or > 30) throw new FieldViolationException("wait_seconds", "wait_seconds must be 0-30.");
        var erasure = await eraseCustomer.EraseAsync(eraseCustomer.CustomerIdOf(request.CustomerId, request.Email, request.Phone), context.CancellationToken);
        var receipt = await ReceiptAsync(erasure.EventId, context.CancellationToken);
        var until = clock.GetUtcNow().AddSeconds(request.WaitSeconds);
        while (!receipt.Complete && clock.GetUtcNow() < until)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), clock, context.CancellationToken);
            receipt = await ReceiptAsync(erasure.EventId, context.CancellationToken);
        }
        return new EraseCustomerResponse { VerbatimsErased = erasure.Verbatims, ContactsErased = erasure.Contacts, ErasureEventId = erasure.EventId, Receipt = receipt };
    }

    /// <summary>An admin's read of raw words or contact details is recorded: who, which item, what.</summary>
    private Task RecordRawReadsAsync(ServerCallContext context, IEnumerable<FeedbackRow> rows) =>
        store.RecordPersonalDataReadsAsync(context.GetHttpContext().User.Identity?.Name ?? "unknown",
            rows.Select(r => (r.Id, Fields: new[] { r.Verbatim is null ? null : "verbatim", r.Contact is null ? null : "contact" }.OfType<string>().ToArray()))
                .Where(r => r.Fields.Length > 0).ToList(), context.CancellationToken);

    [Authorize(Roles = Roles.Admin)]
    public override async Task<ListPersonalDataReadsResponse> ListPersonalDataReads(ListPersonalDataReadsRequest request, ServerCallContext context)
    {
        Guid? feedbackId = null;
        if (request.FeedbackId.Length > 0)
        {
            if (!Guid.TryParse(request.FeedbackId, out var id)) throw new FieldViolationException("feedback_id", "feedback_id must be a feedback id (a UUID).");
            feedbackId = id;
        }
        if (request.Actor.Length > 200) throw new FieldViolationException("actor", "actor is at most 200 characters.");
        var check = Violations.FailFast;
        var page = check.Page(request.PageSize, request.PageToken, 500, 100);
        var before = check.Number(page);
        var reads = Pages.Trim((await store.PersonalDataReadsAsync(NullIfEmpty(request.Actor), feedbackId, before, page.Size + 1, context.CancellationToken)).ToList(),
            page, r => r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), out var next);
        return new ListPersonalDataReadsResponse
        {
            NextPageToken = next,
            Reads =
            {
                reads.Select(r => new PersonalDataRead
                {
                    Actor = r.Actor,
                    FeedbackId = r.FeedbackId.ToString(),
                    Fields = { r.Fields },
                    ReadAt = Timestamp.FromDateTime(DateTime.SpecifyKind(r.ReadAt, DateTimeKind.Utc)),
                }),
            },
        };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<SaveUnitResponse> SaveUnit(SaveUnitRequest request, ServerCallContext context)
    {
        var unit = UnitProto.FromProto(request.Unit);
        var (saved, created) = await units.SaveAsync(unit, context.CancellationToken);
        return new SaveUnitResponse { Unit = UnitProto.ToProto(saved), Created = created };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.JourneyOwner},{Roles.App}")]
    public override async Task<ListUnitsResponse> ListUnits(ListUnitsRequest request, ServerCallContext context)
    {
        var check = new Violations();
        var page = check.Page(request.PageSize, request.PageToken, 1000, 1000);
        check.Check(request.Kind == Common.V1.UnitKind.Unspecified || System.Enum.IsDefined(request.Kind), "kind", "kind must be UNIT_KIND_STORE, UNIT_KIND_TEAM or UNIT_KIND_AGENT.");
        var parent = check.OptionalKey(request.ParentKey, "parent_key");
        check.ThrowIfAny();
        var tree = await units.CurrentAsync(context.CancellationToken);
        if (parent is not null && tree.Find(parent) is null) throw new NotFoundException("unit", parent);
        var listed = tree.All.Where(u => (request.Kind == Common.V1.UnitKind.Unspecified || (int)u.Kind == (int)request.Kind) && (parent is null || u.ParentKey == parent));
        var response = new ListUnitsResponse();
        response.Units.AddRange(Pages.Slice(listed, u => u.Key, page, out var next).Select(UnitProto.ToProto));
        response.NextPageToken = next;
        return response;
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.JourneyOwner}")]
    public override async Task<ListPraiseResponse> ListPraise(ListPraiseRequest request, ServerCallContext context)
    {
        var check = new Violations();
        var page = check.Page(request.PageSize, request.PageToken, 200, 50);
        var unitKey = check.OptionalKey(request.UnitKey, "unit_key");
        check.Check(unitKey is not null || !request.IncludeDescendants, "include_descendants", "include_descendants needs unit_key.");
        // Timestamps were checked for range on the way in (WireValues), so they convert.
        var after = request.GivenAfter?.ToDateTime();
        var before = request.GivenBefore?.ToDateTime();
        check.Check(after is null || before is null || after < before, "given_before", "given_before must be after given_after.");
        var cursor = page.After is null ? ((DateTime, Guid)?)null
            : Pages.TryTimeKey(page.After, out var at, out var id) && Guid.TryParse(id, out var guid) ? (at, guid) : null;
        check.Check(page.After is null || cursor is not null, "page_token", "page_token is not one this method gave (list again from the first page).");
        check.ThrowIfAny();
        var tree = await units.CurrentAsync(context.CancellationToken);
        if (unitKey is not null && tree.Find(unitKey) is null) throw new NotFoundException("unit", unitKey);
        IReadOnlyList<string>? keys = unitKey is null ? null : request.IncludeDescendants ? tree.WithDescendants(unitKey) : [unitKey];
        var rows = Pages.Trim(await praise.ListAsync(keys, after, before, cursor, page.Size + 1, context.CancellationToken), page,
            p => Pages.TimeKey(p.GivenAt, p.Id.ToString()), out var next);
        var response = new ListPraiseResponse { NextPageToken = next };
        response.Praise.AddRange(rows.Select(UnitProto.ToProto));
        return response;
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<GetErasureReceiptResponse> GetErasureReceipt(GetErasureReceiptRequest request, ServerCallContext context)
    {
        if (request.ErasureId.Length is 0 or > 200) throw new FieldViolationException("erasure_id", "erasure_id is required (EraseCustomer's erasure_event_id).");
        return new GetErasureReceiptResponse { Receipt = await ReceiptAsync(request.ErasureId, context.CancellationToken) };
    }

    private async Task<ErasureReceipt> ReceiptAsync(string erasureId, CancellationToken ct)
    {
        var row = await store.ErasureReceiptAsync(erasureId, ct) ?? throw new NotFoundException("erasure", erasureId);
        var receipt = new ErasureReceipt { ErasureId = row.ErasureId, ErasedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(row.ErasedAt, DateTimeKind.Utc)) };
        foreach (var service in row.Services)
        {
            receipt.Services.Add(new ServiceErasure
            {
                Service = service.Service,
                Removed = { service.Removed.ToDictionary() },
                AppliedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(service.AppliedAt, DateTimeKind.Utc)),
            });
        }
        receipt.Pending.AddRange(options.Value.ErasureServices.Where(s => row.Services.All(r => r.Service != s)));
        receipt.Complete = receipt.Pending.Count == 0;
        return receipt;
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.App}")]
    public override async Task<GetFeedbackResponse> GetFeedback(GetFeedbackRequest request, ServerCallContext context)
    {
        if (!Guid.TryParse(request.Id, out var id))
        {
            throw new FieldViolationException("id", "id must be a feedback id (a UUID).");
        }
        var row = await store.GetAsync(id, context.CancellationToken) ?? throw new NotFoundException("feedback", request.Id);
        var raw = CanReadRaw(context);
        if (raw) await RecordRawReadsAsync(context, [row]);
        return new GetFeedbackResponse { Item = ToProto(row, raw) };
    }




    // Raw verbatims may hold personal data the redactor missed: only admins see them.
    private static bool CanReadRaw(ServerCallContext context) => context.GetHttpContext().User.IsInRole(Roles.Admin);



    private FeedbackItem ToProto(FeedbackRow row, bool raw)
    {
        var item = new FeedbackItem
        {
            Id = row.Id.ToString(),
            Channel = ChannelNames.FromStored(row.Channel),
            Journey = row.JourneyId ?? "",
            Verbatim = raw ? row.Verbatim ?? "" : "",
            RedactedVerbatim = row.RedactedVerbatim ?? "",
            Language = row.Language ?? "",
            SentimentScore = row.Sentiment ?? 0,
            Polarity = ProtoMapping.PolarityOf(row),
            GivenAt = Timestamp.FromDateTime(row.GivenAt),
            ReceivedAt = Timestamp.FromDateTime(row.ReceivedAt),
        };
        item.Ratings.AddRange(row.Ratings.Select(r => new Rating { QuestionId = r.QuestionId, Value = r.Value }));
        item.Themes.AddRange(row.Themes.Select(ProtoMapping.ToProto));
        item.TaxonomyVersion = row.TaxonomyVersion;
        item.Audience = row.Audience == "employee" ? Audience.Employee : Audience.Customer;
        item.CustomerId = row.ErasedAt is null ? row.CustomerId ?? "" : ""; // an erased customer's items carry a pseudonym, never shown
        item.Erased = row.ErasedAt is not null;
        item.Links = new Links
        {
            TouchpointKey = row.Links.TouchpointKey ?? "",
            ProductId = row.Links.ProductId ?? "",
            LotId = row.Links.LotId ?? "",
            StoreId = row.Links.StoreId ?? "",
            UnitKey = row.Links.UnitKey ?? "",
        };
        foreach (var (key, value) in row.Links.Segment) item.Links.Segment[key] = value;
        item.DuplicateOf = row.DuplicateOf?.ToString() ?? "";
        item.Source = new Source { System = row.Links.SourceSystem ?? "", SurveyId = row.Links.SurveyId ?? "", ExternalId = row.Links.ExternalId ?? "" };
        item.Conversation = ProtoMapping.ToConversation(row.Conversation);
        if (raw && row.Contact is { } sealedContact) item.Contact = vault.Open(row.Id, sealedContact);
        return item;
    }

}
