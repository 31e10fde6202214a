"""A bounded load benchmark against real processes: gunicorn served as ``make run`` serves it (plus, for worker
runs, a private redis-server and Celery workers), and HTTP clients uploading real images at the same time.

It only starts processes and speaks HTTP, as a lab's scripts would, so every figure is what a client saw and every
record is counted through the API afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import psutil
import redis
import requests
from celery import Celery

if TYPE_CHECKING:
    from benchmarks.model_cost import ModelCost

USERNAME = "bench"
PASSWORD = "bench-throwaway-password"  # a throwaway database that is deleted with the run
REQUEST_TIMEOUT = 300  # gunicorn's own timeout: a request that takes longer fails there first
START_TIMEOUT = 300  # seconds for a process to answer; TensorFlow loads slowly on a loaded machine
POLL_SECONDS = 0.5  # how often the queue is read while workers classify (each read costs the web a request)
DRAIN_POLL_SECONDS = 0.1  # the same while a backlog drains: the web has nothing else to do then
QUEUE = "celery"  # Celery's default queue, the one the workers consume
# Issue 23's targets for a single-image upload: web CPU per request against the batch-1 service call, and the
# p50 of FLOOR_TARGET_CLIENTS clients against the Little's-law floor.
WEB_OVER_SERVICE_TARGET = 2.0
P50_OVER_FLOOR_TARGET = 1.3
FLOOR_TARGET_CLIENTS = 8
WORKER_OVER_REQUEST_TARGET = 1.2  # a worker's CPU per image against the in-request batched cost


class BenchmarkError(Exception):
    """The benchmark could not run (a process did not start, the API refused the set-up)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    clients: int
    requests_per_client: int
    images_per_request: int
    to_sample: bool  # batches into a sample (queued when workers run) or single images to /api/predictions/
    # Workers paused while the batches are queued, timed from resuming them until the queue is empty: how fast the
    # workers alone classify a backlog, without the web storing uploads on their cores (worker runs only).
    drain: bool = False

    @property
    def images(self) -> int:
        return self.clients * self.requests_per_client * self.images_per_request


@dataclass(frozen=True)
class Summary:
    requests: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    images_per_s: float
    errors: int
    sent: int
    stored: int
    worker_cpu_s: tuple[float, ...] = ()  # CPU seconds each Celery worker spent during the scenario
    web_cpu_s: float = 0.0  # CPU seconds of gunicorn (every process) during the scenario
    client_cpu_s: float = 0.0  # CPU seconds of the benchmark's own process (its HTTP clients) during the scenario
    mean_ms: float = 0.0

    @property
    def lost(self) -> int:
        return max(self.sent - self.stored, 0)

    @property
    def extra(self) -> int:
        """Records beyond the images sent: an image classified twice."""
        return max(self.stored - self.sent, 0)


def summarize(
    latencies: list[float],
    *,
    errors: int,
    sent: int,
    stored: int,
    seconds: float,
    worker_cpu_s: tuple[float, ...] = (),
    web_cpu_s: float = 0.0,
    client_cpu_s: float = 0.0,
) -> Summary:
    """Latency percentiles of every request (failed ones included: the client waited for them too) and the
    throughput of the images stored in ``seconds``."""
    if not latencies or seconds <= 0:
        raise ValueError("A summary needs at least one request and a positive duration.")
    p50, p95 = np.percentile(np.asarray(latencies) * 1000, [50, 95])
    return Summary(
        requests=len(latencies),
        p50_ms=float(p50),
        p95_ms=float(p95),
        max_ms=max(latencies) * 1000,
        images_per_s=min(stored, sent) / seconds,
        errors=errors,
        sent=sent,
        stored=stored,
        worker_cpu_s=worker_cpu_s,
        web_cpu_s=web_cpu_s,
        client_cpu_s=client_cpu_s,
        mean_ms=float(np.mean(latencies)) * 1000,
    )


def latency_floor_ms(summary: Summary, clients: int, cores: int) -> float:
    """The lowest mean latency ``clients`` clients that always wait on a request can see on ``cores`` cores, given
    the CPU each request cost the server and the clients (Little's law: clients = throughput x latency, and the
    throughput is at most cores / CPU per request)."""
    return 1000 * clients * (summary.web_cpu_s + summary.client_cpu_s) / summary.requests / cores


@dataclass(frozen=True)
class CpuSplit:
    """What one single-image request cost in CPU milliseconds: gunicorn (every process, the model call included),
    of which the network's batch-1 forward pass, and the benchmark's clients; the service call beside it."""

    web_ms: float
    network_ms: float
    client_ms: float
    service_cpu_ms: float
    service_wall_ms: float

    @property
    def other_ms(self) -> float:
        """Everything gunicorn did beside the network: Django, DRF, decode, locate and crop, novelty, storage."""
        return self.web_ms - self.network_ms

    @property
    def web_over_service(self) -> float:
        """The issue's ratio: web CPU per request against the CPU of the batch-1 service call it contains."""
        return self.web_ms / self.service_cpu_ms

    @property
    def web_over_service_wall(self) -> float:
        """The same against the call's wall time, as earlier figures compared them (the call spreads over cores)."""
        return self.web_ms / self.service_wall_ms


def cpu_split(summary: Summary, cost: ModelCost) -> CpuSplit:
    """A scenario's CPU per request, split by the model's costs measured in the same run."""
    return CpuSplit(
        web_ms=1000 * summary.web_cpu_s / summary.requests,
        network_ms=cost.forward_cpu_ms,
        client_ms=1000 * summary.client_cpu_s / summary.requests,
        service_cpu_ms=cost.service_cpu_ms,
        service_wall_ms=cost.service_wall_ms,
    )


def p50_over_floor(summary: Summary, clients: int, cores: int) -> float:
    """How far the median latency sits above the Little's-law floor: 1 is a server that costs only its CPU."""
    return summary.p50_ms / latency_floor_ms(summary, clients, cores)


def _verdict(value: float, target: float) -> str:
    return f"target <= {target:g}x: {'met' if value <= target else 'not met'}"


def format_single(run: str, scenario: Scenario, summary: Summary, cost: ModelCost, cores: int) -> str:
    """A single-image scenario's CPU per request (web, network, everything else, clients), its ratio to the
    batch-1 service call, and its latency beside the Little's-law floor, each against the issue's target."""
    split, floor = cpu_split(summary, cost), latency_floor_ms(summary, scenario.clients, cores)
    ratio = p50_over_floor(summary, scenario.clients, cores)
    floor_target = _verdict(ratio, P50_OVER_FLOOR_TARGET) if scenario.clients == FLOOR_TARGET_CLIENTS else ""
    return (
        f"{run}, {scenario.name}: CPU per request {split.web_ms:.1f} ms in gunicorn + {split.client_ms:.1f} ms in "
        f"the clients; {scenario.clients} clients on {cores} cores cannot wait less than {floor:.0f} ms on average "
        f"(Little's law); measured mean {summary.mean_ms:.0f} ms.\n"
        f"  gunicorn's {split.web_ms:.1f} ms: network (batch-1 forward) {split.network_ms:.1f} ms, everything else "
        f"{split.other_ms:.1f} ms; {split.web_over_service:.2f}x the batch-1 service call's "
        f"{split.service_cpu_ms:.1f} ms of CPU ({_verdict(split.web_over_service, WEB_OVER_SERVICE_TARGET)}), "
        f"{split.web_over_service_wall:.2f}x its {split.service_wall_ms:.1f} ms of wall time.\n"
        f"  p50 {summary.p50_ms:.0f} ms, p95 {summary.p95_ms:.0f} ms against the floor {floor:.0f} ms: p50 "
        f"{ratio:.2f}x the floor" + (f" ({floor_target})." if floor_target else ".")
    )


def worker_over_request(worker: Summary, in_request: Summary) -> float:
    """A worker's CPU per image classifying queued batches against the web's CPU per image classifying the same
    batches in the request: what queueing costs the classification itself (the worker decodes, classifies and
    stores, as the request would have)."""
    return (sum(worker.worker_cpu_s) / worker.sent) / (in_request.web_cpu_s / in_request.sent)


def format_worker_cost(worker: Summary, in_request: Summary) -> str:
    ratio = worker_over_request(worker, in_request)
    return (
        f"A worker's CPU per image draining the backlog (1 worker) {1000 * sum(worker.worker_cpu_s) / worker.sent:.1f} "
        f"ms against the web's per image classifying the same batches in the request "
        f"{1000 * in_request.web_cpu_s / in_request.sent:.1f} ms: {ratio:.2f}x "
        f"({_verdict(ratio, WORKER_OVER_REQUEST_TARGET)})."
    )


HEADER = (
    f"{'run':<12} {'scenario':<28} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
    f"{'images/s':>8} {'errors':>6} {'sent':>5} {'stored':>6} {'lost':>5} {'extra':>5}"
)


def format_row(run: str, scenario: Scenario, summary: Summary) -> str:
    return (
        f"{run:<12} {scenario.name:<28} {summary.requests:>8} {summary.p50_ms:>8.0f} {summary.p95_ms:>8.0f} "
        f"{summary.max_ms:>8.0f} {summary.images_per_s:>8.1f} {summary.errors:>6} {summary.sent:>5} "
        f"{summary.stored:>6} {summary.lost:>5} {summary.extra:>5}"
    )


def redis_server_command(binary: str, port: int, workdir: Path) -> list[str]:
    """A throw-away redis-server on loopback: no snapshots, no append-only file, its files in ``workdir``."""
    return [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout: float, what: str, interval: float = 0.25):
    """``condition()``'s first true value, polled every ``interval`` s; BenchmarkError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise BenchmarkError(f"Timed out after {timeout:.0f} s waiting for {what}.")


@contextmanager
def _process(command: list[str], *, env: dict, cwd: Path, log: Path):
    """A child process, stopped with SIGTERM (Celery finishes its batch, gunicorn its requests) when done."""
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=5)
        return True
    except requests.RequestException:
        return False


@dataclass
class Server:
    """The running web server, with the benchmark user's token."""

    base_url: str
    token: str
    worker_pids: list[int]
    web_pid: int
    broker_url: str = ""

    @property
    def workers(self) -> int:
        return len(self.worker_pids)

    def worker_cpu_seconds(self) -> tuple[float, ...]:
        return tuple(_cpu_seconds(psutil.Process(pid)) for pid in self.worker_pids)

    def web_cpu_seconds(self) -> float:
        """gunicorn's arbiter and its live worker processes, user and system."""
        arbiter = psutil.Process(self.web_pid)
        return sum(_cpu_seconds(process) for process in (arbiter, *arbiter.children(recursive=True)))

    def workers_consume(self, consuming: bool) -> None:
        """Stop or resume every worker's consumption of the queue (Celery remote control), answered by each."""
        with Celery(broker=self.broker_url) as app:
            command = app.control.add_consumer if consuming else app.control.cancel_consumer
            replies = command(QUEUE, reply=True, limit=self.workers, timeout=10)  # back once every worker answers
        if len(replies) != self.workers:
            raise BenchmarkError(
                f"{len(replies)} of {self.workers} workers answered {'add' if consuming else 'cancel'}_consumer."
            )

    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {self.token}"
        return session

    def get(self, path: str) -> dict:
        with self.session() as session:
            response = session.get(f"{self.base_url}{path}", timeout=REQUEST_TIMEOUT)
        if response.status_code != 200:
            raise BenchmarkError(f"GET {path} answered {response.status_code}: {response.text[:200]}")
        return response.json()

    def sample_create(self, identifier: str) -> int:
        with self.session() as session:
            response = session.post(
                f"{self.base_url}/api/samples/", data={"identifier": identifier}, timeout=REQUEST_TIMEOUT
            )
        if response.status_code != 201:
            raise BenchmarkError(f"Creating sample {identifier} answered {response.status_code}: {response.text}")
        return response.json()["id"]

    def runtime(self) -> str:
        """Which runtime computes the server's predictions, as the API's model endpoint names it."""
        return self.get("/api/model/")["runtime"]

    def prediction_count(self) -> int:
        return self.get("/api/predictions/")["count"]

    def samples_counts(self, pks: list[int]) -> tuple[int, int]:
        """Classified and still-waiting images over these samples (the API's "n of m classified")."""
        samples = [self.get(f"/api/samples/{pk}/") for pk in pks]
        return sum(sample["image_count"] for sample in samples), sum(sample["waiting_count"] for sample in samples)

    def waiting_total(self) -> int:
        """Images waiting in all the user's samples: one request a page, so polling costs the web little."""
        total, path = 0, "/api/samples/"
        while path:
            page = self.get(path)
            total += sum(sample["waiting_count"] for sample in page["results"])
            path = page["next"] and page["next"].removeprefix(self.base_url)
        return total


def _cpu_seconds(process: psutil.Process) -> float:
    return sum(process.cpu_times()[:2])


@dataclass(frozen=True)
class Stack:
    """What one run starts: the project and its interpreter, the model, and how many (pinned) workers."""

    project_dir: Path
    model_path: Path
    workdir: Path
    workers: int = 0
    pin_workers: bool = False
    web_workers: int | None = None  # gunicorn processes; None: gunicorn.conf.py's (WEB_CONCURRENCY, else 1)

    def environment(self, broker_url: str = "") -> dict:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.workdir / 'db.sqlite3'}",
            "HEMATOVISION_MEDIA_ROOT": str(self.workdir / "media"),
            "HEMATOVISION_MODEL_PATH": str(self.model_path),
            "DJANGO_LOG_LEVEL": "WARNING",
            "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        }
        env.pop("CELERY_BROKER_URL", None)
        if self.web_workers:
            env["WEB_CONCURRENCY"] = str(self.web_workers)
        if broker_url:
            env["CELERY_BROKER_URL"] = broker_url
        return env

    def _manage(self, *arguments: str, env: dict) -> None:
        done = subprocess.run(
            [sys.executable, "manage.py", *arguments], cwd=self.project_dir, env=env, capture_output=True, text=True
        )
        if done.returncode:
            raise BenchmarkError(f"manage.py {' '.join(arguments)} failed: {done.stderr[-2000:]}")

    def _redis(self, stack: ExitStack) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise BenchmarkError("Worker runs need redis-server (apt-get install redis-server).")
        port = free_port()
        stack.enter_context(
            _process(
                redis_server_command(binary, port, self.workdir),
                env=dict(os.environ),
                cwd=self.workdir,
                log=self.workdir / "redis.log",
            )
        )
        wait_until(lambda: _pings(port), 30, "redis-server to answer")
        return f"redis://127.0.0.1:{port}/0"

    def _worker_command(self, index: int) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hematovision",
            "worker",
            "--pool=solo",
            f"--hostname=bench{index}@%h",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        if self.pin_workers:  # each worker on a core of its own
            return ["taskset", "--cpu-list", str(index % os.cpu_count()), *command]
        return command

    @contextmanager
    def running(self):
        """Migrate a fresh database, start redis and the workers if any, then gunicorn; a ``Server``."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            broker_url = self._redis(stack) if self.workers else ""
            env = self.environment(broker_url)
            self._manage("migrate", "--noinput", "--verbosity", "0", env=env)
            # The user is created while the servers load TensorFlow: each Django start costs seconds.
            user = stack.enter_context(ThreadPoolExecutor(1)).submit(
                self._manage,
                "createsuperuser",
                "--noinput",
                "--username",
                USERNAME,
                "--email",
                "bench@example.org",
                env=env,
            )
            workers = [
                stack.enter_context(
                    _process(
                        self._worker_command(index),
                        env=env,
                        cwd=self.project_dir,
                        log=self.workdir / f"worker{index}.log",
                    )
                )
                for index in range(self.workers)
            ]
            port = free_port()
            # The options of `make run`, which gunicorn.conf.py completes (the model is loaded before requests).
            web = stack.enter_context(
                _process(
                    [sys.executable, "-m", "gunicorn", "hematovision.wsgi", "--bind", f"127.0.0.1:{port}"],
                    env=env,
                    cwd=self.project_dir,
                    log=self.workdir / "gunicorn.log",
                )
            )
            base_url = f"http://127.0.0.1:{port}"
            wait_until(lambda: _answers(f"{base_url}/api/schema/"), START_TIMEOUT, "gunicorn to answer")
            user.result()
            answer = requests.post(
                f"{base_url}/api/auth/token/",
                data={"username": USERNAME, "password": PASSWORD},
                timeout=REQUEST_TIMEOUT,
            )
            if answer.status_code != 200:
                raise BenchmarkError(f"The token endpoint answered {answer.status_code}: {answer.text}")
            yield Server(
                base_url=base_url,
                token=answer.json()["token"],
                worker_pids=[worker.pid for worker in workers],
                web_pid=web.pid,
                broker_url=broker_url,
            )


def _pings(port: int) -> bool:
    try:
        with redis.Redis(port=port, socket_timeout=1) as client:
            return client.ping()
    except redis.RedisError:
        return False


def _client(server: Server, url: str, batches: list[list[tuple[str, bytes]]]) -> list[tuple[float, int]]:
    """One client sending its requests one after another: (seconds, status) each; status 0 when no answer."""
    timings = []
    with server.session() as session:
        for batch in batches:
            files = [("images", (name, data, "image/jpeg")) for name, data in batch]
            start = time.perf_counter()
            try:
                status = session.post(url, files=files, timeout=REQUEST_TIMEOUT).status_code
            except requests.RequestException:
                status = 0
            timings.append((time.perf_counter() - start, status))
    return timings


def _requests_of(scenario: Scenario, images: list[tuple[str, bytes]], client: int) -> list[list[tuple[str, bytes]]]:
    """The client's requests, each image under a name of its own (the file names of the stored records)."""
    batches, position = [], client * scenario.requests_per_client * scenario.images_per_request
    for request in range(scenario.requests_per_client):
        batch = []
        for index in range(scenario.images_per_request):
            name, data = images[position % len(images)]
            batch.append((f"{scenario.name}-c{client}-r{request}-{index}-{name}", data))
            position += 1
        batches.append(batch)
    return batches


def _counters(server: Server) -> tuple:
    """The clock and every CPU counter a scenario is measured by."""
    return (time.perf_counter(), server.worker_cpu_seconds(), server.web_cpu_seconds(), _cpu_seconds(psutil.Process()))


def run_scenario(
    server: Server, scenario: Scenario, images: list[tuple[str, bytes]], *, queue_timeout: float
) -> Summary:
    """Every client at once; with workers, a batch run lasts until the API says every image is classified."""
    samples = (
        [server.sample_create(f"{scenario.name}-{client}") for client in range(scenario.clients)]
        if scenario.to_sample
        else []
    )
    urls = (
        [f"{server.base_url}/api/samples/{pk}/images/" for pk in samples]
        if samples
        else [f"{server.base_url}/api/predictions/"] * scenario.clients
    )
    predictions_before = server.prediction_count()
    if scenario.drain:
        server.workers_consume(False)
    before = _counters(server)
    with ThreadPoolExecutor(scenario.clients) as pool:
        results = list(
            pool.map(
                lambda client, url: _client(server, url, _requests_of(scenario, images, client)),
                range(scenario.clients),
                urls,
            )
        )
    if scenario.drain:
        if (waiting := server.waiting_total()) != scenario.images:
            raise BenchmarkError(
                f"{scenario.images - waiting} of {scenario.images} images were classified while "
                "the workers were paused."
            )
        before = _counters(server)
        server.workers_consume(True)
    if samples and server.workers:
        wait_until(
            lambda: server.waiting_total() == 0,
            queue_timeout,
            "the workers to classify the queue",
            interval=DRAIN_POLL_SECONDS if scenario.drain else POLL_SECONDS,
        )
    after = _counters(server)
    worker_cpu_s = tuple(done - started for started, done in zip(before[1], after[1], strict=True))
    timings = [timing for client in results for timing in client]
    expected = 202 if samples and server.workers else 201
    if samples:
        stored = sum(server.samples_counts(samples))
    else:
        stored = server.prediction_count() - predictions_before
    return summarize(
        [latency for latency, _ in timings],
        errors=sum(status != expected for _, status in timings),
        sent=scenario.images,
        stored=stored,
        seconds=after[0] - before[0],
        worker_cpu_s=worker_cpu_s,
        web_cpu_s=after[2] - before[2],
        client_cpu_s=after[3] - before[3],
    )


def run(
    stack: Stack,
    scenarios: list[Scenario],
    images: list[tuple[str, bytes]],
    *,
    queue_timeout: float,
    runtime: str = "",
):
    """One run: warm up (model loaded and traced in the web and, two batches each, in every worker), then each
    scenario in turn. ``runtime``: the runtime the server must serve on (that of the network measured beside the
    run), else a ``BenchmarkError``."""
    with stack.running() as server:
        batch = max(scenarios, key=lambda scenario: scenario.images_per_request)
        run_scenario(server, Scenario("warm-up-single", 1, 1, 1, to_sample=False), images, queue_timeout=queue_timeout)
        if runtime and (served := server.runtime()) != runtime:
            raise BenchmarkError(f"The server serves on {served}, the network measured beside it on {runtime}.")
        run_scenario(
            server,
            Scenario("warm-up-batch", max(2 * stack.workers, 1), 1, batch.images_per_request, to_sample=True),
            images,
            queue_timeout=queue_timeout,
        )
        return [
            (scenario, run_scenario(server, scenario, images, queue_timeout=queue_timeout))
            for scenario in scenarios
            if server.workers or not scenario.drain
        ]


def scaling_ratio(one: Summary, two: Summary) -> float:
    """How many times faster two workers classified the queued batches than one, by the clock."""
    return two.images_per_s / one.images_per_s


def cpu_scaling_ratio(one: Summary, two: Summary) -> float:
    """The same ratio if every worker had a core to itself: its CPU time would be its time, and two workers
    would be done when the busier one is. A projection from measured CPU times, for a machine whose cores are
    busy with other work; it leaves out the web's share and any wait on the database or the broker."""
    if not one.worker_cpu_s or len(two.worker_cpu_s) < 2:
        raise ValueError("CPU scaling compares a one-worker run with a run of two or more workers.")
    return (sum(one.worker_cpu_s) / one.sent) / (max(two.worker_cpu_s) / two.sent)
