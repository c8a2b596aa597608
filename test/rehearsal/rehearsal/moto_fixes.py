"""moto's server with the corrections the rehearsal needs where moto 5.2.5
differs from AWS in a way that changes what the pipeline's code sees:

- DynamoDB UpdateItem of a new item: moto first puts the bare key, then
  applies the update, and emits two INSERT stream records, the first without
  any of the updated attributes. DynamoDB emits one record per UpdateItem.
  AuditTableScannerFn would see a `layer` item without `record_count`
  (malformed, reported, retried, sent to the on-failure queue). Here the
  bare-key record is not emitted.

- HTTP: one request per connection (HTTP/1.0). With werkzeug's HTTP/1.1
  keep-alive, a Go SDK client once saw a connection closed under a response
  that moto had already acted on (an SNS Publish), retried, and SNS
  delivered the message twice. AWS endpoints do not drop connections like
  that on loopback timescales.

Run as `python -m rehearsal.moto_fixes -H 127.0.0.1 -p PORT` (moto_server's arguments).
"""

from __future__ import annotations

import sys
import threading

_tl = threading.local()


def apply() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamShard

    if getattr(DynamoDBBackend.update_item, "_rehearsal_fixed", False):
        return
    orig_update, orig_add = DynamoDBBackend.update_item, StreamShard.add

    def update_item(self, *args, **kwargs):
        prev = getattr(_tl, "in_update", False)
        _tl.in_update, _tl.first_add = True, True
        try:
            return orig_update(self, *args, **kwargs)
        finally:
            _tl.in_update, _tl.first_add = prev, False

    def add(self, old, new):
        if getattr(_tl, "in_update", False):
            first, _tl.first_add = getattr(_tl, "first_add", False), False
            if first and old is None and new is not None and set(new.attrs) <= {self.table.hash_key_attr, self.table.range_key_attr}:
                return  # the bare-key put inside UpdateItem
        return orig_add(self, old, new)

    update_item._rehearsal_fixed = True
    DynamoDBBackend.update_item, StreamShard.add = update_item, add


if __name__ == "__main__":
    apply()
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from moto.server import main

    MotoRequestHandler.protocol_version = "HTTP/1.0"

    main(sys.argv[1:])
