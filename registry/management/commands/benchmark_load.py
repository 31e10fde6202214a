"""``manage.py benchmark_load`` (``make bench-load``): concurrent API clients against a real gunicorn, without
workers and with 1 and 2 Celery workers; latency, throughput, errors and lost records per scenario; for the
single-image scenarios, the web's CPU per request split into the network and everything else, the network measured
in this process on the same model before and after each run."""

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from benchmarks.load import (
    HEADER,
    BenchmarkError,
    Scenario,
    Stack,
    cpu_scaling_ratio,
    format_row,
    format_single,
    format_worker_cost,
    run,
    scaling_ratio,
)
from benchmarks.model_cost import decoded_images, mean_cost, measure
from ml.data import DatasetError, list_split
from ml.inference import CellClassifier
from registry.management.options import add_dataset_argument, add_model_argument, require_dataset


def _counts(value: str, what: str, example: str, least: int) -> list[int]:
    try:
        counts = [int(item) for item in value.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < least:
        raise argparse.ArgumentTypeError(f"expected {what} such as {example}, not {value!r}")
    return counts


def _worker_counts(value: str) -> list[int]:
    return _counts(value, "worker counts", "0,1,2", 0)


def _client_counts(value: str) -> list[int]:
    return _counts(value, "client counts", "1,8", 1)


def _test_images(dataset_dir: str, count: int) -> list[tuple[str, bytes]]:
    """``count`` TEST JPEGs spread evenly over the split, so every class is sent."""
    samples = list_split(dataset_dir, "TEST")
    chosen = samples[:: max(len(samples) // count, 1)][:count]
    return [(sample.path.name, sample.path.read_bytes()) for sample in chosen]


def _scenarios(options) -> list[Scenario]:
    """Single images for each client count, then the batches, and the backlog (worker runs only)."""
    batches = f"{options['batch_clients']} x {options['batches']} x {options['batch_size']}"
    batch_sizes = (options["batch_clients"], options["batches"], options["batch_size"])
    return [
        *(
            Scenario(f"{clients} x {options['singles']} single", clients, options["singles"], 1, to_sample=False)
            for clients in options["clients"]
        ),
        Scenario(f"{batches} batch", *batch_sizes, to_sample=True),
        Scenario(f"{batches} backlog drained", *batch_sizes, to_sample=True, drain=True),
    ]


class Command(BaseCommand):
    help = (
        "Serve the app as `make run` does (on a free port, a throwaway SQLite database and media folder) and "
        "measure concurrent uploads of real TEST images: single images, and batches into samples, in the "
        "request (0 workers) and queued for 1 and 2 Celery workers on a private redis-server."
    )

    def add_arguments(self, parser):
        add_dataset_argument(parser)
        add_model_argument(parser)
        parser.add_argument(
            "--clients",
            type=_client_counts,
            default=[1, 8],
            help="the single-image scenarios, as concurrent client counts; default 1,8",
        )
        parser.add_argument("--singles", type=int, default=20, help="single-image requests per client")
        parser.add_argument("--batch-clients", type=int, default=4, help="concurrent batch clients")
        parser.add_argument("--batch-size", type=int, default=25, help="images per batch request")
        parser.add_argument(
            "--batches",
            type=int,
            default=4,
            help="batch requests per batch client (4 x 4 x 25: 400 images, 32 worker tasks)",
        )
        parser.add_argument(
            "--workers",
            type=_worker_counts,
            default=[0, 1, 2],
            help="the runs, as Celery worker counts (0: classified in the request); default 0,1,2",
        )
        parser.add_argument(
            "--pin",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="pin worker i to core i with taskset (default: when taskset exists and there are "
            "as many cores as workers)",
        )
        parser.add_argument(
            "--web-workers",
            type=int,
            default=None,
            help="gunicorn processes (default: gunicorn.conf.py's, WEB_CONCURRENCY or 1)",
        )
        parser.add_argument(
            "--queue-timeout", type=float, default=300, help="seconds to wait for the workers to empty the queue"
        )
        parser.add_argument(
            "--model-calls",
            type=int,
            default=100,
            help="batch-1 forward passes and service calls timed in this process before and after each run",
        )

    def handle(self, *args, **options):
        require_dataset(options)
        model_path = Path(options["model"]).resolve()
        if not model_path.is_file():
            raise CommandError(f"No model at {model_path}: pass --model or set HEMATOVISION_MODEL_PATH.")
        scenarios = _scenarios(options)
        try:
            images = _test_images(options["dataset_dir"], max(scenario.images for scenario in scenarios))
        except DatasetError as error:
            raise CommandError(str(error)) from error
        cores = os.cpu_count()
        pin = options["pin"]
        if pin is None:
            pin = shutil.which("taskset") is not None and cores >= max(options["workers"])
        self.stdout.write(
            f"{cores} cores, load average {os.getloadavg()[0]:.2f} at the start; model {model_path}; "
            f"workers {'pinned to one core each' if pin else 'not pinned'}, web not pinned."
        )
        classifier = CellClassifier.from_path(
            model_path, settings.HEMATOVISION_RUNTIME, settings.HEMATOVISION_RUNTIME_PRECISION
        )
        probe = decoded_images([data for _, data in images[: options["model_calls"]]])
        costs = [measure(classifier, probe, options["model_calls"])]
        self.stdout.write(f"The network measured here: {classifier.runtime}, as the server must serve it.")
        self.stdout.write(HEADER)
        results, singles, workdir = {}, [], Path(tempfile.mkdtemp(prefix="hematovision-bench-"))
        for workers in options["workers"]:
            stack = Stack(
                project_dir=Path(settings.BASE_DIR),
                model_path=model_path,
                workdir=workdir / f"workers-{workers}",
                workers=workers,
                pin_workers=pin,
                web_workers=options["web_workers"],
            )
            try:
                results[workers] = run(
                    stack, scenarios, images, queue_timeout=options["queue_timeout"], runtime=classifier.runtime
                )
            except BenchmarkError as error:
                raise CommandError(f"{error} The processes' logs are kept in {stack.workdir}.") from error
            costs.append(measure(classifier, probe, options["model_calls"]))
            run_name = f"{workers} worker(s)" if workers else "in request"
            for scenario, summary in results[workers]:
                self.stdout.write(format_row(run_name, scenario, summary))
            singles += [
                format_single(run_name, scenario, summary, mean_cost(*costs[-2:]), cores)
                for scenario, summary in results[workers]
                if not scenario.to_sample
            ]
        shutil.rmtree(workdir)  # the throwaway databases and uploads; kept above when a run failed
        self.stdout.write(self._model_costs(costs))
        self.stdout.write("\n".join(singles))
        if 0 in results and 1 in results:
            self.stdout.write(self._worker_cost(results[0], results[1]))
        if 1 in results and 2 in results:
            self._scalings(results[1], results[2])
        self.stdout.write(f"Load average {os.getloadavg()[0]:.2f} at the end.")

    @staticmethod
    def _worker_cost(in_request: list, one_worker: list) -> str:
        """One worker's drained backlog against the same batches classified in the request."""
        [batch] = [summary for scenario, summary in in_request if scenario.to_sample and not scenario.drain]
        [backlog] = [summary for scenario, summary in one_worker if scenario.drain]
        return format_worker_cost(backlog, batch)

    def _scalings(self, one_worker: list, two_workers: list) -> None:
        """Two workers against one on each batch scenario (queued as uploaded, then the drained backlog)."""
        queued = [
            (one, two) for (scenario, one), (_, two) in zip(one_worker, two_workers, strict=True) if scenario.to_sample
        ]
        whats = ("Batches queued as they were uploaded", "The backlog, the web idle")
        for (one, two), what in zip(queued, whats, strict=True):
            self.stdout.write(self._scaling(what, one, two))

    @staticmethod
    def _scaling(what: str, one, two) -> str:
        """Two workers against one on the same scenario: by the clock, and projected from their CPU times."""
        cpu = " + ".join(f"{seconds:.1f}" for seconds in two.worker_cpu_s)
        per_image = [1000 * sum(summary.worker_cpu_s) / summary.sent for summary in (one, two)]
        return (
            f"{what}: 2 workers classified {scaling_ratio(one, two):.2f}x as fast as 1 by the clock; "
            f"worker CPU {sum(one.worker_cpu_s):.1f} s (1 worker) and {cpu} s (2 workers), "
            f"{per_image[0]:.1f} and {per_image[1]:.1f} ms per image, so "
            f"{cpu_scaling_ratio(one, two):.2f}x if each worker had a core to itself."
        )

    @staticmethod
    def _model_costs(costs) -> str:
        """The network's and the service call's CPU per batch-1 call at each measurement, around every run."""
        return "Batch-1 in this process, before the first run and after each: " + "; ".join(
            f"forward {cost.forward_cpu_ms:.2f}, service call {cost.service_cpu_ms:.2f} ms CPU "
            f"({cost.service_wall_ms:.2f} wall)"
            for cost in costs
        )
