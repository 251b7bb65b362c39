using System.Diagnostics;
using InitOs.Sys;

// Two reapers in one .NET process, the design docs/pid1.md rules out for InitOS: a thread
// that reaps any child (what an init must do, or orphans stay zombies) next to
// System.Diagnostics.Process, whose runtime support reaps the children it started on SIGCHLD.
// Whichever reaper loses, a status is lost: when the thread takes a Process child first, the
// runtime never learns of the exit (WaitForExit never returns); when the runtime has seen the
// exit (waitid WNOWAIT) and the thread then takes it, the runtime's waitpid(pid) fails with
// ECHILD and it calls Environment.FailFast, which for PID 1 is a kernel panic.
//
// On this machine's kernels the thread, sleeping in waitpid(-1), wins every race: each
// Process status is lost. usage: reaper-collision [PROGRAM] (run as "PROGRAM true").
string program = args.Length > 0 ? args[0] : "/bin/busybox";
const int Rounds = 50;
const int LostEnough = 3;
Console.WriteLine($"REAPER-COLLISION start pid={Environment.ProcessId}");

var reaper = new Thread(() =>
{
    while (true)
    {
        if (Processes.Wait() is { } exit)
        {
            Console.WriteLine($"REAPER-COLLISION thread reaped pid={exit.Pid}");
        }
        else
        {
            Thread.Sleep(1);
        }
    }
}) { IsBackground = true, Name = "reap-any" };
reaper.Start();

int ok = 0, lost = 0;
for (int i = 1; i <= Rounds && lost < LostEnough; i++)
{
    var child = Process.Start(new ProcessStartInfo(program, "true") { UseShellExecute = false })!;
    if (child.WaitForExit(2000))
    {
        ok++;
    }
    else
    {
        lost++;
        Console.WriteLine($"REAPER-COLLISION lost-status pid={child.Id} round={i}: the runtime never saw it exit");
    }
}
// As PID 1 this program must not exit (that would panic the kernel for a reason of its own).
Console.WriteLine($"REAPER-COLLISION done ok={ok} lost={lost}");
Thread.Sleep(Timeout.Infinite);
