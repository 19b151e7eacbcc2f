# SPDX-License-Identifier: GPL-2.0-or-later
"""What the roaming tests and the benchmark's roaming row share: a TCP
stream inside the tunnel that runs across the change, a watch on
NetworkManager's state of the VPN during it, and the seconds to the first
answered tunnel ping."""

import subprocess
import threading
import time

from harness import BLAST, in_ns, run, stop_process


def seconds_to_first_answer(ns, target, start, limit=120):
    """From @start (monotonic) to the first ping of @target from @ns that is
    answered, each waited for 0.2 s; None past @limit seconds."""
    while time.monotonic() - start < limit:
        if run(*in_ns(ns, "ping", "-n", "-c", "1", "-W", "0.2", target), check=False).returncode == 0:
            return time.monotonic() - start
    return None


def short_tcp_backoff(*namespaces, ms=1000):
    """TCP's retransmission backoff capped at @ms in @namespaces: after an
    outage of a minute the stream in the tunnel resumes within a second of
    the tunnel, instead of at its next doubled retry (up to two minutes
    later), which would measure TCP, not the tunnel. Retrying that often,
    TCP would give up after its usual 15 retries (about 15 s): 255, the
    most it takes, give it about four minutes."""
    for ns in namespaces:
        for setting in (f"net.ipv4.tcp_rto_max_ms={ms}", "net.ipv4.tcp_retries2=255"):
            run(*in_ns(ns, "sysctl", "-qw", setting))


class Stream:
    """@nbytes over TCP from @sender_ns to @address:@port in @receiver_ns,
    spread over @seconds, started now; finish() waits for it and returns
    (sent sha256, received sha256, received bytes)."""

    def __init__(self, sender_ns, receiver_ns, address, nbytes, seconds, port=5301, wait=300):
        self.receiver = subprocess.Popen(
            in_ns(receiver_ns, "python3", BLAST, "receive", address, str(port), str(wait)),
            stdout=subprocess.PIPE, text=True)
        if self.receiver.stdout.readline().strip() != "listening":
            stop_process(self.receiver)
            raise RuntimeError("the stream's receiver did not listen")
        self.sender = subprocess.Popen(
            in_ns(sender_ns, "python3", BLAST, "send", address, str(port), str(nbytes),
                  str(seconds)), stdout=subprocess.PIPE, text=True)
        self.wait = wait

    def finish(self):
        try:
            sent, _ = self.sender.communicate(timeout=self.wait)
            received, _ = self.receiver.communicate(timeout=self.wait)
            sent, received = sent.split(), received.split()
            return (sent[0] if sent else None, received[0] if received else None,
                    int(received[1]) if len(received) > 1 else 0)
        finally:
            self.stop()

    def stop(self):
        stop_process(self.sender)
        stop_process(self.receiver)


class StateWatch:
    """Polls NetworkManager's state of connection @name until stopped;
    seen() lists every state it showed, in order, without repeats;
    unanswered counts the polls NetworkManager did not answer (while it is
    stopped, a poll started just before the stop times out)."""

    def __init__(self, stack, name, interval=0.2):
        self.states = []
        self.unanswered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(stack, name, interval),
                                        daemon=True)
        self._thread.start()

    def _poll(self, stack, name, interval):
        while not self._stop.is_set():
            try:
                # While NetworkManager is stopped (the frozen client) this
                # waits for it.
                result = stack.nmcli("-g", "GENERAL.STATE", "connection", "show", name,
                                     check=False, timeout=180)
            except subprocess.TimeoutExpired:
                result = None
            if result is None or result.returncode != 0:
                self.unanswered += 1
                self._stop.wait(interval)
                continue
            state = result.stdout.strip()
            if not self.states or self.states[-1] != state:
                self.states.append(state)
            self._stop.wait(interval)

    def seen(self):
        self._stop.set()
        self._thread.join(timeout=30)
        return self.states
