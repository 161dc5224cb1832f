using System.Diagnostics;

namespace CxMesh.TestKit;

/// <summary>
/// Runs a clean-up command once this test process is gone, however it ended. The test runner may kill
/// a test host without running ProcessExit handlers, and servers it started must not outlive it.
/// </summary>
internal static class Watchdog
{
    public static void WhenProcessEnds(string shellCommand)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; {shellCommand}");
        Process.Start(psi);
    }
}
