"""The API's scheduler with stand-in work (no models): merging by key up to the batch size
and within the wait window, failed items answered alone, 503 when the queue is full, 504
past the deadline with the work skipped, and the settings read from the environment."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest

from deepface.api.src.dependencies.serving import LoadSettings
from deepface.api.src.modules.core.scheduler import DeadlineExceeded, Overloaded, Scheduler

Answer = Tuple[Dict[str, Any], int]


class Work:
    """Stand-in pipeline: records each call; an item "bad" fails in a merged call."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls: List[List[Any]] = []
        self.lock = threading.Lock()

    def alone(self, item: Any) -> Answer:
        with self.lock:
            self.calls.append([item])
        time.sleep(self.delay_s)
        return ({"error": f"{item} alone"}, 400) if item == "bad" else ({"results": item}, 200)

    def merged(self, items: List[Any]) -> Sequence[Optional[Answer]]:
        with self.lock:
            self.calls.append(list(items))
        time.sleep(self.delay_s)
        return [None if item == "bad" else ({"results": item}, 200) for item in items]


def submit_all(scheduler: Scheduler, work: Work, items: List[Any], key: Any = "k") -> List[Any]:
    def one(item: Any) -> Any:
        try:
            return scheduler.submit("/r", lambda: work.alone(item), key=key, item=item, merged=work.merged)
        except (Overloaded, DeadlineExceeded) as refusal:
            return refusal

    with ThreadPoolExecutor(len(items)) as pool:
        return list(pool.map(one, items))


def test_concurrent_requests_merge_up_to_the_batch_size() -> None:
    work = Work()
    scheduler = Scheduler(LoadSettings(max_batch=4, batch_wait_ms=300, runs=1))
    answers = submit_all(scheduler, work, list(range(8)))
    assert answers == [({"results": i}, 200) for i in range(8)]
    assert sorted(len(call) for call in work.calls) == [4, 4]
    assert sorted(item for call in work.calls for item in call) == list(range(8))


def test_a_failed_item_is_answered_alone_and_its_batch_mates_are_not() -> None:
    work = Work()
    scheduler = Scheduler(LoadSettings(max_batch=8, batch_wait_ms=300, runs=1))
    answers = submit_all(scheduler, work, ["a", "bad", "c"])
    assert answers == [({"results": "a"}, 200), ({"error": "bad alone"}, 400), ({"results": "c"}, 200)]
    assert sorted(map(sorted, work.calls)) == [["a", "bad", "c"], ["bad"]]


def test_different_keys_and_no_merging_run_apart() -> None:
    work = Work()
    scheduler = Scheduler(LoadSettings(max_batch=8, batch_wait_ms=200, runs=2))
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(submit_all, scheduler, work, [i, i + 10], key=f"key{i}") for i in range(2)]
        [future.result() for future in futures]
    assert sorted(map(sorted, work.calls)) == [[0, 10], [1, 11]]
    work = Work()
    off = Scheduler(LoadSettings(batch_wait_ms=0))
    assert submit_all(off, work, [1, 2, 3]) == [({"results": i}, 200) for i in (1, 2, 3)]
    assert sorted(work.calls) == [[1], [2], [3]]


def test_a_request_waits_at_most_the_window_plus_its_run() -> None:
    work = Work()
    scheduler = Scheduler(LoadSettings(max_batch=32, batch_wait_ms=100, runs=1))
    started = time.monotonic()
    assert submit_all(scheduler, work, ["only"]) == [({"results": "only"}, 200)]
    assert time.monotonic() - started < 0.1 + 0.5  # the window, plus generous scheduling slack


def test_a_full_queue_answers_overloaded_at_once() -> None:
    work = Work(delay_s=0.5)
    scheduler = Scheduler(LoadSettings(max_queue=2, batch_wait_ms=0, runs=1))
    started = time.monotonic()
    answers = submit_all(scheduler, work, list(range(5)))
    refused = [answer for answer in answers if isinstance(answer, Overloaded)]
    assert len(refused) == 3 and refused[0].status == 503 and refused[0].retry_after_s >= 1
    assert len(work.calls) == 2
    assert time.monotonic() - started < 5 * 0.5  # the refused ones did not wait their turn


def test_a_request_past_its_deadline_is_answered_504_and_not_run() -> None:
    work = Work(delay_s=1.0)
    scheduler = Scheduler(LoadSettings(timeout_s=0.4, batch_wait_ms=0, runs=1))
    answers = submit_all(scheduler, work, ["slow", "late"])
    assert answers.count(({"results": "slow"}, 200)) + answers.count(({"results": "late"}, 200)) == 1
    late = [answer for answer in answers if isinstance(answer, DeadlineExceeded)]
    assert len(late) == 1 and late[0].status == 504
    time.sleep(1.2)  # the runner is free again: the late request's work was skipped
    assert len(work.calls) == 1


def test_settings_from_the_environment() -> None:
    env = {"DEEPFACE_API_MAX_BATCH": "16", "DEEPFACE_API_BATCH_WAIT_MS": "0", "DEEPFACE_API_MAX_QUEUE": "9",
           "DEEPFACE_API_TIMEOUT": "7.5", "DEEPFACE_API_RUNS": "3"}
    settings = LoadSettings.from_env(env)
    assert settings == LoadSettings(max_batch=16, batch_wait_ms=0, max_queue=9, timeout_s=7.5, runs=3)
    assert not settings.merging and LoadSettings().merging
    with pytest.raises(ValueError, match="DEEPFACE_API_MAX_BATCH"):
        LoadSettings.from_env({"DEEPFACE_API_MAX_BATCH": "many"})
    with pytest.raises(ValueError, match="max_queue"):
        LoadSettings(max_queue=0)


def test_serve_options_override_the_load_settings_of_the_environment() -> None:
    from deepface.api.launcher import gunicorn_options, server_load
    from deepface.cli import build_parser

    env = LoadSettings(max_batch=16, batch_wait_ms=2, max_queue=9, timeout_s=30, runs=3)
    args = build_parser().parse_args(["serve", "--threads", "8", "--max-queue", "4", "--timeout", "7"])
    load = server_load(args, env)
    assert load == LoadSettings(max_batch=16, batch_wait_ms=2, max_queue=4, timeout_s=7, runs=3)
    options = gunicorn_options(args, load)
    assert options["graceful_timeout"] == 7 and options["timeout"] >= 7
    assert server_load(build_parser().parse_args(["serve", "--threads", "2"]), LoadSettings()) == LoadSettings()
    one_thread = server_load(build_parser().parse_args(["serve"]), LoadSettings())  # nothing to merge with
    assert one_thread == LoadSettings(batch_wait_ms=0) and not one_thread.merging
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--batch-wait-ms", "-1"])
