namespace X402Serverless.Handler.Hosting;

/// <summary>Settings under "X402:Inbox": the SMTP server paid messages are delivered through, and the delivery job's retries.</summary>
public sealed class InboxOptions
{
    /// <summary>The SMTP relay; empty: inbox links still take messages, which wait queued until it is configured.</summary>
    public string? SmtpHost { get; set; }

    public int SmtpPort { get; set; } = 587;

    /// <summary>"starttls" (required), "tls" (implicit, port 465), "auto" (STARTTLS when offered) or "none" (loopback tests only).</summary>
    public string SmtpSecurity { get; set; } = "starttls";

    public string? SmtpUserName { get; set; }

    /// <summary>A secret (Key Vault reference in Azure); never logged.</summary>
    public string? SmtpPassword { get; set; }

    /// <summary>The From address of delivered mail (the sender's own address goes in Reply-To).</summary>
    public string From { get; set; } = "inbox@localhost";

    /// <summary>The right-hand side of every Message-ID; empty: From's domain.</summary>
    public string? MessageIdDomain { get; set; }

    /// <summary>Attempts before a message fails and its payment is given back.</summary>
    public int MaxAttempts { get; set; } = 8;

    public double FirstRetrySeconds { get; set; } = 30;

    public double MaxRetrySeconds { get; set; } = 3600;

    /// <summary>How long a claimed delivery is owned by its worker before another may take it over (longer than one SMTP attempt).</summary>
    public double LeaseSeconds { get; set; } = 180;

    public double SmtpTimeoutSeconds { get; set; } = 60;

    /// <summary>How often the worker looks for due messages when nothing wakes it.</summary>
    public double PollSeconds { get; set; } = 5;

    /// <summary>Deliver in this process (standalone). In Azure it is off: the queue-triggered InboxDelivery function delivers.</summary>
    public bool RunWorker { get; set; } = true;

    /// <summary>How long a failed message's refund may stay undecided before the maintenance sweep finishes it.</summary>
    public double RefundGraceSeconds { get; set; } = 300;

    /// <summary>
    /// How long a message may stay held (stored, its charge not concluded: a request stopped before queueing it) before
    /// the maintenance sweep queues it if paid for, or deletes it. Past any request that could still conclude its charge.
    /// </summary>
    public double HeldGraceSeconds { get; set; } = 600;
}
