using CxMesh.Feedback.Data;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Validation;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CxMesh.Feedback.UseCases;

/// <summary>
/// Named, stored import options (PutImportProfile and the rest), and the options an import runs with: its own,
/// over the profile it names.
/// </summary>
public sealed class ImportProfiles(ImportProfileStore store, QuestionRegistry questions)
{
    public const int MaxDescriptionLength = 500;

    public async Task<(ImportProfile Profile, bool Created)> PutAsync(ImportProfile? profile, string updatedBy, CancellationToken ct)
    {
        if (profile is null) throw new FieldViolationException("profile", "profile is required.");
        var check = new Violations();
        check.Key(profile.Name, "profile.name");
        check.Check(profile.Description.Length <= MaxDescriptionLength && Violations.IsCleanText(profile.Description, refuseReplacement: false), "profile.description",
            $"profile.description is at most {MaxDescriptionLength} characters of text.");
        check.Check(profile.Options is not null, "profile.options", "profile.options is required: the mapping and settings the profile stands for.");
        check.ThrowIfAny();
        var options = profile.Options!.Clone();
        options.Profile = "";
        options.ResumeAfterRows = 0; // a property of one run of one file
        await CheckAsync(options, "profile.options", ct);
        var (stored, created) = await store.PutAsync(profile.Name, profile.Description, options.ToByteArray(), updatedBy, ct);
        return (ToProto(stored), created);
    }

    public async Task<ImportProfile> GetAsync(string name, CancellationToken ct)
    {
        Violations.FailFast.Key(name, "name");
        return await store.GetAsync(name, ct) is { } stored ? ToProto(stored) : throw new NotFoundException("import profile", name);
    }

    public async Task<IReadOnlyList<ImportProfile>> ListAsync(CancellationToken ct) => (await store.ListAsync(ct)).Select(ToProto).ToList();

    public async Task<bool> DeleteAsync(string name, CancellationToken ct)
    {
        Violations.FailFast.Key(name, "name");
        return await store.DeleteAsync(name, ct);
    }

    /// <summary>The options an import runs with: the request's over its profile's, checked before a byte of the file is read.</summary>
    public async Task<CsvImportOptions> ResolveAsync(CsvImportOptions request, CancellationToken ct)
    {
        var options = request;
        if (request.Profile.Length > 0)
        {
            Violations.FailFast.Key(request.Profile, "options.profile");
            var stored = await store.GetAsync(request.Profile, ct) ?? throw new NotFoundException("import profile", request.Profile);
            options = Merge(CsvImportOptions.Parser.ParseFrom(stored.Options), request);
        }
        await CheckAsync(options, "options", ct);
        return options;
    }

    /// <summary>The request's settings win where given; columns merge field by field; required and date formats replace.</summary>
    private static CsvImportOptions Merge(CsvImportOptions profile, CsvImportOptions request)
    {
        var merged = profile.Clone();
        merged.Profile = request.Profile;
        merged.ResumeAfterRows = request.ResumeAfterRows;
        if (request.SourceSystem.Length > 0) merged.SourceSystem = request.SourceSystem;
        if (request.DefaultChannel != Common.V1.Channel.Unspecified) merged.DefaultChannel = request.DefaultChannel;
        if (request.Delimiter.Length > 0) merged.Delimiter = request.Delimiter;
        if (request.TimeZone.Length > 0) merged.TimeZone = request.TimeZone;
        if (request.HeaderLayout != HeaderLayout.Unspecified) merged.HeaderLayout = request.HeaderLayout;
        if (request.Format != ImportFormat.Unspecified) merged.Format = request.Format;
        foreach (var (field, column) in request.Columns) merged.Columns[field] = column;
        if (request.Required.Count > 0)
        {
            merged.Required.Clear();
            merged.Required.AddRange(request.Required);
        }
        if (request.DateFormats.Count > 0)
        {
            merged.DateFormats.Clear();
            merged.DateFormats.AddRange(request.DateFormats);
        }
        if (request.DateFields.Count > 0)
        {
            merged.DateFields.Clear();
            merged.DateFields.AddRange(request.DateFields);
        }
        return merged;
    }

    /// <summary>Everything about the options that can be known without the file, every problem named at once under <paramref name="prefix"/>.</summary>
    private async Task CheckAsync(CsvImportOptions options, string prefix, CancellationToken ct)
    {
        var check = ImportFeedbackCsv.CheckOptions(options, prefix);
        var questionIds = options.Columns.Keys.Where(f => f.StartsWith("rating:", StringComparison.Ordinal) && Identifiers.Key().IsMatch(f[7..])).ToList();
        await questions.LoadAsync(questionIds.Select(f => f[7..]), ct);
        foreach (var field in questionIds)
        {
            if (questions.Cached(field[7..]) is null)
            {
                check.Add($"{prefix}.columns[{field}]", $"question '{field[7..]}' is not registered: register it (RegisterQuestion) or map the column to nps, csat, ces or enps.");
            }
        }
        check.ThrowIfAny();
    }

    private static ImportProfile ToProto(StoredImportProfile stored) => new()
    {
        Name = stored.Name,
        Description = stored.Description,
        Options = CsvImportOptions.Parser.ParseFrom(stored.Options),
        UpdatedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(stored.UpdatedAt, DateTimeKind.Utc)),
        UpdatedBy = stored.UpdatedBy,
    };
}
