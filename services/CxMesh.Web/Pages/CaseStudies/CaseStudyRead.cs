using CxMesh.Governance.V1;
using CxMesh.Web.Calls;

namespace CxMesh.Web.Pages.CaseStudies;

/// <summary>A case study with its next-step actions, as its page and its printout read them.</summary>
public sealed record CaseStudyRead(CaseStudy? Study, IReadOnlyList<CxMesh.Governance.V1.Action> NextSteps, CallError? Error)
{
    public static async Task<CaseStudyRead> LoadAsync(ConsoleClients clients, string id)
    {
        var got = await ServiceCall.RunAsync(async () => await clients.Governance.GetCaseStudyAsync(new GetCaseStudyRequest { CaseStudyId = id }));
        if (got.Value?.CaseStudy is not { } study) return new CaseStudyRead(null, [], got.Error);
        var steps = await Task.WhenAll(study.NextStepActionIds.Select(actionId =>
            ServiceCall.RunAsync(async () => await clients.Governance.GetActionAsync(new GetActionRequest { ActionId = actionId }))));
        return new CaseStudyRead(study, steps.Where(s => s.Value?.Action is not null).Select(s => s.Value!.Action).ToList(),
            steps.Select(s => s.Error).FirstOrDefault(e => e is not null));
    }
}
