using CxMesh.Events.V1;
using CxMesh.Platform.Postgres;
using Dapper;

namespace CxMesh.Scoring.Data;

/// <summary>Scoring's copy of which products, lots, journeys and touchpoints each partner contributes to.</summary>
public static class PartnerMappings
{
    public static Task ApplyAsync(WriteScope write, PartnerMappingChanged evt, CancellationToken ct) =>
        write.Connection.ExecuteAsync(new CommandDefinition(
            evt.Mapped
                ? "insert into partner_mappings (kind, value, partner_id) values (@Kind, @Value, @PartnerId) on conflict do nothing"
                : "delete from partner_mappings where kind = @Kind and value = @Value and partner_id = @PartnerId",
            new { evt.Kind, evt.Value, evt.PartnerId }, write.Transaction, cancellationToken: ct));

    /// <summary>The partners of each link (kind, value) that has any. One query.</summary>
    public static async Task<IReadOnlyDictionary<(string Kind, string Value), List<string>>> FindAsync(WriteScope write,
        IReadOnlyList<(string Kind, string Value)> links, CancellationToken ct)
    {
        var found = new Dictionary<(string, string), List<string>>();
        if (links.Count == 0) return found;
        foreach (var (kind, value, partner) in await write.Connection.QueryAsync<(string, string, string)>(new CommandDefinition(
            """
            select m.kind, m.value, m.partner_id from unnest(@kinds, @values) as l(kind, value)
            join partner_mappings m on m.kind = l.kind and m.value = l.value
            """,
            new { kinds = links.Select(l => l.Kind).ToArray(), values = links.Select(l => l.Value).ToArray() }, write.Transaction, cancellationToken: ct)))
        {
            if (!found.TryGetValue((kind, value), out var partners)) found[(kind, value)] = partners = [];
            partners.Add(partner);
        }
        return found;
    }
}
