using Cronos;
using CxMesh.Partner.Data;
using CxMesh.Partner.UseCases;
using CxMesh.Platform.Errors;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CxMesh.Partner.Workers;

/// <summary>
/// Keeps agreements' time rules: publishes each active agreement's reports on its cadence (cron, UTC) — when an
/// occurrence has passed since the last scheduled report (or the approval), the report covers the days since then,
/// one report per partner and occurrence across replicas — expires versions past their last day, and once an hour
/// deletes partner copies older than their agreement's retention.
/// </summary>
public sealed class ReportScheduler(
    PartnerStore partners, ReportStore reports, PublishReport publisher, TimeProvider clock, IOptions<ScheduleOptions> options, ILogger<ReportScheduler> logger)
    : BackgroundService
{
    private DateTimeOffset _lastPurge = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunDueAsync(stoppingToken);
                if (clock.GetUtcNow() - _lastPurge > TimeSpan.FromHours(1))
                {
                    _lastPurge = clock.GetUtcNow();
                    var purged = await reports.PurgeExpiredAsync(stoppingToken);
                    if (purged > 0) logger.LogInformation("Deleted {Count} partner copies past their agreement's retention", purged);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Scheduled partner reports failed; trying again");
            }
            try
            {
                await Task.Delay(options.Value.Interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async Task<int> RunDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await partners.ExpireAsync(DateOnly.FromDateTime(now), ct);
        var published = 0;
        foreach (var (agreement, lastScheduled, reportedUntil) in await partners.ScheduledAsync(ct))
        {
            var from = DateTime.SpecifyKind(lastScheduled ?? agreement.DecidedAt ?? agreement.CreatedAt, DateTimeKind.Utc);
            // Days already reported (an on-demand report) are not reported again: a report starts after them.
            var start = DateOnly.FromDateTime(from);
            if (reportedUntil is { } until && until >= start) start = until.AddDays(1);
            // The first occurrence that closes at least one whole unreported day (several a day report once a day).
            var cron = CronExpression.Parse(agreement.Cadence);
            var due = cron.GetNextOccurrence(from, TimeZoneInfo.Utc);
            while (due is { } d && d <= now && DateOnly.FromDateTime(d).AddDays(-1) < start) due = cron.GetNextOccurrence(d, TimeZoneInfo.Utc);
            if (due is not { } dueAt || dueAt > now) continue;
            var end = DateOnly.FromDateTime(dueAt).AddDays(-1);
            if (end.DayNumber - start.DayNumber >= 366) start = end.AddDays(-365);
            try
            {
                await publisher.PublishAsync(agreement.PartnerId, start, end, ct, dueAt);
                published++;
            }
            catch (AlreadyExistsException)
            {
                // Another replica published this occurrence.
            }
        }
        return published;
    }
}
