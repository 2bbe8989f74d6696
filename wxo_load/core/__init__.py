"""The pure core: no clock, no sockets, no Locust. Import from the modules themselves (this
package imports none of them, so the simulator can take `errors` alone):

    metrics      METRICS (one row per timing) and its views: ALL_METRICS, RUN_METRICS,
                 CONVERSATION_METRICS, LOAD_GENERATOR_METRICS, LOCUST_NAMES, METRIC_TITLES;
                 figure kinds TIME RATE COUNT PER_S PERCENT and WORSE; turn classes
    records      RunRecord, ConversationRecord, outcome classes (OK, TIMEOUT, ...)
    summary_model  Summary: summary.json typed (sections in summary_sections, summary_plan);
                 summary_codec  its one load and dump, and the v1 upgrade
    plan         LoadPlan (Stage, RateStage, Arrival, Search): the load plan, one model for the
                 scenario, the workers and summary.json's `plan`
    stream       StreamDecoder: body bytes -> events;   tracker   RunTracker: events -> RunRecord
    steps        where a run's time went (tools, phases, streaming cadence)
    hdr          Timing (HDR histogram + exact counters), nearest_rank, nearest_rank_ms
    book         MetricsBook: a test's timings and counters, mergeable, and its wire format
    summary      build_summary: summary.json;   step_stats  its tools / phases / streaming part
    interval     IntervalTimings: the timeline's per-interval percentiles
    fmt          numbers for people: num, ms, value (a gate figure), signed_delta
    errors       ExitCode, WxoLoadError: ConfigError, AuthError, UnreachableError, ResultsError,
                 WireFormatError, TransportError (ConnectionFailed, ProtocolError)
    redact       mask, SecretRedactor: secrets out of text
    deployment   Deployment, deployment_for: which Orchestrate API a host is
    window       MeasuredWindow: a record's window (warmup | measured | cooldown)
"""
