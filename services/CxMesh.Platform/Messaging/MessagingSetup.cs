using CxMesh.Platform.Hosting;
using CxMesh.Platform.Postgres;
using Google.Protobuf;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CxMesh.Platform.Messaging;

public static class MessagingSetup
{
    internal static void AddCxMeshMessaging(this WebApplicationBuilder builder, EventDelivery delivery, string? appApiToken)
    {
        builder.Services.AddValidatedOptions<RelayOptions>(RelayOptions.Section);
        builder.Services.TryAddSingleton<EventDispatcher>();
        if (delivery == EventDelivery.Dapr)
        {
            // Event routes take calls from the sidecar only: it sends the app API token as dapr-api-token.
            builder.Services.AddAuthentication().AddDapr(o => o.Token = appApiToken);
            builder.Services.AddAuthorization(o => o.AddDapr(DaprSubscriptions.SidecarPolicy));
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

/// <summary>Marks an endpoint as a Dapr event route of a topic.</summary>
internal sealed record EventRoute(string Topic);
