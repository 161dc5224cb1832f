namespace CxMesh.Partner.Domain;

/// <summary>
/// A group a partner report may show: a product, or a lot within its product (or within no product). Groups form a
/// tree under the report's total: <paramref name="Parent"/> is the index of the enclosing group, -1 for the total.
/// </summary>
public sealed record DisclosureGroup(string Dimension, string Value, int Parent, long Items);

/// <summary>
/// Which groups of a report are suppressed so that no group of fewer than k responses can be read or derived.
/// <para>
/// Primary suppression hides every group under k. Suppression then runs down the tree (the lots of a hidden product
/// are hidden). Complementary suppression makes every shown group's hidden remainder — the shown group minus its shown
/// children, i.e. its items without a value plus its hidden children — either empty or at least k, by hiding the
/// smallest shown child until it is. In a tree, every count an attacker can reach by adding and subtracting shown
/// counts is a union of such remainders and shown groups, so it is 0 or at least k. The item table shows each item's
/// deepest shown group only, so counting rows reaches nothing more.
/// </para>
/// </summary>
public static class Disclosure
{
    /// <summary>For each group, whether it is suppressed. With fewer than k responses in total everything is.</summary>
    public static bool[] Suppress(long total, IReadOnlyList<DisclosureGroup> groups, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var suppressed = new bool[groups.Count];
        if (total < k)
        {
            Array.Fill(suppressed, true);
            return suppressed;
        }
        var children = new List<int>[groups.Count + 1]; // slot groups.Count is the total
        for (var i = 0; i < children.Length; i++) children[i] = [];
        for (var i = 0; i < groups.Count; i++)
        {
            var parent = groups[i].Parent;
            if (parent < -1 || parent >= groups.Count || parent == i) throw new ArgumentException($"group {i} has no valid parent.", nameof(groups));
            children[parent < 0 ? groups.Count : parent].Add(i);
        }

        // Parents before children, so a hidden parent hides its subtree before that subtree is balanced.
        var order = new List<int>(groups.Count);
        var queue = new Queue<int>(children[groups.Count]);
        while (queue.TryDequeue(out var g))
        {
            order.Add(g);
            foreach (var c in children[g]) queue.Enqueue(c);
        }
        if (order.Count != groups.Count) throw new ArgumentException("groups do not form a tree under the total.", nameof(groups));

        foreach (var g in order) suppressed[g] = groups[g].Items < k || groups[g].Parent >= 0 && suppressed[groups[g].Parent];

        void Hide(int g)
        {
            suppressed[g] = true;
            foreach (var c in children[g]) Hide(c);
        }

        void Balance(int node, long items)
        {
            while (true)
            {
                var shown = children[node].Where(c => !suppressed[c]).ToList();
                var remainder = items - shown.Sum(c => groups[c].Items);
                if (remainder == 0 || remainder >= k || shown.Count == 0) return;
                Hide(shown.OrderBy(c => groups[c].Items).ThenBy(c => groups[c].Value, StringComparer.Ordinal).First());
            }
        }

        Balance(groups.Count, total);
        foreach (var g in order)
        {
            if (!suppressed[g]) Balance(g, groups[g].Items);
        }
        return suppressed;
    }

    /// <summary>
    /// Themes counted over the same items: a theme is shown when at least k items mention it and the items that do not
    /// are none or at least k (the total minus the theme's count is derivable).
    /// </summary>
    public static bool ThemeShown(long total, long mentions, int k) => mentions >= k && (total - mentions == 0 || total - mentions >= k);
}
