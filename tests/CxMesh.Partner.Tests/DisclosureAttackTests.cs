using CxMesh.Partner.Domain;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace CxMesh.Partner.Tests;

/// <summary>
/// Plays the attacker against the report's suppression: from everything a report shows — the total, every shown
/// product and lot count, and the item table's rows (each names only its deepest shown group) — derive every set of
/// responses reachable by adding and subtracting those counts, and check none holds between 1 and k-1 responses.
/// </summary>
public sealed class DisclosureAttackTests
{
    private const long Prime = 1_000_000_007; // exact here: minors of these 0/1 matrices are far smaller

    public static Arbitrary<(int K, (int Product, int Lot)[] Items)> Reports() =>
        Gen.Choose(2, 6).SelectMany(k =>
            Gen.Choose(0, 3).SelectMany(p => Gen.Choose(0, 2).Select(l => (p, l))).ArrayOf().Select(items => (k, items))).ToArbitrary();

    [Property(MaxTest = 400, Arbitrary = [typeof(DisclosureAttackTests)])]
    public void No_count_under_k_can_be_derived_from_a_report((int K, (int Product, int Lot)[] Items) report)
    {
        var (k, items) = report;
        var (groups, suppressed) = Publish(items, k);
        var types = items.Distinct().OrderBy(t => t).ToList();
        var count = types.ToDictionary(t => t, t => (long)items.Count(i => i == t));

        // What the attacker reads: indicator vectors over the kinds of response present.
        var published = new List<long[]>();
        long[] Vector(Func<(int Product, int Lot), bool> member) => types.Select(t => member(t) ? 1L : 0L).ToArray();
        if (items.Length >= k)
        {
            published.Add(Vector(_ => true));
            for (var g = 0; g < groups.Count; g++)
            {
                if (suppressed[g]) continue;
                var (product, lot) = groups[g].Key;
                published.Add(groups[g].Group.Dimension == "product" ? Vector(t => t.Product == product) : Vector(t => t == (product, lot)));
            }
            // Rows of the item table, grouped by what each row shows.
            (int, int) Shown((int Product, int Lot) t)
            {
                var productShown = t.Product != 0 && !suppressed[groups.FindIndex(g => g.Group.Dimension == "product" && g.Key.Product == t.Product)];
                var lotShown = t.Lot != 0 && !suppressed[groups.FindIndex(g => g.Group.Dimension == "lot" && g.Key == t)];
                return (productShown ? t.Product : 0, lotShown ? t.Lot : 0);
            }
            foreach (var shown in types.Select(Shown).Distinct()) published.Add(Vector(t => Shown(t) == shown));
        }

        var basis = Reduce(published);
        for (var subset = 1; subset < 1 << types.Count; subset++)
        {
            var v = types.Select((_, i) => (subset >> i & 1) == 1 ? 1L : 0L).ToArray();
            if (!InSpan(basis, v)) continue;
            var n = types.Where((_, i) => (subset >> i & 1) == 1).Sum(t => count[t]);
            Assert.True(n >= k, $"k={k}: {n} responses of kinds {string.Join(" ", types.Where((_, i) => (subset >> i & 1) == 1))} can be derived; items {string.Join(" ", items)}");
        }
    }

    [Fact]
    public void The_reported_case_lot_B_is_protected_by_suppressing_lot_A_too()
    {
        // Product P with 4 items on lot A and 2 on lot B, k = 3: P - A would give B.
        var (groups, suppressed) = Publish([.. Enumerable.Repeat((1, 1), 4), .. Enumerable.Repeat((1, 2), 2)], 3);
        Assert.Equal([false, true, true], suppressed);
        Assert.Equal(["product", "lot", "lot"], groups.Select(g => g.Group.Dimension));
    }

    [Fact]
    public void A_lone_small_lot_next_to_items_without_a_lot_is_fine_when_the_rest_is_at_least_k()
    {
        // Product P: lot A 5, lot B 1, 3 without a lot: B hidden, its remainder is 1 + 3 = 4 >= 3, A stays.
        var (_, suppressed) = Publish([.. Enumerable.Repeat((1, 1), 5), (1, 2), .. Enumerable.Repeat((1, 0), 3)], 3);
        Assert.Equal([false, false, true], suppressed);
    }

    [Theory]
    [InlineData(10, 10, 3, true)]
    [InlineData(10, 8, 3, false)] // 2 items without the theme would be derivable
    [InlineData(10, 7, 3, true)]
    [InlineData(10, 2, 3, false)]
    public void A_theme_is_shown_when_neither_it_nor_its_complement_is_under_k(long total, long mentions, int k, bool shown) =>
        Assert.Equal(shown, Disclosure.ThemeShown(total, mentions, k));

    /// <summary>The report's groups as the service builds them: products (1..3), then lots within their product (or none: 0).</summary>
    private static (List<(DisclosureGroup Group, (int Product, int Lot) Key)> Groups, bool[] Suppressed) Publish((int Product, int Lot)[] items, int k)
    {
        var groups = new List<(DisclosureGroup Group, (int Product, int Lot) Key)>();
        foreach (var product in items.Where(i => i.Product != 0).Select(i => i.Product).Distinct().Order())
        {
            groups.Add((new DisclosureGroup("product", $"p{product}", -1, items.Count(i => i.Product == product)), (product, 0)));
        }
        foreach (var (product, lot) in items.Where(i => i.Lot != 0).Distinct().Order())
        {
            var parent = product == 0 ? -1 : groups.FindIndex(g => g.Group.Dimension == "product" && g.Key.Product == product);
            groups.Add((new DisclosureGroup("lot", $"l{lot}", parent, items.Count(i => i == (product, lot))), (product, lot)));
        }
        return (groups, Disclosure.Suppress(items.Length, groups.Select(g => g.Group).ToList(), k));
    }

    private static List<long[]> Reduce(IEnumerable<long[]> vectors)
    {
        var basis = new List<long[]>();
        foreach (var v in vectors)
        {
            var r = Residue(basis, v);
            if (r.Any(x => x != 0)) basis.Add(r);
        }
        return basis;
    }

    private static bool InSpan(List<long[]> basis, long[] v) => Residue(basis, v).All(x => x == 0);

    /// <summary>v reduced by the basis (each basis vector normalised to a leading 1 in its own pivot column), mod a prime.</summary>
    private static long[] Residue(List<long[]> basis, long[] v)
    {
        var r = v.Select(x => (x % Prime + Prime) % Prime).ToArray();
        foreach (var b in basis)
        {
            var pivot = Array.FindIndex(b, x => x != 0);
            if (r[pivot] == 0) continue;
            var f = r[pivot] * Inverse(b[pivot]) % Prime;
            for (var i = 0; i < r.Length; i++) r[i] = ((r[i] - f * b[i]) % Prime + Prime) % Prime;
        }
        return r;
    }

    private static long Inverse(long a)
    {
        long result = 1, e = Prime - 2;
        a %= Prime;
        while (e > 0)
        {
            if ((e & 1) == 1) result = result * a % Prime;
            a = a * a % Prime;
            e >>= 1;
        }
        return result;
    }
}
