using System.Globalization;
using System.Text.Json;
using CxMesh.Journey.Data;
using CxMesh.Journey.Domain;
using CxMesh.Journey.UseCases;
using CxMesh.Journey.V1;
using CxMesh.Platform.Api;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Clients;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Validation;
using FluentValidation;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace CxMesh.Journey.Api;

public sealed class JourneyGrpcService(
    DefinitionStore definitions,
    RecordTouchpoints ingest,
    JourneyReads reads,
    RelationshipReads relationships,
    IValidator<CreateJourneyDefinitionRequest> createValidator,
    IValidator<UpdateJourneyDefinitionRequest> updateValidator,
    CxMesh.Governance.V1.GovernanceService.GovernanceServiceClient governance,
    TimeProvider clock) : JourneyService.JourneyServiceBase
{
    private const string Writers = $"{Roles.Admin},{Roles.JourneyOwner}";
    private const string Readers = $"{Roles.Admin},{Roles.Analyst},{Roles.JourneyOwner},{Roles.App}";

    /// <summary>Single fields are read through the platform's parsers, failing at the first problem.</summary>
    private static readonly Violations Check = Violations.FailFast;

    /// <summary>
    /// A journey-owner (without admin) changes only journeys they sponsor, own or own a touchpoint of, as governance
    /// records them (read over gRPC); a new journey needs its owners assigned first.
    /// </summary>
    private async Task RequireOwnJourneyAsync(string key, ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        if (!user.IsInRole(Roles.JourneyOwner) || user.IsInRole(Roles.Admin)) return;
        var member = user.Identity?.Name ?? "";
        var ownership = await ServiceClients.CallAsync("governance", async () => (await governance.GetJourneyOwnershipAsync(
            new CxMesh.Governance.V1.GetJourneyOwnershipRequest { JourneyKey = key }, cancellationToken: context.CancellationToken)).Ownership);
        if (!JourneyOwnership.Includes(ownership.SponsorId, ownership.OwnerId, ownership.TouchpointOwners.Select(t => t.OwnerId), member))
        {
            throw new RpcException(new Grpc.Core.Status(StatusCode.PermissionDenied,
                $"journey '{key}' is not yours: {member} does not sponsor or own it, nor own one of its touchpoints (governance assigns owners)."));
        }
    }

    [Authorize(Roles = Writers)]
    public override async Task<CreateJourneyDefinitionResponse> CreateJourneyDefinition(CreateJourneyDefinitionRequest request, ServerCallContext context)
    {
        var check = new Violations();
        check.Add(await createValidator.ValidateAsync(request, context.CancellationToken));
        check.ThrowIfAny();
        await RequireOwnJourneyAsync(request.Definition.Key, context);
        return new CreateJourneyDefinitionResponse { Definition = await definitions.CreateAsync(request.Definition, context.CancellationToken) };
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetJourneyDefinitionResponse> GetJourneyDefinition(GetJourneyDefinitionRequest request, ServerCallContext context)
    {
        Check.Key(request.Key, "key");
        if (request.Version < 0) throw new FieldViolationException("version", "version must not be negative (0 means the current one).");
        var definition = await definitions.GetAsync(request.Key, request.Version, context.CancellationToken)
            ?? throw new NotFoundException("journey", request.Version == 0 ? request.Key : $"{request.Key}@{request.Version}");
        return new GetJourneyDefinitionResponse { Definition = definition };
    }

    [Authorize(Roles = Readers)]
    public override async Task<ListJourneyDefinitionsResponse> ListJourneyDefinitions(ListJourneyDefinitionsRequest request, ServerCallContext context)
    {
        if (request.PageSize is < 0 or > JourneyLimits.MaxPageSize)
        {
            throw new FieldViolationException("page_size", $"page_size must be 0 to {JourneyLimits.MaxPageSize}.");
        }
        string? after = null;
        if (request.PageToken.Length > 0)
        {
            if (!PageTokens.TryDecode(request.PageToken, out var position))
            {
                throw new FieldViolationException("page_token", "page_token is not one this service issued.");
            }
            after = position;
        }
        var (page, next) = await definitions.ListAsync(after, request.PageSize == 0 ? JourneyLimits.DefaultPageSize : request.PageSize,
            request.IncludeArchived, context.CancellationToken);
        var response = new ListJourneyDefinitionsResponse
        {
            NextPageToken = next is null ? "" : PageTokens.Encode(next),
        };
        response.Definitions.AddRange(page);
        return response;
    }

    [Authorize(Roles = Writers)]
    public override async Task<UpdateJourneyDefinitionResponse> UpdateJourneyDefinition(UpdateJourneyDefinitionRequest request, ServerCallContext context)
    {
        request.Definition = await UpdateMasks.ApplyAsync(request.UpdateMask, request.Definition, "definition", async named =>
        {
            Check.Key(named.Key, "definition.key");
            return await definitions.GetAsync(named.Key, 0, context.CancellationToken) ?? throw new NotFoundException("journey", named.Key);
        }, "key");
        var check = new Violations();
        check.Add(await updateValidator.ValidateAsync(request, context.CancellationToken));
        check.ThrowIfAny();
        // The validator refused a request without a definition.
        await RequireOwnJourneyAsync(request.Definition!.Key, context);
        return new UpdateJourneyDefinitionResponse
        {
            Definition = await definitions.UpdateAsync(request.Definition, request.ExpectedVersion, context.CancellationToken),
        };
    }

    [Authorize(Roles = Writers)]
    public override async Task<ArchiveJourneyDefinitionResponse> ArchiveJourneyDefinition(ArchiveJourneyDefinitionRequest request, ServerCallContext context)
    {
        Check.Key(request.Key, "key");
        await RequireOwnJourneyAsync(request.Key, context);
        return new ArchiveJourneyDefinitionResponse { Definition = await definitions.ArchiveAsync(request.Key, context.CancellationToken) };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.App}")]
    [CallerLimit(CallerLimits.Ingest)]
    public override async Task<RecordTouchpointResponse> RecordTouchpoint(RecordTouchpointRequest request, ServerCallContext context)
    {
        if (request.Touchpoint is null) throw new FieldViolationException("touchpoint", "touchpoint is required.");
        var result = (await ingest.RecordAsync([request.Touchpoint], 0, context.CancellationToken))[0];
        if (result.Status == RecordStatus.Rejected)
        {
            throw (Code)result.Error.Code switch
            {
                Code.NotFound => new NotFoundException("journey", request.Touchpoint.JourneyKey),
                Code.FailedPrecondition when result.Error.Field.EndsWith("idempotency_key", StringComparison.Ordinal) =>
                    new PreconditionFailedException("IDEMPOTENCY_KEY_REUSED", result.Error.Message, result.Error.Field),
                Code.FailedPrecondition => new PreconditionFailedException("JOURNEY_ARCHIVED", result.Error.Message, result.Error.Field),
                _ => new FieldViolationException(result.Error.Field, result.Error.Message),
            };
        }
        return new RecordTouchpointResponse { TouchpointEventId = result.TouchpointEventId, Status = result.Status };
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.App}")]
    [CallerLimit(CallerLimits.Ingest)]
    public override async Task<RecordTouchpointsResponse> RecordTouchpoints(IAsyncStreamReader<RecordTouchpointsRequest> requestStream, ServerCallContext context)
    {
        const int chunkSize = 1_000;
        var response = new RecordTouchpointsResponse();
        var chunk = new List<TouchpointEvent>(chunkSize);
        var firstOfChunk = 0;
        async Task FlushAsync()
        {
            if (chunk.Count > 0) response.Results.AddRange(await ingest.RecordAsync(chunk, firstOfChunk, context.CancellationToken));
            chunk = new List<TouchpointEvent>(chunkSize);
        }
        await foreach (var (index, message, refused) in BatchStream.ReadAsync(requestStream, JourneyLimits.MaxItemsPerCall, JourneyLimits.MaxBytesPerCall, "touchpoint", context.CancellationToken))
        {
            if (refused is not null)
            {
                // A chunk holds consecutive items only.
                await FlushAsync();
                response.Results.Add(UseCases.RecordTouchpoints.Rejected(index, new TouchpointEvent(), (Code)refused.Code, refused.Field, refused.Message));
                continue;
            }
            if (chunk.Count == 0) firstOfChunk = index;
            chunk.Add(message!.Touchpoint ?? new TouchpointEvent());
            if (chunk.Count == chunkSize) await FlushAsync();
        }
        await FlushAsync();

        var ordered = response.Results.OrderBy(r => r.Index).ToList();
        response.Results.Clear();
        response.Results.AddRange(ordered);
        response.Recorded = ordered.Count(r => r.Status == RecordStatus.Recorded);
        response.Replayed = ordered.Count(r => r.Status == RecordStatus.Replayed);
        response.Rejected = ordered.Count(r => r.Status == RecordStatus.Rejected);
        return response;
    }

    [Authorize(Roles = Readers)]
    public override async Task<GetCustomerJourneysResponse> GetCustomerJourneys(GetCustomerJourneysRequest request, ServerCallContext context)
    {
        if (request.CustomerId.Length is 0 or > JourneyLimits.MaxIdLength || !Identifiers.Token().IsMatch(request.CustomerId))
        {
            throw new FieldViolationException("customer_id", "customer_id is required: 1-128 characters of letters, digits and . _ : -");
        }
        if (request.JourneyKey.Length > 0) Check.Key(request.JourneyKey, "journey_key");
        if (request.MaxInstances is < 0 or > 100) throw new FieldViolationException("max_instances", "max_instances must be 0 to 100.");

        var (instances, timelines) = await reads.CustomerJourneysAsync(request.CustomerId,
            request.JourneyKey.Length > 0 ? request.JourneyKey : null,
            request.MaxInstances == 0 ? JourneyLimits.DefaultInstances : request.MaxInstances, context.CancellationToken);
        var response = new GetCustomerJourneysResponse();
        foreach (var i in instances)
        {
            var spec = await SpecAsync(i.JourneyKey, i.Version, context.CancellationToken);
            var instance = new JourneyInstance
            {
                Id = i.Id.ToString(),
                JourneyKey = i.JourneyKey,
                DefinitionVersion = i.Version,
                State = i.State switch { "open" => V1.InstanceState.Open, "completed" => V1.InstanceState.Completed, _ => V1.InstanceState.Abandoned },
                StartedAt = Timestamp.FromDateTime(i.StartedAt),
                LastActivityAt = Timestamp.FromDateTime(i.LastActivityAt),
                EndedAt = i.EndedAt is { } ended ? Timestamp.FromDateTime(ended) : null,
                CurrentStageKey = i.FurthestStageKey,
                Segment = i.Segment,
            };
            foreach (var t in timelines[i.Id])
            {
                var entry = new TimelineEntry
                {
                    TouchpointEventId = t.Id.ToString(),
                    TouchpointKey = t.TouchpointKey,
                    StageKey = spec.Find(t.TouchpointKey) is { } found ? spec.Stages[found.Stage].Key : "",
                    OccurredAt = Timestamp.FromDateTime(t.OccurredAt),
                    Revenue = (double)t.Revenue,
                    CostToServe = (double)t.CostToServe,
                };
                entry.Attributes.Add(JsonSerializer.Deserialize<Dictionary<string, string>>(t.Attributes) ?? []);
                instance.Timeline.Add(entry);
            }
            response.Instances.Add(instance);
        }
        return response;
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.JourneyOwner}")]
    public override async Task<GetFunnelResponse> GetFunnel(GetFunnelRequest request, ServerCallContext context)
    {
        Check.Key(request.JourneyKey, "journey_key");
        var (start, end) = Window(request.StartDate, request.EndDate, request.Segment);

        var (definition, sums) = await reads.FunnelAsync(request.JourneyKey, request.Segment, start, end, context.CancellationToken)
            ?? throw new NotFoundException("journey", request.JourneyKey);
        var journey = sums.GetValueOrDefault(FunnelContribution.JourneyStage) ?? new FunnelSum();
        var response = new GetFunnelResponse
        {
            JourneyKey = request.JourneyKey,
            Started = journey.Entered,
            Completed = journey.Completed,
            Abandoned = journey.Dropped,
            AbandonmentRate = journey.Entered == 0 ? 0 : (double)journey.Dropped / journey.Entered,
            MedianEndToEnd = ToDuration(journey.Quantile(0.5)),
            P90EndToEnd = ToDuration(journey.Quantile(0.9)),
            StartDate = Iso(start),
            EndDate = Iso(end),
        };
        long firstEntered = 0;
        foreach (var stage in definition.Stages)
        {
            var sum = sums.GetValueOrDefault(stage.Key) ?? new FunnelSum();
            if (response.Stages.Count == 0) firstEntered = sum.Entered;
            response.Stages.Add(new StageFunnel
            {
                StageKey = stage.Key,
                Entered = sum.Entered,
                Completed = sum.Completed,
                Dropped = sum.Dropped,
                ConversionFromStart = firstEntered == 0 ? 0 : (double)sum.Entered / firstEntered,
                MedianTimeInStage = ToDuration(sum.Quantile(0.5)),
                P90TimeInStage = ToDuration(sum.Quantile(0.9)),
            });
        }
        return response;
    }

    [Authorize(Roles = $"{Roles.Admin},{Roles.Analyst},{Roles.JourneyOwner}")]
    public override async Task<GetRelationshipMetricsResponse> GetRelationshipMetrics(GetRelationshipMetricsRequest request, ServerCallContext context)
    {
        Check.Key(request.JourneyKey, "journey_key");
        var (start, end) = Window(request.StartDate, request.EndDate, request.Segment);
        var definition = await definitions.GetAsync(request.JourneyKey, 0, context.CancellationToken)
            ?? throw new NotFoundException("journey", request.JourneyKey);
        var days = end.DayNumber - start.DayNumber + 1;
        var previousStart = start.AddDays(-days);
        var referrals = definition.Stages.SelectMany(s => s.Touchpoints).Where(t => t.IsReferral).Select(t => t.Key).ToList();
        var counts = await relationships.CountAsync(request.JourneyKey, request.Segment, referrals,
            start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), end.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
            previousStart.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), context.CancellationToken);
        return new GetRelationshipMetricsResponse
        {
            JourneyKey = request.JourneyKey,
            StartDate = Iso(start),
            EndDate = Iso(end),
            PreviousStartDate = Iso(previousStart),
            PreviousEndDate = Iso(start.AddDays(-1)),
            ActiveCustomers = counts.Active,
            CompletingCustomers = counts.Completing,
            RepeatCustomers = counts.Repeating,
            RepeatRate = Share(counts.Repeating, counts.Completing),
            PreviousActiveCustomers = counts.PreviousActive,
            RetainedCustomers = counts.Retained,
            RetentionRate = Share(counts.Retained, counts.PreviousActive),
#pragma warning disable CS0612 // the deprecated fields stay filled for existing clients
            ReferringCustomers = counts.Referred,
            ReferralRate = Share(counts.Referred, counts.Active),
#pragma warning restore CS0612
            ReferredCustomers = counts.Referred,
            ReferredRate = Share(counts.Referred, counts.Active),
            Referrers = counts.Referrers,
            ActiveReferrers = counts.ActiveReferrers,
        };
    }

    private static double Share(long part, long whole) => whole == 0 ? 0 : (double)part / whole;

    private static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The analytics window: explicit dates or the last 30 days, at most 366 days; and a sane segment.</summary>
    private (DateOnly Start, DateOnly End) Window(string startDate, string endDate, string segment)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var start = startDate.Length > 0 ? Check.Date(startDate, "start_date") : today.AddDays(-29);
        var end = endDate.Length > 0 ? Check.Date(endDate, "end_date") : today;
        if (end < start) throw new FieldViolationException("end_date", "end_date must not be before start_date.");
        if (end.DayNumber - start.DayNumber >= 366) throw new FieldViolationException("start_date", "the window may span at most 366 days.");
        if (segment.Length > JourneyLimits.MaxAttributeValueLength)
        {
            throw new FieldViolationException("segment", $"segment must be at most {JourneyLimits.MaxAttributeValueLength} characters.");
        }
        return (start, end);
    }

    private async Task<JourneySpec> SpecAsync(string key, int version, CancellationToken ct) =>
        DefinitionStore.ToSpec(await definitions.VersionAsync(key, version, ct) ?? throw new NotFoundException("journey", $"{key}@{version}"));

    private static Duration? ToDuration(TimeSpan? t) => t is { } value ? Duration.FromTimeSpan(value) : null;

}
