using CacheProvider.KvDoctor;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
return await KvDoctorApp.RunAsync(args, Console.Out, Console.Error, cts.Token);
