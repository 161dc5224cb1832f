using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.OpenApi.Models;

namespace CxMesh.Platform.Api;

/// <summary>
/// The JSON API (every RPC with a google.api.http route) as an OpenAPI document at <c>/openapi</c>
/// (<c>/openapi/v1.json</c>), described from the protos' comments; in development also a browsable UI at
/// <c>/openapi/ui</c>. Anonymous: it describes the API, never data.
/// </summary>
internal static class OpenApiDocument
{
    public const string Path = "/openapi";
    public const string DocumentPath = "/openapi/v1.json";

    public static void AddCxMeshOpenApi(this IServiceCollection services, IReadOnlyCollection<string> hosted)
    {
        services.AddGrpcSwagger();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "CxMesh JSON API",
                Version = "v1",
                Description = $"The JSON form of CxMesh's gRPC API (services hosted here: {string.Join(", ", hosted)}). Every call needs "
                    + "'Authorization: Bearer <token>'; errors are google.rpc.Status bodies whose ErrorInfo carries a stable reason and "
                    + "the trace id (also in the x-trace-id header).",
            });
            var xml = System.IO.Path.Combine(AppContext.BaseDirectory, "CxMesh.Contracts.xml");
            if (File.Exists(xml)) o.IncludeGrpcXmlComments(xml, includeControllerXmlComments: true);
            o.AddSecurityDefinition("bearer", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "A CxMesh token (cxmesh-server dev-tokens in development; your OIDC provider in production).",
            });
            o.AddSecurityRequirement(new OpenApiSecurityRequirement
            {
                [new OpenApiSecurityScheme { Reference = new OpenApiReference { Type = ReferenceType.SecurityScheme, Id = "bearer" } }] = [],
            });
            // Several services have messages of the same name in different packages.
            o.CustomSchemaIds(t => t.FullName?.Replace("+", ".", StringComparison.Ordinal));
        });
    }

    public static void MapCxMeshOpenApi(this WebApplication app)
    {
        app.MapSwagger("/openapi/{documentName}.json").AllowAnonymous();
        app.MapGet(Path, () => Results.Redirect(DocumentPath)).AllowAnonymous().ExcludeFromDescription();
        if (app.Environment.IsDevelopment())
        {
            app.UseSwaggerUI(o =>
            {
                o.RoutePrefix = "openapi/ui";
                o.SwaggerEndpoint(DocumentPath, "CxMesh JSON API v1");
                o.DocumentTitle = "CxMesh JSON API";
            });
        }
    }
}
