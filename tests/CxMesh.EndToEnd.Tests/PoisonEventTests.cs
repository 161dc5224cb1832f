using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.EndToEnd.Tests;

public sealed class PoisonEventTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    [Theory]
    [InlineData("{ this is not json", "cxmesh.events.v1.FeedbackReceived")]
    [InlineData("""{"eventId":"x-1","feedbackId":"f","givenAt":"2026-11-01T00:00:00Z"}""", "cxmesh.events.v1.NoSuchEvent")]
    public async Task A_poison_event_in_the_outbox_is_dead_lettered_by_the_consumer_and_not_retried(string payload, string type)
    {
        var eventId = Guid.NewGuid().ToString();
        var feedback = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");
        var scoring = fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("scoring");
        await using (var connection = await feedback.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                "insert into outbox (event_id, topic, event_type, payload) values (@eventId, 'feedback.received.v1', @type, @payload)",
                new { eventId, type, payload });
        }

        await Eventually.Until(async () =>
        {
            await using var c = await scoring.OpenConnectionAsync();
            return await c.ExecuteScalarAsync<string?>("select error from dead_letters where event_id = @eventId", new { eventId });
        }, error => !string.IsNullOrEmpty(error), because: "the consumer keeps the poison event with its error");

        await using var outbox = await feedback.OpenConnectionAsync();
        var row = await Eventually.Until(
            () => outbox.QuerySingleAsync<(DateTime? SentAt, int Attempts)>("select sent_at, attempts from outbox where event_id = @eventId", new { eventId }),
            r => r.SentAt is not null, because: "delivery to the dead-letter table counts as delivered");
        Assert.Equal(0, row.Attempts);
    }
}
