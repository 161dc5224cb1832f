namespace CxMesh.Partner.Domain;

public sealed record AlignmentItem(string Key, string Principle, string Text, int Weight);

/// <summary>A partner's CX alignment: answers 1-5 mapped to 0-100, weighted, overall and per principle.</summary>
public static class AlignmentScore
{
    public static (double Score, IReadOnlyDictionary<string, double> ByPrinciple) Of(IReadOnlyList<AlignmentItem> questions, IReadOnlyDictionary<string, int> answers)
    {
        double Mean(IEnumerable<AlignmentItem> items)
        {
            var list = items.ToList();
            var weight = list.Sum(q => q.Weight);
            return weight == 0 ? 0 : list.Sum(q => q.Weight * (answers[q.Key] - 1) * 25.0) / weight;
        }
        var byPrinciple = questions.GroupBy(q => q.Principle).ToDictionary(g => g.Key, g => Mean(g));
        return (Mean(questions), byPrinciple);
    }

    /// <summary>Every problem with a set of answers: unanswered or unknown questions, answers outside 1-5.</summary>
    public static IReadOnlyList<string> Problems(IReadOnlyList<AlignmentItem> questions, IReadOnlyDictionary<string, int> answers)
    {
        var problems = new List<string>();
        problems.AddRange(questions.Where(q => !answers.ContainsKey(q.Key)).Select(q => $"question '{q.Key}' is not answered."));
        problems.AddRange(answers.Keys.Where(k => questions.All(q => q.Key != k)).Select(k => $"'{k}' is not a question of this questionnaire."));
        problems.AddRange(answers.Where(a => a.Value is < 1 or > 5).Select(a => $"answer to '{a.Key}' must be 1 to 5; got {a.Value}."));
        return problems;
    }
}
