using System.Globalization;
using CxMesh.Platform.Validation;

namespace CxMesh.Platform.Api;

/// <summary>What a List call asked for (AIP-158): how many items, and after which position (null: from the start).</summary>
public readonly record struct PageRequest(int Size, string? After);

/// <summary>
/// AIP-158 paging, one way for every List method: <c>page_size</c> (0 means the method's default) and an opaque
/// <c>page_token</c> holding the position of the last item returned; <c>next_page_token</c> is empty on the last page.
/// Positions are keysets (never offsets), so items added or removed meanwhile neither repeat nor skip others.
/// </summary>
public static class Pages
{
    /// <summary>Reads page_size and page_token; a token this method could not have issued is INVALID_ARGUMENT naming page_token.</summary>
    public static PageRequest Page(this Violations check, int pageSize, string pageToken, int max, int fallback)
    {
        var size = check.PageSize(pageSize, "page_size", max, fallback);
        if (pageToken.Length == 0) return new PageRequest(size, null);
        var ok = PageTokens.TryDecode(pageToken, out var position) && position.Length > 0;
        check.Check(ok, "page_token", "page_token is not one this method gave (list again from the first page).");
        return new PageRequest(size, ok ? position : null);
    }

    /// <summary>
    /// One page of a collection the service reads whole (configuration: themes, teams, partners…), ordered by
    /// <paramref name="key"/> (unique, compared ordinally; descending for newest-first keys from <see cref="TimeKey"/>).
    /// </summary>
    public static List<T> Slice<T>(IEnumerable<T> items, Func<T, string> key, PageRequest page, out string nextPageToken, bool descending = false)
    {
        var ordered = descending ? items.OrderByDescending(key, StringComparer.Ordinal) : items.OrderBy(key, StringComparer.Ordinal);
        var after = page.After;
        var rest = after is null ? ordered : ordered.Where(i => string.CompareOrdinal(key(i), after) is var c && (descending ? c < 0 : c > 0));
        return Trim(rest.Take(page.Size + 1).ToList(), page, key, out nextPageToken);
    }

    /// <summary>A page read with <c>limit size + 1</c>: the extra row only says there is more; the token points after the last kept.</summary>
    public static List<T> Trim<T>(List<T> rows, PageRequest page, Func<T, string> position, out string nextPageToken)
    {
        nextPageToken = "";
        if (rows.Count <= page.Size) return rows;
        rows.RemoveRange(page.Size, rows.Count - page.Size);
        nextPageToken = PageTokens.Encode(position(rows[^1]));
        return rows;
    }

    /// <summary>A position that sorts like (time, id): for lists ordered by when things happened.</summary>
    public static string TimeKey(DateTime at, string id) => $"{at.Ticks.ToString("D19", CultureInfo.InvariantCulture)}|{id}";

    /// <summary>The time and id of a <see cref="TimeKey"/> position; false when the token held something else.</summary>
    public static bool TryTimeKey(string? position, out DateTime at, out string id)
    {
        at = default;
        id = "";
        if (position is null || position.Split('|', 2) is not [var ticks, var rest]) return false;
        if (!long.TryParse(ticks, NumberStyles.None, CultureInfo.InvariantCulture, out var t) || t > DateTime.MaxValue.Ticks) return false;
        (at, id) = (new DateTime(t, DateTimeKind.Utc), rest);
        return true;
    }

    /// <summary>The (time, uuid) a <see cref="TimeKey"/> position names, as a keyset for SQL; null when there is none or it is not one.</summary>
    public static (DateTime At, Guid Id)? TimeAndGuid(this Violations check, PageRequest page)
    {
        if (page.After is null) return null;
        var ok = TryTimeKey(page.After, out var at, out var id) & Guid.TryParse(id, out var guid);
        check.Check(ok, "page_token", "page_token is not one this method gave (list again from the first page).");
        return ok ? (at, guid) : null;
    }

    /// <summary>A numeric position (a sequence or bigint id); null when there is none or it is not one.</summary>
    public static long? Number(this Violations check, PageRequest page)
    {
        if (page.After is null) return null;
        var ok = long.TryParse(page.After, NumberStyles.None, CultureInfo.InvariantCulture, out var n);
        check.Check(ok, "page_token", "page_token is not one this method gave (list again from the first page).");
        return ok ? n : null;
    }
}
