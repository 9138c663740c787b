"""Tercen's side of the operator: channel, client, retries, task context, data and result.

Nothing here draws: this package never imports the composition layer or Pillow
(checked by tests/test_layering.py). ``ggrs.operator`` joins it to the pipeline.
"""

import os

# gRPC's C core logs connection and TLS handshake details to stderr at INFO, which
# would break the operator's one-line error; it reads this once, when grpc is first
# imported (every module here that imports grpc imports this package first). A
# value set by the user (e.g. GRPC_VERBOSITY=DEBUG to debug a connection) wins.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
