using CxMesh.Feedback.Data;
using CxMesh.Feedback.Domain;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Errors;
using CxMesh.Platform.Validation;
using Google.Protobuf.WellKnownTypes;
using Unit = CxMesh.Feedback.Domain.Unit;
using UnitKind = CxMesh.Feedback.Domain.UnitKind;

namespace CxMesh.Feedback.Api;

/// <summary>Units and praise between the wire and the domain; what a unit's own fields must be is checked here.</summary>
public static class UnitProto
{
    /// <summary>A unit from SaveUnit, its own fields checked (the rules that need the other units are the registry's).</summary>
    public static Unit FromProto(V1.Unit? unit)
    {
        if (unit is null) throw new FieldViolationException("unit", "unit is required.");
        var check = new Violations();
        var key = check.Key(unit.Key, "unit.key");
        check.Check(unit.Kind != Common.V1.UnitKind.Unspecified && System.Enum.IsDefined(unit.Kind), "unit.kind",
            "unit.kind must be UNIT_KIND_STORE, UNIT_KIND_TEAM or UNIT_KIND_AGENT.");
        var parent = check.OptionalKey(unit.ParentKey, "unit.parent_key");
        var member = check.OptionalToken(unit.RecognitionMemberId, "unit.recognition_member_id");
        var team = check.OptionalToken(unit.RecognitionTeamId, "unit.recognition_team_id");
        check.Check(unit.Kind != Common.V1.UnitKind.Store || parent is null, "unit.parent_key", "a store stands at the top: unit.parent_key must be empty.");
        check.ThrowIfAny();
        return new Unit(key, (UnitKind)(int)unit.Kind, unit.Name.Trim(), parent, unit.Aliases.Select(UnitRules.NormalizeAlias).ToList(), member, team, DateTime.UtcNow);
    }

    public static V1.Unit ToProto(Unit unit) => new()
    {
        Key = unit.Key,
        Kind = (Common.V1.UnitKind)(int)unit.Kind,
        Name = unit.Name,
        ParentKey = unit.ParentKey ?? "",
        Aliases = { unit.Aliases },
        RecognitionMemberId = unit.RecognitionMemberId ?? "",
        RecognitionTeamId = unit.RecognitionTeamId ?? "",
        UpdatedAt = Timestamp.FromDateTime(unit.UpdatedAt),
    };

    public static Praise ToProto(StoredPraise praise) => new()
    {
        PraiseId = praise.Id.ToString(),
        UnitKey = praise.UnitKey,
        UnitName = praise.UnitName,
        UnitKind = (Common.V1.UnitKind)(int)Unit.ParseKind(praise.UnitKind),
        FeedbackId = praise.FeedbackId.ToString(),
        Excerpt = praise.Excerpt,
        Audience = praise.Audience == Domain.Question.Employees ? Audience.Employee : Audience.Customer,
        Language = praise.Language ?? "",
        GivenAt = Timestamp.FromDateTime(DateTime.SpecifyKind(praise.GivenAt, DateTimeKind.Utc)),
    };
}
