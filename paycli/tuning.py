"""How hard paycli pushes, in one place for the CLI's defaults, the domain and the sandbox alike.

Nothing is imported here, so a command module can use these for its option defaults without making
`paycli --help` load the domain, and the sandbox without depending on paycli's domain.
"""

BATCH_ROWS_IN_FLIGHT = 8  # batch-refund's start; halved on 429/503, grown back while the gateway is healthy
EXPORT_PAGES_IN_FLIGHT = 8  # settlement export's search pages fetched at once
MAX_IN_FLIGHT = 32  # the most either option accepts: past it a gateway throttles more than it serves

SANDBOX_IDLE_TIMEOUT_S = 30.0  # a served sandbox closes a connection silent this long
SANDBOX_MAX_CONNECTIONS = 128  # one thread each; past it a new connection is answered 503
