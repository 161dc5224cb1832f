using System.Collections.Concurrent;
using CxMesh.Feedback.Domain;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Data;

/// <summary>
/// Registered questions. They never change once registered, so every replica may cache them for good;
/// an id it has not seen is looked up in Postgres (another replica may just have registered it).
/// </summary>
public sealed class QuestionRegistry([FromKeyedServices(FeedbackModule.Name)] ServiceDatabase database)
{
    private readonly ConcurrentDictionary<string, Question> _cache = new(StringComparer.Ordinal);

    private const string Columns = "id, text, metric, scale_min as ScaleMin, scale_max as ScaleMax, higher_is_better as HigherIsBetter, top_box as TopBox, audience, driver_of as DriverOf";

    public Question? Cached(string id) => _cache.GetValueOrDefault(id);

    public async Task<Question?> FindAsync(string id, CancellationToken ct)
    {
        if (_cache.TryGetValue(id, out var cached)) return cached;
        await using var connection = await database.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns} from questions where id = @id",
            new { id }, cancellationToken: ct));
        return row is null ? null : _cache.GetOrAdd(id, row.ToQuestion());
    }

    /// <summary>Brings the given questions into the cache (one query for the ones not there yet); unknown ids stay unknown.</summary>
    public async Task LoadAsync(IEnumerable<string> ids, CancellationToken ct)
    {
        var missing = ids.Where(id => !_cache.ContainsKey(id)).Distinct(StringComparer.Ordinal).ToArray();
        if (missing.Length == 0) return;
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns} from questions where id = any(@missing)",
            new { missing }, cancellationToken: ct));
        foreach (var row in rows) _cache.TryAdd(row.Id, row.ToQuestion());
    }

    public async Task<IReadOnlyList<Question>> ListAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns} from questions order by id",
            cancellationToken: ct));
        return rows.Select(r => _cache.GetOrAdd(r.Id, r.ToQuestion())).ToList();
    }

    public async Task<Question> RegisterAsync(Question question, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into questions (id, text, metric, scale_min, scale_max, higher_is_better, top_box, audience, driver_of)
            values (@Id, @Text, @metric, @ScaleMin, @ScaleMax, @HigherIsBetter, @topBox, @Audience, @DriverOf)
            on conflict (id) do nothing
            """,
            new
            {
                question.Id,
                question.Text,
                metric = question.Metric.ToString().ToLowerInvariant(),
                question.ScaleMin,
                question.ScaleMax,
                question.HigherIsBetter,
                topBox = question.TopBox.ToArray(),
                question.Audience,
                question.DriverOf,
            }, cancellationToken: ct));
        if (inserted == 0) throw new AlreadyExistsException($"Question '{question.Id}' is registered already; questions do not change, register a new id.");
        return _cache.GetOrAdd(question.Id, question);
    }

    // A class with setters: Dapper materialises int[] columns into properties, not into record constructors.
    private sealed class Row
    {
        public string Id { get; set; } = "";
        public string Text { get; set; } = "";
        public string Metric { get; set; } = "";
        public int ScaleMin { get; set; }
        public int ScaleMax { get; set; }
        public bool HigherIsBetter { get; set; }
        public int[] TopBox { get; set; } = [];
        public string Audience { get; set; } = Question.Customers;
        public string? DriverOf { get; set; }

        public Question ToQuestion() => new(Id, Text, Enum.Parse<MetricKind>(Metric, ignoreCase: true), ScaleMin, ScaleMax, HigherIsBetter, TopBox)
        {
            Audience = Audience,
            DriverOf = DriverOf,
        };
    }
}
