using CxMesh.Platform.Hosting;
using CxMesh.Platform.Postgres;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CxMesh.Platform.Messaging;

public static class MessagingSetup
{
    internal static void AddCxMeshMessaging(this WebApplicationBuilder builder, EventDelivery delivery)
    {
        builder.Services.AddOptions<RelayOptions>().BindConfiguration(RelayOptions.Section);
        builder.Services.TryAddSingleton<EventDispatcher>();
        if (delivery == EventDelivery.Dapr)
        {
            builder.Services.AddDaprClient();
            builder.Services.TryAddSingleton<IEventTransport, DaprTransport>();
        }
        else
        {
            builder.Services.TryAddSingleton<IEventTransport, InProcessTransport>();
        }
    }

    /// <summary>Starts the outbox relay of a service database hosted in this process.</summary>
    public static void AddOutboxRelay(this WebApplicationBuilder builder, string service) =>
        builder.Services.AddSingleton<IHostedService>(sp => new OutboxRelay(
            sp.GetRequiredKeyedService<ServiceDatabase>(service),
            sp.GetRequiredService<IEventTransport>(),
            sp.GetRequiredService<IOptions<RelayOptions>>(),
            sp.GetRequiredService<ILogger<OutboxRelay>>()));

    /// <summary>Subscribes <typeparamref name="THandler"/> of <paramref name="service"/> to <paramref name="topic"/>.</summary>
    public static void AddEventHandler<TEvent, THandler>(this WebApplicationBuilder builder, string service, EventTopic<TEvent> topic)
        where TEvent : IMessage<TEvent>, new()
        where THandler : class, IEventHandler<TEvent>
    {
        builder.Services.TryAddScoped<THandler>();
        builder.Services.AddSingleton(new EventSubscription(
            service,
            topic,
            typeof(THandler),
            json => EventJson.Parse<TEvent>(json),
            (sp, message, context, ct) => sp.GetRequiredService<THandler>().HandleAsync((TEvent)message, context, ct))
        {
            HandleMany = typeof(IBatchEventHandler<TEvent>).IsAssignableFrom(typeof(THandler))
                ? (sp, messages, context, ct) => ((IBatchEventHandler<TEvent>)sp.GetRequiredService<THandler>())
                    .HandleManyAsync(messages.Cast<TEvent>().ToList(), context, ct)
                : null,
        });
    }
}
