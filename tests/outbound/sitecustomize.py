"""Loaded by a test server's Python (PYTHONPATH): records every attempt to reach or resolve a host that is not
this machine, in the file QA_OUTBOUND_LOG names (one JSON line each). Not imported by the app itself."""

import json
import os
import socket
import threading
import traceback

_LOG = os.environ.get("QA_OUTBOUND_LOG")
_LOCAL = {"127.0.0.1", "::1", "localhost", "0.0.0.0", "::", "", None}
_lock = threading.Lock()


def _record(kind, target):
    host = target[0] if isinstance(target, tuple) else target
    if isinstance(host, bytes):
        host = host.decode("latin-1")
    if host in _LOCAL or (isinstance(host, str) and (host.startswith("127.") or host.startswith("/"))):
        return
    stack = "".join(traceback.format_stack(limit=12)[:-2])
    with _lock, open(_LOG, "a", encoding="utf-8") as out:
        out.write(json.dumps({"kind": kind, "target": repr(target), "stack": stack}) + "\n")


if _LOG:
    _connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _record("connect", address)
        return _connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _record("connect", address)
        return _connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        _record("resolve", host)
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
    with open(_LOG + ".loaded", "a", encoding="utf-8") as marker:  # the test checks the recorder was there
        marker.write(f"{os.getpid()}\n")
