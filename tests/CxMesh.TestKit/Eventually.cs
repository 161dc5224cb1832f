namespace CxMesh.TestKit;

public static class Eventually
{
    /// <summary>
    /// Polls until <paramref name="condition"/> holds. The timeout is a generous upper bound for
    /// asynchronous delivery on a loaded machine, not a performance assertion.
    /// </summary>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        T last = default!;
        Exception? lastError = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await probe();
                if (condition(last)) return last;
                lastError = null;
            }
            catch (Exception ex)
            {
                lastError = ex;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"Condition not met{(because is null ? "" : $" ({because})")}; last value: {last}", lastError);
    }
}
