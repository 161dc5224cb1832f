using CxMesh.Common.V1;
using CxMesh.Events.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Messaging;
using CxMesh.Scoring.V1;
using CxMesh.TestKit;
using Dapper;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CxMesh.Scoring.Tests;

public sealed class ScoringOutageTests
{
    [Fact]
    public async Task An_event_handled_while_Postgres_restarts_fails_is_retried_and_counted_once_and_hot_scores_catch_up()
    {
        await using var database = await FaultyDatabase.CreateAsync("scoring");
        await using var host = await CxMeshTestHost.StartAsync(s =>
        {
            s.Services = "scoring";
            s.Databases["scoring"] = database.ProxiedConnectionString;
        });
        var subscription = host.Services.GetServices<EventSubscription>().Single(s => s.Service == "scoring" && s.Topic.Name == Topics.FeedbackReceived.Name);
        var dispatcher = host.Services.GetRequiredService<EventDispatcher>();
        var evt = new FeedbackReceived
        {
            EventId = Guid.NewGuid().ToString(),
            OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow),
            FeedbackId = Guid.NewGuid().ToString(),
            Channel = Channel.Web,
            JourneyKey = "outage-journey",
            GivenAt = Timestamp.FromDateTime(DateTime.UtcNow.AddMinutes(-1)),
            Ratings = { new RatingValue { QuestionId = "nps", Metric = Metric.Nps, Value = 3, ScaleMin = 0, ScaleMax = 10 } },
        };
        var incoming = new IncomingEvent(evt.EventId, Topics.FeedbackReceived.Name, Topics.FeedbackReceived.EventType, EventJson.Format(evt), null);

        database.Proxy.GoDown();
        // The transport sees a failure and will deliver again; nothing is dead-lettered for an outage.
        await Assert.ThrowsAnyAsync<Exception>(() => dispatcher.DeliverAsync(subscription, incoming, default));
        database.Proxy.ComeBack();
        Assert.Equal(DeliveryOutcome.Applied, await dispatcher.DeliverAsync(subscription, incoming, default));
        Assert.Equal(DeliveryOutcome.Duplicate, await dispatcher.DeliverAsync(subscription, incoming, default));

        await using var connection = new NpgsqlConnection(database.DirectConnectionString);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("select sum(n) from rating_daily where scope_key = 'journey=outage-journey'"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from dead_letters"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("select count(*) from alerts where feedback_id = @id", new { id = evt.FeedbackId }));

        var client = host.Client<ScoringService.ScoringServiceClient>(Roles.Analyst);
        var score = await Eventually.Until(
            async () => (await client.GetScoreAsync(new GetScoreRequest
            {
                Metric = Metric.Nps,
                Scope = new Scope { Dimensions = { new Dimension { Kind = DimensionKind.Journey, Value = "outage-journey" } } },
                Window = new V1.Window { LastDays = 7 },
            })).Score,
            s => s.N == 1);
        Assert.Equal(-100, score.Value);
    }
}
