"""Buffer each request before a thread gets it, so slow clients cannot starve the server.

gunicorn's gthread worker gives a connection to a pool thread once its first bytes arrive; the
thread then blocks reading the rest, so a few clients that send a head and trickle the body hold
every thread. This worker reads each request non-blockingly in the worker's event loop (the poller
thread) and submits it to the pool only once it is whole. The pool thread's parser reads those
buffered bytes, never the socket; sending the answer is bounded by WRITE_TIMEOUT.

A request must arrive within READ_DEADLINE of accept (or of its first byte on a kept-alive
connection), its head within MAX_HEAD_BYTES, else the event loop answers 408/431 and closes; a
chunked body (no length to wait for) gets 411. A body over `max_body` (MAX_REQUEST_BYTES) is not
awaited: its head goes to the app, which answers 413, and the connection closes. Closes linger
in the event loop, never blocking it. Plain HTTP/1.1 only: TLS and HTTP/2 end at the proxy.
"""
from __future__ import annotations

import re
import selectors
import socket
import time
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import Any

from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import TConn, ThreadWorker

READ_DEADLINE = 10.0  # seconds for a whole request (head + body) to arrive
WRITE_TIMEOUT = 10.0  # seconds a pool thread may spend sending one answer
MAX_HEAD_BYTES = 32 * 1024  # nginx's default large_client_header_buffers (4 x 8k)
LINGER_SECONDS = 2.0  # as gunicorn's close_graceful: let the answer reach the client before closing
RECV_BYTES = 64 * 1024
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_DIGITS = re.compile(rb"[0-9]{1,18}")


@dataclass(frozen=True)
class Head:
    """What a request's head says: how many bytes to wait for, or why to refuse it."""

    size: int = 0  # head + body bytes to buffer before a thread gets the request; 0: head incomplete
    close_after: bool = False  # part of the body is not awaited, so the connection cannot be reused
    refuse: int = 0  # answer this status from the event loop and close
    expect_continue: bool = False  # the client waits for "100 Continue" before sending its body


def read_head(data: bytes | bytearray, max_body: int, searched: int = 0) -> Head:
    """Read the request head at the start of data, if it is complete, for its body's length.

    searched: how many bytes of data an earlier call already found no head end in; resuming
    there keeps a head trickled byte by byte from costing quadratic time in the event loop.
    An over-limit body is not awaited: its head alone goes to the app, which answers 413. Odd
    lengths (several, malformed) are handed over likewise: gunicorn's parser then answers 400.
    """
    end = data.find(b"\r\n\r\n", max(searched - 3, 0))
    if end < 0 and len(data) <= MAX_HEAD_BYTES:
        return Head()  # wait for the rest of the head
    if end < 0 or end > MAX_HEAD_BYTES:
        return Head(refuse=HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
    fields: dict[bytes, list[bytes]] = {}
    for line in bytes(data[:end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    if b"transfer-encoding" in fields:  # no length to wait for; the widget never sends chunked
        return Head(refuse=HTTPStatus.LENGTH_REQUIRED)
    lengths = fields.get(b"content-length", [b"0"])
    if len(lengths) != 1 or not _DIGITS.fullmatch(lengths[0]) or int(lengths[0]) > max_body:
        return Head(size=end + 4, close_after=True)
    expect = b",".join(fields.get(b"expect", [])).lower()
    return Head(size=end + 4 + int(lengths[0]), expect_continue=b"100-continue" in expect)


def _refusal(status: int) -> bytes:
    phrase = HTTPStatus(status).phrase
    return f"HTTP/1.1 {status} {phrase}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".encode()


@dataclass
class _Arrival:
    """A request being buffered: its bytes so far, its head once read, when the client's time is up."""

    data: bytearray
    deadline: float
    head: Head = Head()
    searched: int = 0
    continued: bool = False


class BufferedThreadWorker(ThreadWorker):
    """A gthread worker whose pool threads only ever see whole, buffered requests."""

    max_body = 65536  # set from MAX_REQUEST_BYTES by `buffering_worker`

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Insertion order is deadline order (each adds now + a constant), so sweeps stop early.
        self.arriving: dict[TConn, _Arrival] = {}
        self.lingering: dict[TConn, float] = {}

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        super().check_config(cfg, log)
        if cfg.is_ssl:
            raise RuntimeError("the buffering worker serves plain HTTP; terminate TLS at the reverse proxy")

    def enqueue_req(self, conn: TConn) -> None:
        """Buffer the connection's next request in the event loop; submit it once it is whole.

        Every path to the pool (accept, a kept-alive socket turning readable, bytes pipelined
        behind the last request) comes through here.
        """
        if conn.parser is None:
            # An empty source: the parser reads only what this loop buffered, never the socket.
            conn.parser = RequestParser(self.cfg, (), conn.client)
        arrival = _Arrival(bytearray(conn.parser.unreader.take_buffered()), time.monotonic() + READ_DEADLINE)
        conn.sock.setblocking(False)
        if self._ripe(conn, arrival):
            self._leave(conn, arrival)
        else:
            self.arriving[conn] = arrival
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: TConn, _sock: socket.socket) -> None:
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        arrival = self.arriving[conn]
        arrival.data += data
        if data and not self._ripe(conn, arrival):
            return
        del self.arriving[conn]
        self.poller.unregister(conn.sock)
        if data:
            self._leave(conn, arrival)
        else:  # the client went away mid-request: nobody to answer
            self._drop(conn)

    def _ripe(self, conn: TConn, arrival: _Arrival) -> bool:
        """Return whether to stop waiting: the request is whole or refused. Send "100 Continue" if asked."""
        if not arrival.head.size:  # the head is read once: a trickled body costs no re-parsing
            arrival.head = read_head(arrival.data, self.max_body, arrival.searched)
            arrival.searched = len(arrival.data)
        head = arrival.head
        if head.refuse or (head.size and len(arrival.data) >= head.size):
            return True
        if head.expect_continue and not arrival.continued:
            arrival.continued = True
            self._send(conn, _CONTINUE)
        return False

    def _leave(self, conn: TConn, arrival: _Arrival) -> None:
        """Refuse the request, or hand it, whole, to a pool thread."""
        if arrival.head.refuse:
            self._refuse(conn, arrival.head.refuse)
            return
        conn.parser.unreader.unread(bytes(arrival.data))
        conn.data_ready, conn.close_after = True, arrival.head.close_after
        super().enqueue_req(conn)

    def murder_pending(self) -> None:
        """Besides gunicorn's own sweep, time out slow requests and finish lingering closes."""
        super().murder_pending()
        now = time.monotonic()
        while self.arriving:
            conn, arrival = next(iter(self.arriving.items()))
            if arrival.deadline > now:
                break
            del self.arriving[conn]
            self.poller.unregister(conn.sock)
            if arrival.data:
                self._refuse(conn, HTTPStatus.REQUEST_TIMEOUT)
            else:
                self._drop(conn)
        while self.lingering and next(iter(self.lingering.values())) <= now:
            self._end_linger(next(iter(self.lingering)))

    def handle_request(self, req: Any, conn: TConn) -> bool:
        # handle() left the socket blocking without a timeout; a client that does not read its
        # answer must not hold this thread for longer than WRITE_TIMEOUT either.
        conn.sock.settimeout(WRITE_TIMEOUT)
        return super().handle_request(req, conn)

    def _keepalive_after(self, conn: TConn, keepalive: bool) -> bool:
        # Part of this request's body never came in (it was over the limit): where the next
        # request would start on this connection is unknown, so it is not reused.
        return not conn.close_after and super()._keepalive_after(conn, keepalive)

    def finish_request(self, conn: TConn, fs: Future) -> None:
        """As gunicorn's, but a connection that ends after its answer lingers in the event loop.

        gunicorn's graceful close waits up to 2 s in a blocking recv on this (the only) event-loop
        thread, so one client that never closes its side would stall every other connection.
        """
        if fs.cancelled() or fs.exception() is not None or fs.result():
            super().finish_request(conn, fs)
            return
        self._drop(conn, graceful=True)

    def _send(self, conn: TConn, data: bytes) -> None:
        # Non-blocking and best effort: these are tiny and a client that cannot take them is gone.
        try:
            conn.sock.send(data)
        except OSError:
            pass

    def _refuse(self, conn: TConn, status: int) -> None:
        self._send(conn, _refusal(status))
        self._drop(conn, graceful=True)

    def _drop(self, conn: TConn, graceful: bool = False) -> None:
        """Close the connection; gracefully means FIN first, then drain until the client closes."""
        self.nr_conns -= 1
        if not (graceful and self._linger(conn)):
            conn.close()

    def _linger(self, conn: TConn) -> bool:
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_linger, conn))
        except (OSError, ValueError, KeyError):  # already closed by the thread, or reset
            return False
        self.lingering[conn] = time.monotonic() + LINGER_SECONDS
        return True

    def _on_linger(self, conn: TConn, _sock: socket.socket) -> None:
        try:
            if conn.sock.recv(RECV_BYTES):
                return  # discard what the client still sends; stop at EOF or at the deadline
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._end_linger(conn)

    def _end_linger(self, conn: TConn) -> None:
        del self.lingering[conn]
        self.poller.unregister(conn.sock)
        conn.close()


def buffering_worker(max_body: int) -> type[BufferedThreadWorker]:
    """Return the worker class for gunicorn's worker_class, bounding bodies to max_body bytes.

    gunicorn logs the class's name at start; the log scrubber leaves this one readable.
    """
    return type("BufferedThreadWorker", (BufferedThreadWorker,), {"max_body": max_body})
