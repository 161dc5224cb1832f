using CxMesh.Events.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Postgres;
using CxMesh.Scoring.Data;
using CxMesh.Scoring.Domain;
using CxMesh.Scoring.V1;
using CxMesh.Scoring.Workers;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CxMesh.Scoring.Api;

public sealed class ScoringGrpcService(
    ScoreStore store, HotScores hotScores, DriverStore drivers, AlertStore alerts, ValueStore values, StageStore stages, StageRebuilder rebuilder, UnitStore units,
    [FromKeyedServices(ScoringModule.Name)] ServiceDatabase database, TimeProvider clock, IOptions<ScoringOptions> options)
    : ScoringService.ScoringServiceBase
{
    private const string Readers = $"{Roles.Admin},{Roles.Analyst},{Roles.JourneyOwner}";

    private ScoringRequests Checks() => new(hotScores.Today(), options.Value.RetentionDays);

    [Authorize(Roles = $"{Readers},{Roles.App}")]
    public override async Task<GetScoreResponse> GetScore(GetScoreRequest request, ServerCallContext context)
    {
        var checks = Checks();
        var scope = checks.Scope(request.Scope, "scope");
        var (kind, metric) = checks.Metric(request.Metric, request.QuestionId);
        var window = checks.Window(request.Window, "window");
        checks.ThrowIfAny();

        var (stats, source) = hotScores.IsHot(window)
            ? await hotScores.GetAsync(scope.Key, metric, window, context.CancellationToken)
            : ((await store.SumAsync(scope.Key, metric, window, context.CancellationToken)).Stats, "store");
        return new GetScoreResponse { Score = (await ShapeAsync(kind, metric, context.CancellationToken)).Of(stats, window, source) };
    }

    [Authorize(Roles = $"{Readers},{Roles.App}")]
    public override async Task<BatchGetScoresResponse> BatchGetScores(BatchGetScoresRequest request, ServerCallContext context)
    {
        var checks = Checks();
        checks.Check(request.Queries.Count is > 0 and <= ScoringRequests.MaxBatchQueries, "queries",
            $"queries must hold 1 to {ScoringRequests.MaxBatchQueries} queries; got {request.Queries.Count}.");
        var queries = request.Queries.Take(ScoringRequests.MaxBatchQueries).Select((q, i) =>
        {
            var scope = checks.Scope(q.Scope, $"queries[{i}].scope");
            var (kind, metric) = checks.Metric(q.Metric, q.QuestionId, $"queries[{i}].metric", $"queries[{i}].question_id");
            return (Scope: scope, Kind: kind, Metric: metric, Window: checks.Window(q.Window, $"queries[{i}].window"));
        }).ToList();
        checks.ThrowIfAny();

        // The hot ones in one Redis round trip; the others (explicit ranges, old windows) from Postgres, as GetScore reads them.
        var hot = queries.Select((q, i) => (Query: q, Index: i)).Where(q => hotScores.IsHot(q.Query.Window)).ToList();
        var read = await hotScores.GetManyAsync(hot.Select(h => (h.Query.Scope.Key, h.Query.Metric, h.Query.Window)).ToList(), context.CancellationToken);
        var stats = new (RatingStats Stats, string Source)[queries.Count];
        for (var n = 0; n < hot.Count; n++) stats[hot[n].Index] = read[n];
        var shapes = new Dictionary<(MetricKind, MetricKey), ScoreShape>();
        var response = new BatchGetScoresResponse();
        for (var i = 0; i < queries.Count; i++)
        {
            var (scope, kind, metric, window) = queries[i];
            if (stats[i].Source is null) stats[i] = ((await store.SumAsync(scope.Key, metric, window, context.CancellationToken)).Stats, "store");
            if (!shapes.TryGetValue((kind, metric), out var shape)) shapes[(kind, metric)] = shape = await ShapeAsync(kind, metric, context.CancellationToken);
            response.Scores.Add(shape.Of(stats[i].Stats, window, stats[i].Source));
        }
        return response;
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetTrendResponse> GetTrend(GetTrendRequest request, ServerCallContext context)
    {
        var checks = Checks();
        var scope = checks.Scope(request.Scope, "scope");
        var (kind, metric) = checks.Metric(request.Metric, request.QuestionId);
        var window = checks.Window(request.Window, "window");
        var step = checks.Step(request.Granularity, window);
        checks.ThrowIfAny();

        var daily = await store.DailyAsync(scope.Key, metric, window, context.CancellationToken);
        var shape = await ShapeAsync(kind, metric, context.CancellationToken);
        var response = new GetTrendResponse();
        foreach (var bucket in window.Split(step))
        {
            var stats = default(RatingStats);
            for (var day = bucket.Start; day <= bucket.End; day = day.AddDays(1)) stats += daily.GetValueOrDefault(day);
            response.Points.Add(shape.Of(stats, bucket));
        }
        return response;
    }

    [Authorize(Roles = Readers)]
    public override async Task<CompareScoresResponse> CompareScores(CompareScoresRequest request, ServerCallContext context)
    {
        var checks = Checks();
        var (kind, metric) = checks.Metric(request.Metric, request.QuestionId);
        checks.Check(request.A is not null, "a", "a is required: a scope and a window.");
        checks.Check(request.B is not null, "b", "b is required: a scope and a window.");
        var scopeA = checks.Scope(request.A?.Scope, "a.scope");
        var windowA = checks.Window(request.A?.Window, "a.window");
        var scopeB = checks.Scope(request.B?.Scope, "b.scope");
        var windowB = checks.Window(request.B?.Window, "b.window");
        var alpha = checks.Alpha(request.Alpha, "alpha");
        checks.Check(scopeA.Key != scopeB.Key || windowA != windowB, "b", "b must differ from a in its scope or its window.");
        checks.Check(System.Enum.IsDefined(request.Figure), "figure", "figure is not a known figure.");
        checks.Check(request.Figure != Figure.Nps || kind is MetricKind.Nps or MetricKind.Enps, "figure",
            "figure NPS needs metric NPS or ENPS: other scales have no promoters and detractors.");
        checks.ThrowIfAny();

        var figure = request.Figure switch
        {
            Figure.Nps => ScoreFigure.Nps,
            Figure.Mean => ScoreFigure.Mean,
            Figure.TopBoxShare => ScoreFigure.TopBoxShare,
            _ => (ScoreFigure?)null,
        };
        var a = (await store.SumAsync(scopeA.Key, metric, windowA, context.CancellationToken)).Stats;
        var shape = await ShapeAsync(kind, metric, context.CancellationToken);
        var b = (await store.SumAsync(scopeB.Key, metric, windowB, context.CancellationToken)).Stats;
        var comparison = Comparison.Of(a, b, figure ?? RatingStats.HeadlineFigure(kind), alpha);
        return new CompareScoresResponse
        {
            A = shape.Of(a, windowA),
            B = shape.Of(b, windowB),
            Difference = comparison.Difference,
            DifferenceMarginOfError = comparison.Margin,
            PValue = comparison.PValue,
            Significant = comparison.Significant,
            HasDifference = comparison.HasDifference,
            HasPValue = comparison.HasPValue,
            Figure = figure switch
            {
                ScoreFigure.Nps => Figure.Nps,
                ScoreFigure.Mean => Figure.Mean,
                ScoreFigure.TopBoxShare => Figure.TopBoxShare,
                _ => kind switch { MetricKind.Nps or MetricKind.Enps => Figure.Nps, MetricKind.Csat => Figure.TopBoxShare, _ => Figure.Mean },
            },
        };
    }

    [Authorize(Roles = Readers)]
    public override async Task<RankScopesResponse> RankScopes(RankScopesRequest request, ServerCallContext context)
    {
        var checks = Checks();
        var parent = checks.Scope(request.Parent, "parent", maxParts: 1);
        var (kind, metric) = checks.Metric(request.Metric, request.QuestionId);
        var window = checks.Window(request.Window, "window");
        var dimension = checks.Dimension(request.Dimension, request.Attribute, "dimension", "attribute");
        var alpha = checks.Alpha(request.Alpha, "alpha");
        checks.Check(request.MinN >= 0, "min_n", "min_n must not be negative.");
        if (dimension is { } d)
        {
            var name = new ScopePart(d, "", d == ScopeDimension.Segment ? request.Attribute : null).Name;
            checks.Check(parent.Parts.All(p => p.Name != name), "dimension", "dimension must differ from the parent's.");
            checks.Check(parent.Parts.Count == 0 || d is not (ScopeDimension.Language or ScopeDimension.Audience or ScopeDimension.Unit) && parent.Parts.All(p => !p.StandsAlone), "dimension",
                "language, audience and unit stand alone: rank them under all feedback, and nothing under them.");
        }
        checks.ThrowIfAny();

        // The children's keys are the parent's with one more part: find them with a LIKE pattern on the canonical key.
        const string placeholder = "\u0001";
        var child = new ScopePart(dimension!.Value, placeholder, dimension == ScopeDimension.Segment ? request.Attribute : null);
        var template = new ScoreScope(parent.Parts.Append(child)).Key;
        var pattern = template.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_").Replace(placeholder, "%");
        var children = await store.MatchingAsync(pattern, parent.Parts.Count + 1, metric, window, context.CancellationToken);
        var parentStats = (await store.SumAsync(parent.Key, metric, window, context.CancellationToken)).Stats;
        var shape = await ShapeAsync(kind, metric, context.CancellationToken);

        var response = new RankScopesResponse { Parent = shape.Of(parentStats, window) };
        var minN = Math.Max(1, request.MinN);
        var ranked = new List<RankedScope>();
        foreach (var (key, stats) in children.Where(c => c.Value.N >= minN))
        {
            // Against the rest of the parent, so the two samples are independent.
            var rest = parentStats - stats;
            var comparison = Comparison.Of(stats, rest, RatingStats.HeadlineFigure(kind), alpha);
            ranked.Add(new RankedScope
            {
                Scope = ToProto(ScoreScope.Parse(key)),
                Score = shape.Of(stats, window),
                PValue = comparison.PValue,
                HasPValue = comparison.HasPValue,
                SignificantlyBelow = comparison.Significant && comparison.Difference < 0,
                SignificantlyAbove = comparison.Significant && comparison.Difference > 0,
            });
        }
        response.Ranked.AddRange(ranked.OrderByDescending(r => r.Score.Value).ThenBy(r => r.Scope.ToString(), StringComparer.Ordinal));
        return response;
    }

    private static readonly MetricKey NpsKey = new(ScoreStore.MetricName(MetricKind.Nps), ScoreStore.AllQuestions);
    private static readonly MetricKey EnpsKey = new(ScoreStore.MetricName(MetricKind.Enps), ScoreStore.AllQuestions);
    private static readonly MetricKey CsatKey = new(ScoreStore.MetricName(MetricKind.Csat), "csat");
    private const int UnitDefaultDays = 90;
    private const int UnitMinN = 10;

    [Authorize(Roles = Readers)]
    public override async Task<CompareUnitsResponse> CompareUnits(CompareUnitsRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var checks = Checks();
        checks.Check(request.Kind is Common.V1.UnitKind.Store or Common.V1.UnitKind.Team or Common.V1.UnitKind.Agent, "kind", "kind is required: UNIT_KIND_STORE, UNIT_KIND_TEAM or UNIT_KIND_AGENT.");
        var parent = checks.OptionalKey(request.ParentKey, "parent_key");
        var window = checks.Window(request.Window, "window", UnitDefaultDays);
        checks.Check(request.MinN is >= 0 and <= 100_000, "min_n", "min_n must be 1 to 100000 (0 means 10).");
        checks.ThrowIfAny();

        var minN = request.MinN == 0 ? UnitMinN : request.MinN;
        var all = await units.AllAsync(ct);
        if (parent is not null && all.All(u => u.Key != parent)) throw new NotFoundException("unit", parent);
        var kind = UnitKinds.Name(request.Kind);
        var nps = await store.MatchingAsync(UnitPattern, 1, NpsKey, window, ct);
        var enps = await store.MatchingAsync(UnitPattern, 1, EnpsKey, window, ct);
        var (npsShape, enpsShape) = (await ShapeAsync(MetricKind.Nps, NpsKey, ct), await ShapeAsync(MetricKind.Enps, EnpsKey, ct));

        var compared = new List<UnitComparison>();
        foreach (var unit in all.Where(u => u.Kind == kind && (parent is null || u.ParentKey == parent)))
        {
            var key = UnitScope(unit.Key);
            var (customers, employees) = (nps.GetValueOrDefault(key), enps.GetValueOrDefault(key));
            var withheld = Withheld(employees);
            compared.Add(new UnitComparison
            {
                Unit = ToProto(unit),
                Nps = npsShape.Of(customers, window),
                Enps = enpsShape.Of(withheld ? default : employees, window),
                EnpsWithheld = withheld,
                InCorrelation = !withheld && customers.N >= minN && employees.N >= minN,
            });
        }
        var response = new CompareUnitsResponse
        {
            Correlation = ToProto(Correlation.Of(compared.Where(c => c.InCorrelation).Select(c => (c.Enps.Value, c.Nps.Value)).ToList())),
            StartDate = window.Start.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            EndDate = window.End.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        };
        response.Units.AddRange(compared.OrderByDescending(c => c.Nps.HasValue).ThenByDescending(c => c.Nps.Value).ThenBy(c => c.Unit.Key, StringComparer.Ordinal));
        return response;
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetUnitScorecardResponse> GetUnitScorecard(GetUnitScorecardRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var checks = Checks();
        var key = checks.Key(request.UnitKey, "unit_key");
        var window = checks.Window(request.Window, "window", UnitDefaultDays);
        checks.ThrowIfAny();

        var all = await units.AllAsync(ct);
        var unit = all.FirstOrDefault(u => u.Key == key) ?? throw new NotFoundException("unit", key);
        var (npsShape, enpsShape, csatShape) =
            (await ShapeAsync(MetricKind.Nps, NpsKey, ct), await ShapeAsync(MetricKind.Enps, EnpsKey, ct), await ShapeAsync(MetricKind.Csat, CsatKey, ct));
        var scope = UnitScope(key);
        var employees = (await store.SumAsync(scope, EnpsKey, window, ct)).Stats;
        var withheld = Withheld(employees);
        var response = new GetUnitScorecardResponse
        {
            Unit = ToProto(unit),
            Nps = npsShape.Of((await store.SumAsync(scope, NpsKey, window, ct)).Stats, window),
            Csat = csatShape.Of((await store.SumAsync(scope, CsatKey, window, ct)).Stats, window),
            Enps = enpsShape.Of(withheld ? default : employees, window),
            EnpsWithheld = withheld,
            ParentNps = npsShape.Of(unit.ParentKey is { } p ? (await store.SumAsync(UnitScope(p), NpsKey, window, ct)).Stats : default, window),
        };
        // Its peers: the units of its kind under the same parent, with enough customers' answers to be placed.
        var peers = (await store.MatchingAsync(UnitPattern, 1, NpsKey, window, ct))
            .Where(s => s.Value.N >= UnitMinN)
            .Join(all.Where(u => u.Kind == unit.Kind && u.ParentKey == unit.ParentKey), s => s.Key, u => UnitScope(u.Key), (s, u) => (u.Key, Value: s.Value.Headline(MetricKind.Nps).Value))
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
        response.Peers = peers.Count;
        response.NpsRank = peers.FindIndex(p => p.Key == key) + 1;
        var below = Descendants(all, key);
        response.UnitsBelow = below.Count;
        response.Praise = await units.PraiseAsync([key, .. below], window.Start, window.End, ct);
        return response;
    }

    // Every unit scope's key: "unit=<key>" (one part; no other dimension's name starts so).
    private const string UnitPattern = "unit=%";

    private static string UnitScope(string unitKey) => new ScoreScope([new ScopePart(ScopeDimension.Unit, unitKey)]).Key;

    /// <summary>A handful of employees' answers would tell who said what: their eNPS is not shown.</summary>
    private bool Withheld(RatingStats employees) => employees.N > 0 && employees.N < options.Value.EmployeeMinResponses;

    private static List<string> Descendants(IReadOnlyList<UnitRow> all, string key)
    {
        var children = all.Where(u => u.ParentKey is not null).ToLookup(u => u.ParentKey!, u => u.Key);
        var found = new List<string>();
        var queue = new Queue<string>([key]);
        while (queue.Count > 0 && found.Count < all.Count)
        {
            foreach (var child in children[queue.Dequeue()])
            {
                found.Add(child);
                queue.Enqueue(child);
            }
        }
        return found;
    }

    private static UnitSummary ToProto(UnitRow unit) => new()
    {
        Key = unit.Key,
        Kind = UnitKinds.FromName(unit.Kind),
        Name = unit.Name,
        ParentKey = unit.ParentKey ?? "",
    };

    private static V1.UnitCorrelation ToProto(Correlation c) => new()
    {
        Units = c.N,
        R = c.R,
        RLow = c.Low,
        RHigh = c.High,
        PValue = c.PValue,
        HasValue = c.HasValue,
        Slope = c.Slope,
        SpearmanRho = c.Rho,
    };

    [Authorize(Roles = Readers)]
    public override async Task<GetValueOfExperienceResponse> GetValueOfExperience(GetValueOfExperienceRequest request, ServerCallContext context)
    {
        var checks = Checks();
        var scope = checks.Scope(request.Scope, "scope", maxParts: 1);
        checks.Check(scope.Parts.All(p => ValueBases.IsValueDimension(p.Dimension)), "scope.dimensions[0].kind",
            "the value of experience is kept for all answers and by journey, touchpoint, channel, product, store or segment.");
        var (from, to) = checks.Months(request.StartMonth, request.EndMonth);
        checks.ThrowIfAny();

        var (keys, prefixes) = ValueResponses.PredictorBases(scope);
        var stats = await values.ReadAsync([scope.Key, .. keys], prefixes, from, to, context.CancellationToken);
        return ValueResponses.Build(scope, from, to, hotScores.Today(), stats);
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetStageModelResponse> GetStageModel(GetStageModelRequest request, ServerCallContext context) =>
        new() { Model = StageResponses.ToProto(await stages.ModelAsync(context.CancellationToken)) };

    [Authorize(Roles = Roles.Admin)]
    public override async Task<UpdateStageModelResponse> UpdateStageModel(UpdateStageModelRequest request, ServerCallContext context)
    {
        var checks = Checks();
        checks.StageModel(request.Model);
        checks.Check(request.ExpectedVersion >= 0, "expected_version", "expected_version must not be negative (0 skips the check).");
        checks.ThrowIfAny();

        await using var write = await database.BeginWriteAsync(context.CancellationToken);
        var stored = await StageStore.ReplaceModelAsync(write, request.Model.Stages.Select(StageResponses.FromProto).ToList(), request.ExpectedVersion,
            context.GetHttpContext().User.Identity?.Name ?? "", context.CancellationToken)
            ?? throw new PreconditionFailedException("VERSION_MISMATCH",
                $"The stage model changed since version {request.ExpectedVersion}: read it again and apply your change to the current version.", "expected_version");
        await write.CommitAsync(context.CancellationToken);
        rebuilder.Wake();
        return new UpdateStageModelResponse { Model = StageResponses.ToProto(stored) };
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetRelationshipStagesResponse> GetRelationshipStages(GetRelationshipStagesRequest request, ServerCallContext context)
    {
        var checks = Checks();
        var (from, to) = checks.Months(request.StartMonth, request.EndMonth);
        checks.ThrowIfAny();

        var stored = await stages.ModelAsync(context.CancellationToken);
        var transitions = StageTransitions.Of(await stages.MovesAsync(to, context.CancellationToken), from, to);
        var figures = await stages.FiguresAsync(from, to, context.CancellationToken);
        return StageResponses.Stages(stored.Model, stored.Rebuilding, from, to, hotScores.Today(), transitions, figures);
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetStagePathsResponse> GetStagePaths(GetStagePathsRequest request, ServerCallContext context)
    {
        var checks = Checks();
        checks.Key(request.StageKey, "stage_key");
        var (from, to) = checks.Months(request.StartMonth, request.EndMonth);
        checks.Check(request.MinCustomers is >= 0 and <= 1_000_000, "min_customers", "min_customers must be 0 to 1000000 (0 means 5).");
        checks.ThrowIfAny();

        var stored = await stages.ModelAsync(context.CancellationToken);
        if (stored.Model.RankOf(request.StageKey) < 0) throw new NotFoundException("stage", request.StageKey);
        var experiences = await stages.ExperiencesAsync(request.StageKey, from, to, context.CancellationToken);
        return StageResponses.Paths(request.StageKey, stored.Rebuilding, from, to, experiences,
            request.MinCustomers == 0 ? 5 : request.MinCustomers);
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetCustomerStageResponse> GetCustomerStage(GetCustomerStageRequest request, ServerCallContext context)
    {
        var checks = Checks();
        checks.Token(request.CustomerId, "customer_id", 128);
        checks.ThrowIfAny();

        var model = (await stages.ModelAsync(context.CancellationToken)).Model;
        return StageResponses.Customer(request.CustomerId, model, await stages.HistoryAsync(request.CustomerId, context.CancellationToken));
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetVoiceTrendResponse> GetVoiceTrend(GetVoiceTrendRequest request, ServerCallContext context)
    {
        var checks = Checks();
        var scope = checks.Scope(request.Scope, "scope", maxParts: 1);
        var window = checks.Window(request.Window, "window");
        var step = checks.Step(request.Granularity, window);
        checks.Check(request.ThemeKeys.Count <= 50, "theme_keys", "theme_keys holds at most 50 themes.");
        for (var i = 0; i < request.ThemeKeys.Count && i < 50; i++) checks.Key(request.ThemeKeys[i], $"theme_keys[{i}]");
        checks.ThrowIfAny();

        var days = await drivers.VoiceAsync(scope.Key, window, context.CancellationToken);
        var (points, total) = VoiceTrend.Build(days, window, step, request.ThemeKeys.Count > 0 ? request.ThemeKeys.ToHashSet(StringComparer.Ordinal) : null);
        var response = new GetVoiceTrendResponse { Total = ToProto(total) };
        response.Points.AddRange(points.Select(ToProto));
        return response;
    }

    private static VoicePoint ToProto(VoiceFigures f)
    {
        var point = new VoicePoint
        {
            StartDate = f.Period.Start.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            EndDate = f.Period.End.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            Items = f.Items,
            MeanSentiment = f.MeanSentiment,
            NegativePercent = f.NegativePercent,
        };
        point.Themes.AddRange(f.Themes.Select(t => new ThemeVolume
        {
            ThemeKey = t.ThemeKey,
            Mentions = t.Mentions,
            NegativeMentions = t.NegativeMentions,
            MeanSentiment = t.MeanSentiment,
            SharePercent = t.SharePercent,
        }));
        return point;
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetKeyDriversResponse> GetKeyDrivers(GetKeyDriversRequest request, ServerCallContext context)
    {
        var checks = Checks();
        var scope = checks.Scope(request.Scope, "scope", maxParts: 1);
        var window = checks.Window(request.Window, "window");
        var outcome = request.Outcome switch
        {
            Outcome.NpsRating => DriverOutcomes.Nps,
            Outcome.Detractor => DriverOutcomes.Detractor,
            Outcome.Promoter => DriverOutcomes.Promoter,
            Outcome.CsatRating => DriverOutcomes.Csat,
            Outcome.Sentiment => DriverOutcomes.Sentiment,
            _ => null,
        };
        checks.Check(outcome is not null, "outcome", "outcome must be OUTCOME_NPS_RATING, OUTCOME_DETRACTOR, OUTCOME_PROMOTER, OUTCOME_CSAT_RATING or OUTCOME_SENTIMENT.");
        Domain.DriverKind? kind = request.DriverKind switch
        {
            V1.DriverKind.Unspecified or V1.DriverKind.ThemeSentiment => Domain.DriverKind.ThemeSentiment,
            V1.DriverKind.ThemePresence => Domain.DriverKind.ThemePresence,
            V1.DriverKind.AttributeRating => Domain.DriverKind.AttributeRating,
            _ => null,
        };
        checks.Check(kind is not null, "driver_kind", "driver_kind must be DRIVER_KIND_THEME_SENTIMENT, DRIVER_KIND_THEME_PRESENCE or DRIVER_KIND_ATTRIBUTE_RATING.");
        checks.Check(!(kind == Domain.DriverKind.AttributeRating && outcome == DriverOutcomes.Sentiment), "driver_kind",
            "attribute ratings explain the rating of the question they are registered against: use an NPS or CSAT outcome, or theme drivers for OUTCOME_SENTIMENT.");
        checks.Check(request.MinMentions is >= 0 and <= 1_000_000, "min_mentions", "min_mentions must be 0 to 1,000,000 (0 means 10).");
        var alpha = checks.Alpha(request.Alpha, "alpha");
        checks.ThrowIfAny();

        var sums = await drivers.SumsAsync(scope.Key, outcome!, window, context.CancellationToken);
        var model = KeyDriverAnalysis.Analyze(sums, kind!.Value, request.MinMentions == 0 ? 10 : request.MinMentions, alpha);
        var attributes = kind == Domain.DriverKind.AttributeRating;
        var response = new GetKeyDriversResponse
        {
            DriverKind = kind switch
            {
                Domain.DriverKind.ThemePresence => V1.DriverKind.ThemePresence,
                Domain.DriverKind.AttributeRating => V1.DriverKind.AttributeRating,
                _ => V1.DriverKind.ThemeSentiment,
            },
            N = model.N,
            RSquared = model.RSquared,
            ShapleyComputed = model.ShapleyComputed,
            StartDate = window.Start.ToString("yyyy-MM-dd"),
            EndDate = window.End.ToString("yyyy-MM-dd"),
            Note = model.Note ?? "",
        };
        response.Drivers.AddRange(model.Drivers.Select(d =>
        {
            var driver = new Driver
            {
                ThemeKey = attributes ? "" : d.Key,
                QuestionId = attributes ? d.Key : "",
                Correlation = d.Correlation,
                RelativeWeight = d.RelativeWeight,
                RelativeWeightPercent = model.RSquared > 0 ? 100 * d.RelativeWeight / model.RSquared : 0,
                Shapley = d.Shapley ?? 0,
                Beta = d.Beta,
                T = double.IsFinite(d.T) ? d.T : 0,
                PValue = d.PValue,
                Significant = d.Significant,
                Mentions = d.Mentions,
                NegativePercent = d.NegativePercent,
            };
            if (d.MeanRating is { } mean) driver.MeanRating = mean;
            return driver;
        }));
        return response;
    }

    [Authorize(Roles = Readers)]
    public override async Task<ListAlertsResponse> ListAlerts(ListAlertsRequest request, ServerCallContext context)
    {
        var checks = Checks();
        checks.Check(request.PageSize is >= 0 and <= 200, "page_size", "page_size must be 0 to 200.");
        checks.Check(System.Enum.IsDefined(request.Kind), "kind", "kind is not a known alert kind.");
        checks.Check(request.Journey.Length <= ScoringRequests.MaxValueLength, "journey_key", "journey_key is at most 256 characters.");
        checks.Check(!request.JourneyFieldsDisagree, "journey_key", "journey_key and the deprecated journey_id name different journeys: send journey_key only.");
        AlertCursor? cursor = null;
        if (request.PageToken.Length > 0)
        {
            var parts = PageTokens.TryDecode(request.PageToken, out var position) ? position.Split(':') : [];
            cursor = parts.Length == 2 && long.TryParse(parts[0], out var ticks) && Guid.TryParse(parts[1], out var id)
                ? new AlertCursor(new DateTime(ticks, DateTimeKind.Utc), id)
                : null;
            checks.Check(cursor is not null, "page_token", "page_token is not one this service issued.");
        }
        checks.ThrowIfAny();

        var filter = new AlertFilter(request.Kind == AlertKind.Unspecified ? null : request.Kind,
            request.Journey.Length > 0 ? request.Journey : null, request.RaisedAfter?.ToDateTime());
        var (page, next) = await alerts.ListAsync(filter, cursor, request.PageSize == 0 ? 50 : request.PageSize, context.CancellationToken);
        var response = new ListAlertsResponse { NextPageToken = next is null ? "" : PageTokens.Encode($"{next.RaisedAt.Ticks}:{next.Id}") };
        response.Alerts.AddRange(page.Select(a => new Alert
        {
            Id = a.AlertId,
            Kind = a.Kind,
            RaisedAt = a.OccurredAt,
            FeedbackId = a.FeedbackId,
            CustomerId = a.CustomerId,
            Journey = a.Journey,
            TouchpointKey = a.TouchpointKey,
            Channel = a.Channel,
            RedactedVerbatim = a.RedactedVerbatim,
            Metric = a.Metric,
            QuestionId = a.QuestionId,
            Rating = a.Rating,
            ScopeKey = a.ScopeKey,
            Value = a.Value,
            N = a.N,
            PreviousValue = a.PreviousValue,
            PreviousN = a.PreviousN,
            PValue = a.PValue,
            WindowDays = a.WindowDays,
            Audience = a.Audience,
            BroaderScopeKeys = { a.BroaderScopeKeys },
        }));
        return response;
    }

    /// <summary>
    /// How a request's scores are written: the question's direction and scale are looked up once per request, not per
    /// score. A score says when it has no value (n = 0), no margin (n &lt; 2), and when it should not be read on its own.
    /// </summary>
    private sealed record ScoreShape(MetricKind Kind, MetricKey Metric, bool HigherIsBetter, DateTimeOffset ComputedAt, int MinResponses, (int Min, int Max)? Scale)
    {
        public Score Of(RatingStats stats, DayWindow window, string source = "store")
        {
            var (value, se) = stats.Headline(Kind);
            var (low, high) = Kind switch
            {
                MetricKind.Nps or MetricKind.Enps => (-100.0, 100.0),
                MetricKind.Csat => (0.0, 100.0),
                _ => Scale is { } scale ? ((double?)scale.Min, (double?)scale.Max) : (null, null),
            };
            var concern = Confidence.Concern(stats.N, MinResponses, value, stats.N >= 2 ? 1.96 * se : 0, low, high);
            var (shareLow, shareHigh) = stats.TopBoxInterval;
            return new Score
            {
                HasValue = stats.N > 0,
                HasMargin = stats.N >= 2,
                TopBoxShareLow = shareLow,
                TopBoxShareHigh = shareHigh,
                LowConfidence = concern is not null,
                LowConfidenceReason = concern ?? "",
                Metric = MetricKinds.ToProto(Kind),
                Value = value,
                N = stats.N,
                MarginOfError = 1.96 * se,
                Promoters = stats.TopBox,
                Passives = stats.Passives,
                Detractors = stats.Detractors,
                StartDate = window.Start.ToString("yyyy-MM-dd"),
                EndDate = window.End.ToString("yyyy-MM-dd"),
                Source = source,
                ComputedAt = Timestamp.FromDateTimeOffset(ComputedAt),
                Mean = stats.Mean,
                MeanMarginOfError = stats.MeanMargin,
                TopBoxShare = stats.TopBoxShare,
                TopBoxMarginOfError = stats.TopBoxMargin,
                QuestionId = Metric.QuestionId == ScoreStore.AllQuestions ? "" : Metric.QuestionId,
                HigherIsBetter = HigherIsBetter,
            };
        }
    }

    private async Task<ScoreShape> ShapeAsync(MetricKind kind, MetricKey metric, CancellationToken ct)
    {
        var higherIsBetter = true;
        (int, int)? scale = null;
        if (metric.QuestionId != ScoreStore.AllQuestions && kind is not (MetricKind.Nps or MetricKind.Enps)
            && await store.QuestionAsync(metric.QuestionId, ct) is { } question)
        {
            higherIsBetter = question.HigherIsBetter;
            scale = (question.ScaleMin, question.ScaleMax);
        }
        return new ScoreShape(kind, metric, higherIsBetter, clock.GetUtcNow(), options.Value.MinResponses, scale);
    }

    private static Scope ToProto(ScoreScope scope)
    {
        var proto = new Scope();
        proto.Dimensions.AddRange(scope.Parts.Select(p => new Dimension
        {
            Kind = p.Dimension switch
            {
                ScopeDimension.Journey => DimensionKind.Journey,
                ScopeDimension.Touchpoint => DimensionKind.Touchpoint,
                ScopeDimension.Channel => DimensionKind.Channel,
                ScopeDimension.Product => DimensionKind.Product,
                ScopeDimension.Lot => DimensionKind.Lot,
                ScopeDimension.Store => DimensionKind.Store,
                ScopeDimension.Partner => DimensionKind.Partner,
                ScopeDimension.Language => DimensionKind.Language,
                ScopeDimension.Audience => DimensionKind.Audience,
                ScopeDimension.Unit => DimensionKind.Unit,
                _ => DimensionKind.Segment,
            },
            Value = p.Value,
            Attribute = p.Attribute ?? "",
        }));
        return proto;
    }
}
