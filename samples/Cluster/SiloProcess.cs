using System.Diagnostics;
using System.Text;

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// A silo process this app started (this same executable in <c>silo</c> mode): its PID, the <see cref="SiloEvent"/>s it
/// reported, its latest membership view, and its log. Stops it by PID only: <see cref="Kill"/> is <c>kill -9</c>,
/// <see cref="StopAsync"/> a SIGTERM with a SIGKILL fallback; disposing stops it if it still runs. Stdin stays open
/// as a lifeline: if this process dies without stopping it, the silo sees stdin close and stops itself.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly Lock _gate = new();
    private readonly List<(DateTime At, SiloEvent Event)> _events = [];
    private IReadOnlyList<MemberView> _view = [];
    private int _stopped;

    private SiloProcess(SiloSettings settings, Process process, DateTime startedAt)
    {
        Settings = settings;
        _process = process;
        Pid = process.Id;
        StartedAt = startedAt;
    }

    public SiloSettings Settings { get; }

    public string Name => Settings.Name;

    public int Pid { get; }

    public DateTime StartedAt { get; }

    /// <summary>Its SiloAddress (<c>ip:port@generation</c>) once it reported Active.</summary>
    public string? Address { get; private set; }

    /// <summary>Host start to Active, as the silo measured it.</summary>
    public TimeSpan? JoinTime { get; private set; }

    public bool HasExited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    /// <summary>Raised on the output thread for each event, with the time this process read it.</summary>
    public event Action<SiloProcess, SiloEvent, DateTime>? EventReceived;

    /// <summary>Its latest membership view.</summary>
    public IReadOnlyList<MemberView> View
    {
        get
        {
            lock (_gate)
            {
                return _view;
            }
        }
    }

    public string Log
    {
        get
        {
            lock (_gate)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Every event so far, with the time it was read.</summary>
    public IReadOnlyList<(DateTime At, SiloEvent Event)> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Starts <c>dotnet CacheProvider.Samples.Cluster.dll silo …</c> from this app's own directory.</summary>
    public static SiloProcess Start(SiloSettings settings)
    {
        var dll = typeof(SiloProcess).Assembly.Location;

        // In its own session (setsid execs in place, so the PID stays ours): Ctrl+C in a terminal signals the whole
        // foreground process group, and a silo still starting up would die of it before its host handles signals. The
        // demo stops its silos itself, by closing their stdin (and by PID if that is not enough).
        const string SetSid = "/usr/bin/setsid";
        var inSession = File.Exists(SetSid);
        var psi = new ProcessStartInfo(inSession ? SetSid : DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        if (inSession)
        {
            psi.ArgumentList.Add(DotnetHost());
        }

        psi.ArgumentList.Add(dll);
        foreach (var arg in (settings with { ExitWithStdin = true }).ToArguments())
        {
            psi.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = psi };
        if (!process.Start())
        {
            throw new InvalidOperationException("could not start a silo process");
        }

        var silo = new SiloProcess(settings, process, DateTime.UtcNow);
        process.OutputDataReceived += (_, e) => silo.OnLine(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => silo.OnLine(e.Data, stdout: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        AppDomain.CurrentDomain.ProcessExit += silo.OnProcessExit;
        return silo;
    }

    /// <summary>The member at <paramref name="address"/> in this silo's latest view, if it has one.</summary>
    public MemberView? Member(string address)
    {
        foreach (var m in View)
        {
            if (m.Address == address)
            {
                return m;
            }
        }

        return null;
    }

    /// <summary>
    /// How this silo's latest view sees <paramref name="address"/>: its status, or null when the member is not in the
    /// view. Used as "does silo X see silo Y as Dead/Active".
    /// </summary>
    public string? StatusOf(string address) => Member(address)?.Status;

    /// <summary>Polls until <paramref name="condition"/> holds; false on timeout. Throws if the silo exits meanwhile.</summary>
    public async Task<bool> WaitUntilAsync(Func<SiloProcess, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(this))
        {
            if (HasExited)
            {
                throw new InvalidOperationException($"silo {Name} (pid {Pid}) exited:\n{Tail(40)}");
            }

            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50, cancellationToken);
        }

        return true;
    }

    /// <summary>Waits for <c>@ready</c>; throws with its log if it exits or times out first.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!await WaitUntilAsync(s => s.Address is not null, timeout, cancellationToken))
        {
            throw new TimeoutException($"silo {Name} (pid {Pid}) was not Active within {timeout.TotalSeconds:0} s:\n{Tail(40)}");
        }
    }

    /// <summary>kill -9: no shutdown, no goodbye to the cluster.</summary>
    public void Kill()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0 && !HasExited)
        {
            _ = Posix.Kill(Pid, Posix.SigKill);
        }
    }

    /// <summary>SIGTERM (the silo leaves the cluster gracefully), SIGKILL if it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0 && !HasExited)
        {
            _ = Posix.Kill(Pid, Posix.SigTerm);
        }

        using var timeout = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            if (!HasExited)
            {
                _ = Posix.Kill(Pid, Posix.SigKill);
            }

            await _process.WaitForExitAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        try
        {
            await StopAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of its output.</summary>
    public string Tail(int lines)
    {
        var all = Log.Split('\n');
        return string.Join('\n', all[Math.Max(0, all.Length - lines)..]);
    }

    private void OnLine(string? line, bool stdout)
    {
        if (line is null)
        {
            return;
        }

        var at = DateTime.UtcNow;
        SiloEvent? parsed = null;
        if (stdout)
        {
            try
            {
                parsed = SiloEvent.Parse(line);
            }
            catch (FormatException)
            {
            }
        }

        lock (_gate)
        {
            _log.Append(at.ToString("HH:mm:ss.fff ")).AppendLine(line);
            switch (parsed)
            {
                case SiloEvent.Ready ready:
                    Address = ready.Address;
                    JoinTime = TimeSpan.FromMilliseconds(ready.JoinMilliseconds);
                    break;
                case SiloEvent.View view:
                    _view = view.Members;
                    break;
            }

            if (parsed is not null)
            {
                _events.Add((at, parsed));
            }
        }

        if (parsed is not null)
        {
            EventReceived?.Invoke(this, parsed, at);
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => Kill();

    /// <summary>The dotnet host running this app (the CLI exports DOTNET_HOST_PATH), else this process if it is dotnet, else dotnet on the PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}
