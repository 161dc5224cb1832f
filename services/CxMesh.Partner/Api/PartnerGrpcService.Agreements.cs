using System.Text.Json;
using Cronos;
using CxMesh.Partner.Data;
using CxMesh.Partner.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Validation;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace CxMesh.Partner.Api;

/// <summary>Sharing agreements and the reports published under them.</summary>
public sealed partial class PartnerGrpcService
{
    // ---- Agreements -------------------------------------------------------------------------------------------------

    [Authorize(Roles = Roles.Admin)]
    public override async Task<ProposeAgreementResponse> ProposeAgreement(ProposeAgreementRequest request, ServerCallContext context)
    {
        var a = request.Agreement ?? throw new FieldViolationException("agreement", "agreement is required.");
        var check = new Violations();
        Guid agreementId = Guid.CreateVersion7();
        if (a.AgreementId.Length > 0 && !Guid.TryParse(a.AgreementId, out agreementId)) check.Add("agreement.agreement_id", "agreement.agreement_id must be an agreement id (a UUID) or empty.");
        if (!Identifiers.Key().IsMatch(a.PartnerId)) check.Add("agreement.partner_id", "agreement.partner_id is required.");
        if (a.Scope.Count is 0 or > 200) check.Add("agreement.scope", "agreement.scope must name 1 to 200 products, lots, journeys or touchpoints.");
        for (var i = 0; i < a.Scope.Count; i++)
        {
            if (MappingName(a.Scope[i].Kind) is null || !Identifiers.IsToken(a.Scope[i].Value)) check.Add($"agreement.scope[{i}]", "each scope entry needs a kind and a value.");
        }
        if (a.Fields.Count == 0 || a.Fields.Any(f => f == SharedField.Unspecified || !System.Enum.IsDefined(f))) check.Add("agreement.fields", "agreement.fields must name at least one field to share.");
        if (a.MinGroupSize is 1 or < 0 or > 1000) check.Add("agreement.min_group_size", "agreement.min_group_size (k) must be 2 to 1000 (0 means 5): a group of one is one customer.");
        try
        {
            CronExpression.Parse(a.Cadence);
        }
        catch (CronFormatException)
        {
            check.Add("agreement.cadence", $"agreement.cadence '{a.Cadence}' is not a five-field cron expression (like \"0 6 1 * *\").");
        }
        catch (ArgumentNullException)
        {
            check.Add("agreement.cadence", "agreement.cadence is required.");
        }
        if (a.RetentionDays is < 1 or > 3650) check.Add("agreement.retention_days", "agreement.retention_days must be 1 to 3650.");
        DateOnly? expiresOn = null;
        if (a.ExpiresOn.Length > 0)
        {
            expiresOn = ParseDate(a.ExpiresOn);
            if (expiresOn is null || expiresOn < DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime))
            {
                check.Add("agreement.expires_on", "agreement.expires_on must be a date (yyyy-MM-dd), not in the past.");
            }
        }
        check.ThrowIfAny();

        var created = await partners.ProposeAsync(new AgreementRow
        {
            AgreementId = agreementId,
            PartnerId = a.PartnerId,
            Scope = JsonSerializer.Serialize(a.Scope.Select(s => new AgreementRow.ScopeEntry(MappingName(s.Kind)!, s.Value)).Distinct(), PartnerStore.Json),
            Fields = a.Fields.Distinct().Select(FieldName).Order(StringComparer.Ordinal).ToArray(),
            MinGroupSize = a.MinGroupSize == 0 ? 5 : a.MinGroupSize,
            Cadence = a.Cadence,
            RetentionDays = a.RetentionDays,
            ExpiresOn = expiresOn,
        }, context.CancellationToken);
        return new ProposeAgreementResponse { Agreement = ToProto(created) };
    }

    [Authorize(Roles = Roles.Admin)]
    public override async Task<SubmitAgreementResponse> SubmitAgreement(SubmitAgreementRequest request, ServerCallContext context) =>
        new()
        {
            Agreement = ToProto(await managePartners.SubmitForApprovalAsync(AgreementId(request.AgreementId), request.Version,
                Actor(context), context.CancellationToken)),
        };

    [Authorize(Roles = Readers)]
    public override async Task<GetAgreementResponse> GetAgreement(GetAgreementRequest request, ServerCallContext context)
    {
        var agreement = await partners.AgreementAsync(AgreementId(request.AgreementId), request.Version, context.CancellationToken);
        if (agreement is null || request.Version != 0 && agreement.Version != request.Version) throw new NotFoundException("agreement", request.AgreementId);
        return new GetAgreementResponse { Agreement = ToProto(agreement) };
    }

    private static Guid AgreementId(string value) =>
        Guid.TryParse(value, out var id) ? id : throw new FieldViolationException("agreement_id", "agreement_id must be an agreement id (a UUID).");

    // ---- Reports ----------------------------------------------------------------------------------------------------

    [Authorize(Roles = Roles.Admin)]
    public override async Task<PublishReportResponse> PublishReport(PublishReportRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var check = new Violations();
        var start = ParseDate(request.StartDate);
        var end = ParseDate(request.EndDate);
        if (start is null) check.Add("start_date", "start_date must be a date (yyyy-MM-dd).");
        if (end is null) check.Add("end_date", "end_date must be a date (yyyy-MM-dd).");
        if (start is { } s0 && end is { } e0)
        {
            if (e0 < s0) check.Add("end_date", "end_date must not be before start_date.");
            if (e0.DayNumber - s0.DayNumber >= MaxDays) check.Add("end_date", $"a report covers at most {MaxDays} days.");
            if (e0 > today) check.Add("end_date", "end_date is in the future.");
        }
        check.ThrowIfAny();

        return new PublishReportResponse { Report = await publisher.PublishAsync(request.PartnerId, start!.Value, end!.Value, ct, validateOnly: request.ValidateOnly) };
    }
}
