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
    endpoint     Endpoint (the parsed base URL), request_id, the Tokens protocol
    auth/        token providers (token, API key, CPD, ADK, local login, none), resolve_auth
    results      load_summary, load_results, iter_jsonl: a results directory read back
    (the files a test writes, the report, gates.json, live tables: wxo_load.output)
"""
