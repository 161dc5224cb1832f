namespace CxMesh.Scoring.Domain;

/// <summary>
/// Stage counts and transitions from the monthly moves alone: customers in a stage at the start of a month are every
/// move into it before the month minus every move out; those who stayed are those minus the month's moves out.
/// </summary>
public static class StageTransitions
{
    public sealed record Result(
        IReadOnlyDictionary<string, long> AtStart, IReadOnlyDictionary<string, long> AtEnd, IReadOnlyDictionary<(string From, string To), long> Cells);

    public static Result Of(IReadOnlyList<(DateOnly Month, string From, string To, long Customers)> moves, DateOnly from, DateOnly to)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        void Apply(IEnumerable<(DateOnly Month, string From, string To, long Customers)> monthMoves)
        {
            foreach (var m in monthMoves)
            {
                if (m.From.Length > 0) counts[m.From] = counts.GetValueOrDefault(m.From) - m.Customers;
                counts[m.To] = counts.GetValueOrDefault(m.To) + m.Customers;
            }
        }

        var byMonth = moves.ToLookup(m => m.Month);
        Apply(moves.Where(m => m.Month < from));
        var atStart = new Dictionary<string, long>(counts, StringComparer.Ordinal);
        var cells = new Dictionary<(string, string), long>();
        for (var month = from; month <= to; month = month.AddMonths(1))
        {
            var monthMoves = byMonth[month].ToList();
            foreach (var (stage, n) in counts)
            {
                var stayed = n - monthMoves.Where(m => m.From == stage).Sum(m => m.Customers);
                if (stayed != 0) cells[(stage, stage)] = cells.GetValueOrDefault((stage, stage)) + stayed;
            }
            foreach (var m in monthMoves) cells[(m.From, m.To)] = cells.GetValueOrDefault((m.From, m.To)) + m.Customers;
            Apply(monthMoves);
        }
        return new Result(atStart, counts, cells.Where(c => c.Value != 0).ToDictionary());
    }
}
