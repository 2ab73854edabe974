"""Containment for reading files that may be damaged or crafted: work in a child process with a
time limit, and text from a file made safe for a terminal.

HDF5 itself can crash (a segmentation fault, "free(): invalid pointer") or loop forever while it
decodes crafted metadata; no Python exception can catch that. So the reader decodes every piece of
a file's metadata once in a forked child first (filecheck.probe): if the child dies or runs out of
time, the file is refused with one line naming it, and the reading process never touches it.
What the child survived, the parent decodes the same way. The C side does the same
(src/core/isolate.c).
"""
from __future__ import annotations

import json
import os
import signal

# Seconds a child may read (metadata only); ICLSWEEP_READ_TIMEOUT caps it, as for the C side.
READ_SECONDS = 120


class Crashed(Exception):
    """The child died by a signal (SIGALRM: it ran out of time)."""

    def __init__(self, sig):
        super().__init__(sig)
        self.signal = sig


def read_seconds():
    cap = os.environ.get("ICLSWEEP_READ_TIMEOUT", "")
    return min(READ_SECONDS, int(cap)) if cap.isdigit() and int(cap) > 0 else READ_SECONDS


def isolated(fn, *args, timeout=None):
    """fn(*args) in a forked child; returns its result (JSON-able), re-raises what it raised as
    (exception class name, message), or raises Crashed when the child died by a signal or ran out
    of time. Where fork is missing, fn runs here."""
    if not hasattr(os, "fork"):
        return fn(*args)
    timeout = timeout or read_seconds()
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its answer down the pipe, and out without any cleanup of the parent's
        os.close(rd)
        code = 0
        try:
            for sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT,
                        signal.SIGALRM):
                signal.signal(sig, signal.SIG_DFL)
            signal.alarm(timeout)
            try:
                answer = {"ok": fn(*args)}
            except BaseException as e:  # noqa: BLE001 (the parent decides what it means)
                answer = {"raised": type(e).__name__, "message": str(e)}
            data = json.dumps(answer).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(wr, view):]
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(wr)
    chunks = []
    with os.fdopen(rd, "rb") as pipe:
        while True:
            chunk = pipe.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        raise Crashed(os.WTERMSIG(status))
    try:
        answer = json.loads(b"".join(chunks).decode())
    except ValueError:
        raise Crashed(0) from None
    if "raised" in answer:
        raise ChildError(answer["raised"], answer["message"])
    return answer["ok"]


class ChildError(Exception):
    """What the child raised: its class name and message."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


# Code points a terminal acts on, or that reorder what it shows (as src/core/text.c).
# Lone surrogates (from undecodable bytes) are escaped too: no terminal encoding can print them.
def _unsafe(cp):
    return cp < 0x20 or cp == 0x7F or 0x80 <= cp <= 0x9F or 0x202A <= cp <= 0x202E or \
        0x2066 <= cp <= 0x2069 or 0xD800 <= cp <= 0xDFFF


_NAMED = {0: "\\0", 9: "\\t", 10: "\\n", 13: "\\r"}


def escape(text):
    """text (str, or bytes: invalid UTF-8 shown as \\xNN) with everything a terminal would act on
    escaped: C0 and C1 controls, DEL, bidirectional overrides."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="backslashreplace")
    out = []
    for ch in str(text):
        cp = ord(ch)
        if not _unsafe(cp):
            out.append(ch)
        elif cp in _NAMED:
            out.append(_NAMED[cp])
        elif cp < 0x100:
            out.append(f"\\x{cp:02x}")
        else:
            out.append(f"\\u{cp:04x}")
    return "".join(out)


def escape_lines(text):
    """escape() of each line of text, its line breaks kept."""
    return "\n".join(escape(line) for line in str(text).split("\n"))


class SafeStream:
    """A text stream that writes everything escaped for a terminal (line breaks kept): the
    analysis command's output quotes names and values from files."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        return self.stream.write(escape_lines(text))

    def flush(self):
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)
