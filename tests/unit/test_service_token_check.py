"""The token check under load: when the cached check of a token expires, the requests waiting
on it share one database check instead of each sending its own (a burst of one query per
in-flight request every ``token_cache_seconds`` was a latency spike); with the cache off each
request still checks for itself."""

from __future__ import annotations

import asyncio
import threading
import time

from support.bare_service import token

from core.settings import load_settings
from serving.runtime.service import Service, ServiceOptions


def _service(tmp_path, cache: float) -> tuple[Service, list[str]]:
    settings = load_settings(tmp_path, environ={})
    service = Service(settings, ServiceOptions(token_cache_seconds=cache, poll_seconds=60))
    calls: list[str] = []
    verify, lock = service.verify, threading.Lock()

    def counted(value):
        with lock:
            calls.append(value)
        time.sleep(0.05)  # a slow database: every request arrives while the check runs
        return verify(value)

    service.verify = counted
    return service, calls


async def _gather(service: Service, value: str, n: int) -> list:
    return await asyncio.gather(*(service.principal_of(value) for _ in range(n)))


def _many(service: Service, value: str, n: int) -> list:
    """n concurrent token checks on a fresh event loop in its own thread: the browser tests'
    sync Playwright keeps a loop running on the main thread for the whole session."""
    out: list = []
    worker = threading.Thread(target=lambda: out.append(asyncio.run(_gather(service, value, n))))
    worker.start()
    worker.join()
    return out[0]


def test_concurrent_requests_share_one_token_check(tmp_path) -> None:
    service, calls = _service(tmp_path, cache=2.0)
    value = token(service.settings, "auditor")
    principals = _many(service, value, 30)
    assert len(calls) == 1 and all(p is not None and p.role == "auditor" for p in principals)
    assert _many(service, "tok_0123456789_" + "x" * 40, 5) == [None] * 5
    assert len(calls) == 2  # a bad token is one shared check too, and not remembered


def test_with_the_cache_off_every_request_checks(tmp_path) -> None:
    service, calls = _service(tmp_path, cache=0.0)
    value = token(service.settings, "auditor")
    _many(service, value, 4)
    assert len(calls) == 4
