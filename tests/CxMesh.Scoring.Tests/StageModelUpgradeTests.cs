using CxMesh.Events.V1;
using CxMesh.Platform.Messaging;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf.WellKnownTypes;
using Npgsql;

namespace CxMesh.Scoring.Tests;

/// <summary>
/// A scoring database migrated before stage_model had rebuilt_version (the column was once added to the already
/// released 0008 in place, so such databases never got it, and every journey event then failed there): the migrations
/// bring it up to date and touchpoints are scored.
/// </summary>
public sealed class StageModelUpgradeTests
{
    [Fact]
    public async Task A_database_migrated_before_rebuilt_version_gets_it_and_scores_touchpoints()
    {
        var database = await TestServers.Postgres.CreateDatabaseAsync("scoring", CxMeshTestHost.MigrationAssemblies["scoring"]);
        await using (var connection = new NpgsqlConnection(database))
        {
            // As 0008 left it when it was released, with 0009 applied after it, and nothing since.
            await connection.ExecuteAsync("alter table stage_model drop column rebuilt_version");
            await connection.ExecuteAsync("delete from schemaversions where scriptname > 'scoring/0009_units.sql' and scriptname like 'scoring/%'");
        }
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "scoring";
            s.Databases["scoring"] = database;
            s.Settings["CxMesh:MigrateOnStart"] = "true"; // as a release upgrade does
        });
        var touchpoints = Enumerable.Range(0, 3).Select(i => new JourneyTouchpointRecorded
        {
            EventId = $"journey.touchpoint.recorded/upgrade/{i}",
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow.AddHours(-i)),
            TouchpointEventId = Guid.NewGuid().ToString(),
            CustomerId = "upgraded-customer",
            JourneyKey = "coffee",
            TouchpointKey = "order",
            Revenue = 10,
        }).ToList();
        // Dead-lettered deliveries fail the helper: every touchpoint must be applied.
        await ScoringEvents.DeliverAsync(host, Topics.JourneyTouchpointRecorded, touchpoints, e => e.EventId);
        await using var check = new NpgsqlConnection(database);
        Assert.Equal(1, await check.ExecuteScalarAsync<int>("select count(*) from information_schema.columns where table_name = 'stage_model' and column_name = 'rebuilt_version'"));
    }
}
