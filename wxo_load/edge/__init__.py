"""Layer 2, the I/O edge: everything that talks to the network or the disk. Import from the
modules themselves (this package imports none of them: the transport pulls in gevent, the report
only string building, and a caller should pay for what it uses):

    transport    Connection: HTTP/1.1 keep-alive, arrival stamps, reuse checks, reconnects
    response     Response: one answer read through llhttp (1xx skipped, bounded drain)
    rxstamp      the kernel's receive time of a read (SO_TIMESTAMPNS), as perf_counter() time
    idle         readable: is an idle connection still clean (zero-timeout poll)
    watchdog     StallWatchdog: one gevent timer per attempt
    proxy        Proxy, proxy_for, open_socket: HTTP(S)_PROXY / NO_PROXY / --proxy, CONNECT
    tls          TLS settings (verify, CA bundle)
    client       ChatClient: create a thread, stream a run into a RunRecord
    auth/        token providers (token, API key, CPD, ADK, local login, none), resolve_auth
    results      ResultsWriter, load_summary, summary_path: the results directory
    report/      build_report_html: the self-contained report.html
    gate_output  gates.json, junit.xml, the verdict table, exit_code
    live         the web UI tabs' tables;   prometheus   the /wxo/metrics text exposition
"""

__all__ = [
    "auth",
    "client",
    "gate_output",
    "idle",
    "live",
    "prometheus",
    "proxy",
    "report",
    "response",
    "results",
    "rxstamp",
    "tls",
    "transport",
    "watchdog",
]
