namespace CacheProvider.FusionCache;

/// <summary>
/// Settings of <see cref="NatsBackplane"/>, per FusionCache (named options: the cache name). Bindable from configuration,
/// e.g. <c>{ "SubjectPrefix": "myapp.fusioncache" }</c>.
/// </summary>
public sealed class NatsBackplaneOptions
{
    /// <summary>The default <see cref="SubjectPrefix"/>.</summary>
    public const string DefaultSubjectPrefix = "fusioncache";

    /// <summary>
    /// First tokens of the NATS subject; the cache's backplane channel name (by default
    /// <c>{CacheName}.Backplane:v2</c>, see FusionCache's <c>BackplaneChannelPrefix</c>) follows, so each cache has its
    /// own subject: <c>{SubjectPrefix}.{CacheName}.Backplane:v2</c>. Apps sharing one NATS account give it an app prefix.
    /// </summary>
    public string SubjectPrefix { get; set; } = DefaultSubjectPrefix;

    /// <summary>The key of a keyed NATS.Net connection to use; <see langword="null"/>: the app's default connection.</summary>
    public string? ConnectionKey { get; set; }

    /// <summary>
    /// How long to wait between attempts to subscribe when NATS was unreachable at start-up (the cache works without
    /// backplane until then; FusionCache's auto-recovery is told when the subscription is in place).
    /// </summary>
    public TimeSpan SubscribeRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many incoming messages FusionCache handles at once (an EntrySet with an L2 reads the entry from L2).
    /// Messages for the same cache key are always handled one at a time, in the order NATS delivered them.
    /// </summary>
    public int MaxConcurrentMessages { get; set; } = 16;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">An invalid subject prefix or retry delay.</exception>
    public void Validate()
    {
        if (!NatsBackplaneSubjects.IsValidPrefix(SubjectPrefix))
        {
            throw new ArgumentException($"NatsBackplaneOptions.SubjectPrefix '{SubjectPrefix}' is not a valid NATS subject without wildcards (tokens separated by '.', none empty, no spaces, '*' or '>')", nameof(SubjectPrefix));
        }

        if (MaxConcurrentMessages is < 1 or > 1024)
        {
            throw new ArgumentException("NatsBackplaneOptions.MaxConcurrentMessages must be between 1 and 1024", nameof(MaxConcurrentMessages));
        }

        if (SubscribeRetryDelay <= TimeSpan.Zero)
        {
            throw new ArgumentException("NatsBackplaneOptions.SubscribeRetryDelay must be positive", nameof(SubscribeRetryDelay));
        }
    }
}
