"""One worker's requests: a bounded queue, deadlines, and concurrent one-image requests merged.

Every request that does work goes through :meth:`Scheduler.submit`: it is admitted (or
refused at once with :class:`Overloaded`, a 503, when the worker already holds
``max_queue`` requests), queued as a *job*, and answered when a runner thread has run it.
``runs`` runner threads take the oldest ready job. A job of several requests is one
pipeline call: one-image requests that ask for the same thing (same route and options:
the *key*) join the open job of their key until it holds ``max_batch`` of them or its
window of ``batch_wait_ms`` ends. Merging adds at most that window to a request's wait;
the rest is queueing behind other jobs, which the deadline bounds: a request still
waiting ``timeout_s`` after it came is answered :class:`DeadlineExceeded` (504) and left
out of its job, unrun.
"""

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Hashable, List, Optional, Sequence, Tuple

from deepface.api.src.dependencies.serving import LoadSettings
from deepface.commons.logger import get_logger

logger = get_logger(__name__)

Answer = Tuple[Dict[str, Any], int]
#: Runs one request alone.
Alone = Callable[[], Answer]
#: Runs many requests' items as one call: an answer per item, or None for an item that
#: must be answered alone (it failed: alone, its answer is exactly its own error).
Merged = Callable[[List[Any]], Sequence[Optional[Answer]]]
RETRY_AFTER_S = 1


class ServingRefusal(Exception):
    """A request the worker did not run; ``status`` is its HTTP answer."""

    status = 503

    def body(self) -> Dict[str, Any]:
        return {"error": str(self)}


class Overloaded(ServingRefusal):
    """The worker's queue is full: answered 503 with ``Retry-After``, at once."""

    status = 503
    retry_after_s = RETRY_AFTER_S


class DeadlineExceeded(ServingRefusal):
    """The request waited past the server's timeout: answered 504, its work skipped."""

    status = 504


@dataclass
class Ticket:
    """One request in a job: its item, its deadline, and its answer once known."""

    item: Any
    alone: Alone
    deadline: float
    done: threading.Event = field(default_factory=threading.Event)
    answer: Optional[Answer] = None
    taken: bool = False  # by a runner: it will be answered
    abandoned: bool = False  # past its deadline before a runner took it: 504


@dataclass
class Job:
    """Requests run together: one alone, or several one-image requests of one key."""

    key: Hashable
    route: str
    merged: Optional[Merged]
    ready_at: float
    limit: int
    tickets: List[Ticket] = field(default_factory=list)

    def is_ready(self, now: float) -> bool:
        return len(self.tickets) >= self.limit or now >= self.ready_at


class Scheduler:
    """A worker's queue, runners and merging (one per application or gRPC server)."""

    def __init__(self, settings: LoadSettings, metrics: Any = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self._lock = threading.Condition()
        self._open: Dict[Hashable, Job] = {}  # jobs still taking requests, by key
        self._queued: List[Job] = []  # in order of arrival
        self._held = 0
        self._runners: List[threading.Thread] = []

    # ------------------------------------------------------------ requests' side

    def submit(self, route: str, alone: Alone, key: Optional[Hashable] = None, item: Any = None,
               merged: Optional[Merged] = None) -> Answer:
        """Queue a request and wait for its answer.

        Args:
            route: the endpoint, for the metrics.
            alone: runs this request by itself.
            key, item, merged: for a one-image request that may be merged: what it asks for
                (route and options), its image, and the call that runs many items at once.
        Raises:
            Overloaded: the queue is full. DeadlineExceeded: not started within the timeout.
        """
        came = time.monotonic()
        ticket = Ticket(item=item, alone=alone, deadline=came + self.settings.timeout_s)
        with self._lock:
            if self._held >= self.settings.max_queue:
                raise Overloaded(
                    f"this worker holds {self._held} requests, its limit (DEEPFACE_API_MAX_QUEUE): "
                    f"retry in {RETRY_AFTER_S} s"
                )
            self._start_runners()
            self._held += 1
            self._gauge()
            self._enqueue(ticket, route, key if merged is not None and self.settings.merging else None, merged, came)
        try:
            return self._wait(ticket)
        finally:
            with self._lock:
                self._held -= 1
                self._gauge()

    def _enqueue(self, ticket: Ticket, route: str, key: Optional[Hashable], merged: Optional[Merged],
                 now: float) -> None:
        job = self._open.get(key) if key is not None else None
        if job is None:
            wait_s = self.settings.batch_wait_ms / 1000 if key is not None else 0.0
            limit = self.settings.max_batch if key is not None else 1
            job = Job(key=key, route=route, merged=merged if key is not None else None,
                      ready_at=now + wait_s, limit=limit)
            self._queued.append(job)
            if key is not None:
                self._open[key] = job
        job.tickets.append(ticket)
        if key is not None and len(job.tickets) >= job.limit:
            self._open.pop(key, None)
        self._lock.notify_all()

    def _wait(self, ticket: Ticket) -> Answer:
        remaining = ticket.deadline - time.monotonic()
        if ticket.done.wait(max(remaining, 0.0)):
            assert ticket.answer is not None
            return ticket.answer
        with self._lock:
            if not ticket.taken:  # not taken by a runner yet: left out of its job
                ticket.abandoned = True
                raise DeadlineExceeded(
                    f"the request waited {self.settings.timeout_s:g} s (the server's timeout) without being run"
                )
        ticket.done.wait()  # taken just now: its run has begun, wait for it
        assert ticket.answer is not None
        return ticket.answer

    def _gauge(self) -> None:
        if self.metrics is not None:
            self.metrics.queue_depth.set(self._held)

    # ------------------------------------------------------------ runners' side

    def _start_runners(self) -> None:
        """Start the runner threads on first use (after gunicorn forks the worker)."""
        if self._runners:
            return
        for number in range(self.settings.runs):
            runner = threading.Thread(target=self._run_forever, name=f"deepface-runner-{number}", daemon=True)
            runner.start()
            self._runners.append(runner)

    def _run_forever(self) -> None:
        """A runner: daemon thread, ends with its process (gunicorn drains requests first)."""
        while True:
            job, tickets = self._next_job()
            if tickets:
                self._run(job, tickets)

    def _next_job(self) -> Tuple[Job, List[Ticket]]:
        """The oldest ready job, its window ended or full, with its requests still waiting."""
        with self._lock:
            while True:
                now = time.monotonic()
                ready = next((job for job in self._queued if job.is_ready(now)), None)
                if ready is not None:
                    self._queued.remove(ready)
                    if self._open.get(ready.key) is ready:
                        del self._open[ready.key]
                    return ready, self._take(ready, now)
                wake = min((job.ready_at for job in self._queued), default=None)
                self._lock.wait(None if wake is None else max(wake - now, 0.0005))

    def _take(self, job: Job, now: float) -> List[Ticket]:
        """The job's requests still wanted; those past their deadline are answered 504 by
        their own threads and left out."""
        taken = []
        for ticket in job.tickets:
            if ticket.abandoned or now >= ticket.deadline:
                ticket.abandoned = True
                continue
            ticket.taken = True
            taken.append(ticket)
        return taken

    def _run(self, job: Job, tickets: List[Ticket]) -> None:
        started = time.monotonic()
        if self.metrics is not None:
            for ticket in tickets:
                self.metrics.observe_stage("queue", started - (ticket.deadline - self.settings.timeout_s))
            self.metrics.batch_size.labels(route=job.route).observe(len(tickets))
        answers = self._answers(job, tickets)
        if self.metrics is not None:
            self.metrics.observe_stage("run", time.monotonic() - started)
        for ticket, answer in zip(tickets, answers):
            ticket.answer = answer
            ticket.done.set()

    def _answers(self, job: Job, tickets: List[Ticket]) -> List[Answer]:
        """Each request's answer: from one merged call, or alone (a failed item, a lone job)."""
        if job.merged is None or len(tickets) == 1:
            return [self._alone(ticket) for ticket in tickets]
        try:
            outcomes: Sequence[Optional[Answer]] = job.merged([ticket.item for ticket in tickets])
        except Exception:  # noqa: BLE001 - the merged call failed as a whole: each request alone
            logger.debug("a merged call of %d requests failed; running each alone", len(tickets), exc_info=True)
            outcomes = [None] * len(tickets)
        return [outcome if outcome is not None else self._alone(ticket) for ticket, outcome in zip(tickets, outcomes)]

    @staticmethod
    def _alone(ticket: Ticket) -> Answer:
        try:
            return ticket.alone()
        except Exception:  # noqa: BLE001 - the service answers its own errors; this is a bug
            logger.exception("unexpected error while answering a request")
            return {"error": "internal server error"}, 500
