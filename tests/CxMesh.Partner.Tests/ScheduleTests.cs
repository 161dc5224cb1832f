using CxMesh.Partner.V1;
using CxMesh.Partner.Workers;
using CxMesh.Platform.Auth;
using CxMesh.TestKit;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Partner.Tests;

public sealed class ScheduleTests
{
    [Fact]
    public async Task Reports_are_published_on_the_agreement_s_cadence_once_per_occurrence()
    {
        var clock = new ShiftableClock();
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "partner,governance";
            s.Settings["CxMesh:Delivery"] = "InProcess";
            s.Settings["Partner:Schedule:Interval"] = "01:00:00";
            s.ConfigureServices = services => services.AddSingleton<TimeProvider>(clock);
        });
        var admin = host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);
        await admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = new V1.Partner { Id = "weekly-farm", Name = "Weekly", Kind = PartnerKind.Producer } });
        await admin.AddMappingAsync(new AddMappingRequest { Mapping = new Mapping { PartnerId = "weekly-farm", Kind = MappingKind.Lot, Value = "lot-w" } });
        var draft = (await admin.ProposeAgreementAsync(new ProposeAgreementRequest
        {
            Agreement = new Agreement
            {
                PartnerId = "weekly-farm",
                Scope = { new Mapping { Kind = MappingKind.Lot, Value = "lot-w" } },
                Fields = { SharedField.Ratings },
                MinGroupSize = 2,
                Cadence = "0 6 * * 1", // Mondays at 06:00 UTC
                RetentionDays = 30,
            },
        })).Agreement;
        await admin.SubmitAgreementAsync(new SubmitAgreementRequest { AgreementId = draft.AgreementId, Version = 1 });
        await SharingApprovals.DecideAsync(host, draft.AgreementId, 1);
        await Eventually.Until(async () => (await admin.GetAgreementAsync(new GetAgreementRequest { AgreementId = draft.AgreementId })).Agreement.State,
            s => s == AgreementState.Active);

        var scheduler = host.Services.GetRequiredService<ReportScheduler>();
        var partner = host.PartnerClient<PartnerService.PartnerServiceClient>("weekly-farm");
        // Nothing is due before the first Monday 06:00 after the approval.
        var now = clock.GetUtcNow().UtcDateTime;
        var firstMonday = now.Date.AddDays(((int)DayOfWeek.Monday - (int)now.DayOfWeek + 7) % 7).AddHours(6);
        if (firstMonday <= now) firstMonday = firstMonday.AddDays(7);
        clock.Advance(firstMonday - now - TimeSpan.FromMinutes(1));
        Assert.Equal(0, await scheduler.RunDueAsync(default));

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await scheduler.RunDueAsync(default));
        Assert.Equal(0, await scheduler.RunDueAsync(default)); // the same occurrence is not published twice
        var report = (await partner.ListMyReportsAsync(new ListMyReportsRequest())).Reports.Single();
        Assert.Equal(firstMonday.AddDays(-1).ToString("yyyy-MM-dd"), report.EndDate);

        clock.Advance(TimeSpan.FromDays(7));
        Assert.Equal(1, await scheduler.RunDueAsync(default));
        var reports = (await partner.ListMyReportsAsync(new ListMyReportsRequest())).Reports;
        Assert.Equal(2, reports.Count);
        Assert.Equal((firstMonday.ToString("yyyy-MM-dd"), firstMonday.AddDays(6).ToString("yyyy-MM-dd")), (reports[0].StartDate, reports[0].EndDate));
    }

    [Fact]
    public async Task An_agreement_past_its_last_day_expires_and_nothing_more_is_shared_under_it()
    {
        var clock = new ShiftableClock();
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "partner,governance";
            s.Settings["CxMesh:Delivery"] = "InProcess";
            s.Settings["Partner:Schedule:Interval"] = "01:00:00";
            s.ConfigureServices = services => services.AddSingleton<TimeProvider>(clock);
        });
        var admin = host.Client<PartnerService.PartnerServiceClient>(Roles.Admin);
        await admin.RegisterPartnerAsync(new RegisterPartnerRequest { Partner = new V1.Partner { Id = "short-lived", Name = "Short", Kind = PartnerKind.Reseller } });
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var agreement = new Agreement
        {
            PartnerId = "short-lived",
            Scope = { new Mapping { Kind = MappingKind.Product, Value = "sku-s" } },
            Fields = { SharedField.Ratings },
            Cadence = "0 6 1 * *",
            RetentionDays = 30,
            ExpiresOn = today.AddDays(2).ToString("yyyy-MM-dd"),
        };
        await RpcAssert.InvalidArgumentAsync(() => admin.ProposeAgreementAsync(new ProposeAgreementRequest
        {
            Agreement = Change.With(agreement.Clone(), a => a.ExpiresOn = today.AddDays(-1).ToString("yyyy-MM-dd")),
        }).ResponseAsync, "agreement.expires_on");
        var draft = (await admin.ProposeAgreementAsync(new ProposeAgreementRequest { Agreement = agreement })).Agreement;
        await admin.SubmitAgreementAsync(new SubmitAgreementRequest { AgreementId = draft.AgreementId, Version = 1 });
        await SharingApprovals.DecideAsync(host, draft.AgreementId, 1);
        await Eventually.Until(async () => (await admin.GetAgreementAsync(new GetAgreementRequest { AgreementId = draft.AgreementId })).Agreement.State,
            s => s == AgreementState.Active);

        clock.Advance(TimeSpan.FromDays(4));
        await host.Services.GetRequiredService<ReportScheduler>().RunDueAsync(default);
        Assert.Equal(AgreementState.Expired, (await admin.GetAgreementAsync(new GetAgreementRequest { AgreementId = draft.AgreementId })).Agreement.State);
        var partner = host.PartnerClient<PartnerService.PartnerServiceClient>("short-lived");
        await RpcAssert.StatusAsync(() => partner.GetMyAgreementAsync(new GetMyAgreementRequest()).ResponseAsync, Grpc.Core.StatusCode.NotFound);
    }

}
