using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// <c>silo …</c>: runs one silo until SIGTERM/SIGINT (or, with <c>--exit-with-stdin</c>, until its parent closes
/// stdin, so a silo never outlives a front end or test that died without stopping it). Prints <c>@ready</c> once
/// Active. Exit codes: 0 stopped, 1 failed to start, 2 bad arguments.
/// </summary>
internal static class SiloMode
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var settings = SiloSettings.Parse(args, out var error);
        if (settings is null)
        {
            await Console.Error.WriteLineAsync(error + "\n" + SiloSettings.Usage);
            return 2;
        }

        using var stop = new CancellationTokenSource();

        // However the stop was asked for, the process ends: a silo whose stop hangs (its servers gone, say) must not
        // outlive the front end or test that started it.
        stop.Token.Register(static () => _ = Task.Delay(TimeSpan.FromSeconds(30)).ContinueWith(static _ => Environment.Exit(3), TaskScheduler.Default));
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        if (settings.ExitWithStdin)
        {
            _ = Task.Run(async () =>
            {
                // Nothing is ever sent: the read ends when the parent closes the pipe or dies.
                while (await Console.In.ReadLineAsync() is not null)
                {
                }

                await stop.CancelAsync();
            });
        }

        using var host = SiloHost.Build(settings);
        var clock = Stopwatch.StartNew();
        try
        {
            await host.StartAsync(stop.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"silo {settings.Name} failed to start: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 0;
        }

        var address = host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        host.Services.GetRequiredService<SiloConsole>().Write(SiloEvent.FormatReady(settings.Name, address.ToParsableString(), clock.Elapsed));
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await host.StopAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or OrleansException)
        {
            await Console.Error.WriteLineAsync($"silo {settings.Name} stop: {ex.Message}");
        }

        return 0;
    }
}
