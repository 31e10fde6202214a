"""``benchmark_load``: the summary maths and record accounting, its refusals, and one tiny run against a real
gunicorn and, when redis-server is installed, a real worker (75 s on the shared 2-core machine at load 6-8)."""

import re
import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from benchmarks.load import (
    Scenario,
    Summary,
    _requests_of,
    cpu_scaling_ratio,
    cpu_split,
    format_single,
    format_worker_cost,
    latency_floor_ms,
    p50_over_floor,
    scaling_ratio,
    summarize,
    worker_over_request,
)
from benchmarks.model_cost import ModelCost


def test_percentiles_and_maximum_are_of_every_request_in_milliseconds():
    summary = summarize([index / 1000 for index in range(100, 0, -1)], errors=0, sent=100, stored=100, seconds=4)
    assert (summary.requests, summary.p50_ms, summary.p95_ms, summary.max_ms) == pytest.approx((100, 50.5, 95.05, 100))
    assert summary.images_per_s == pytest.approx(25)


def test_the_mean_latency_is_of_every_request_in_milliseconds():
    assert summarize([0.1, 0.2, 0.6], errors=0, sent=3, stored=3, seconds=1).mean_ms == pytest.approx(300)


def test_the_latency_floor_is_clients_times_cpu_per_request_over_cores():
    summary = Summary(
        160, 90, 110, 130, images_per_s=90, errors=0, sent=160, stored=160, web_cpu_s=2.4, client_cpu_s=0.8
    )
    assert latency_floor_ms(summary, clients=8, cores=2) == pytest.approx(80)  # 8 x 20 ms / 2
    assert latency_floor_ms(summary, clients=8, cores=8) == pytest.approx(20)


SINGLES = Summary(
    160, 90, 110, 130, images_per_s=90, errors=0, sent=160, stored=160, web_cpu_s=2.4, client_cpu_s=0.8, mean_ms=85
)
COST = ModelCost(forward_cpu_ms=5.0, service_cpu_ms=8.0, service_wall_ms=5.0)


def test_the_web_cpu_per_request_splits_into_the_network_and_everything_else():
    split = cpu_split(SINGLES, COST)  # 2.4 s of gunicorn over 160 requests: 15 ms each
    assert (split.web_ms, split.network_ms, split.other_ms, split.client_ms) == pytest.approx((15, 5, 10, 5))
    assert split.web_over_service == pytest.approx(15 / 8)
    assert split.web_over_service_wall == pytest.approx(3)


def test_the_p50_is_read_against_the_latency_floor():
    assert p50_over_floor(SINGLES, clients=8, cores=2) == pytest.approx(90 / 80)
    assert p50_over_floor(SINGLES, clients=4, cores=2) == pytest.approx(90 / 40)


def test_a_single_image_scenario_prints_its_split_and_its_ratios_against_the_targets():
    text = format_single("in request", Scenario("8 x 20 single", 8, 20, 1, to_sample=False), SINGLES, COST, 2)
    assert "CPU per request 15.0 ms in gunicorn + 5.0 ms in the clients; 8 clients on 2 cores" in text
    assert "cannot wait less than 80 ms on average (Little's law); measured mean 85 ms." in text
    assert "network (batch-1 forward) 5.0 ms, everything else 10.0 ms; 1.88x the batch-1 service call's" in text
    assert "8.0 ms of CPU (target <= 2x: met), 3.00x its 5.0 ms of wall time." in text
    assert "p50 90 ms, p95 110 ms against the floor 80 ms: p50 1.12x the floor (target <= 1.3x: met)." in text


def test_targets_missed_say_so_and_the_floor_target_is_read_at_eight_clients_only():
    costly = format_single("in request", Scenario("8 x 20 single", 8, 20, 1, to_sample=False), SINGLES, COST, 8)
    assert "p50 4.50x the floor (target <= 1.3x: not met)." in costly  # the floor is 20 ms on 8 cores
    cheap = ModelCost(forward_cpu_ms=2.0, service_cpu_ms=4.0, service_wall_ms=3.0)
    one = format_single("in request", Scenario("1 x 20 single", 1, 20, 1, to_sample=False), SINGLES, cheap, 2)
    assert "3.75x the batch-1 service call's 4.0 ms of CPU (target <= 2x: not met)" in one
    assert one.endswith("p50 9.00x the floor.")


def test_missing_records_are_lost_and_count_against_throughput():
    summary = summarize([0.2, 0.4], errors=1, sent=50, stored=25, seconds=5)
    assert (summary.lost, summary.extra, summary.errors) == (25, 0, 1)
    assert summary.images_per_s == pytest.approx(5)


def test_records_beyond_the_images_sent_are_extra_not_throughput():
    summary = summarize([0.2], errors=0, sent=10, stored=12, seconds=2)
    assert (summary.lost, summary.extra, summary.images_per_s) == (0, 2, pytest.approx(5))


@pytest.mark.parametrize("latencies, seconds", [([], 1), ([0.1], 0)])
def test_a_summary_needs_requests_and_time(latencies, seconds):
    with pytest.raises(ValueError, match="at least one request"):
        summarize(latencies, errors=0, sent=1, stored=1, seconds=seconds)


def test_scaling_is_the_ratio_of_throughputs():
    one = Summary(4, 10, 20, 30, images_per_s=8, errors=0, sent=100, stored=100)
    two = Summary(4, 10, 20, 30, images_per_s=14, errors=0, sent=100, stored=100)
    assert scaling_ratio(one, two) == pytest.approx(1.75)


def test_cpu_scaling_is_one_workers_cpu_time_over_the_busier_of_two():
    one = Summary(4, 10, 20, 30, images_per_s=8, errors=0, sent=100, stored=100, worker_cpu_s=(20.0,))
    two = Summary(4, 10, 20, 30, images_per_s=6, errors=0, sent=100, stored=100, worker_cpu_s=(9.0, 12.5))
    assert cpu_scaling_ratio(one, two) == pytest.approx(1.6)
    with pytest.raises(ValueError, match="two or more workers"):
        cpu_scaling_ratio(one, one)


def test_every_image_sent_has_a_name_of_its_own_and_clients_send_different_images():
    scenario = Scenario("batch", clients=2, requests_per_client=2, images_per_request=3, to_sample=True)
    images = [(f"img{index}.jpeg", bytes([index])) for index in range(12)]
    sent = [image for client in range(2) for batch in _requests_of(scenario, images, client) for image in batch]
    assert len(sent) == scenario.images == 12
    assert len({name for name, _ in sent}) == 12
    assert sorted(data for _, data in sent) == sorted(data for _, data in images)


def test_bad_worker_counts_are_refused():
    with pytest.raises(CommandError, match="worker counts"):
        call_command("benchmark_load", "--workers", "1,two")


@pytest.mark.parametrize("clients", ["0,8", "eight"])
def test_bad_client_counts_are_refused(clients):
    with pytest.raises(CommandError, match="client counts"):
        call_command("benchmark_load", "--clients", clients)


def test_a_missing_model_is_refused_before_anything_starts(tmp_path, dataset_dir):
    with pytest.raises(CommandError, match="No model at"):
        call_command("benchmark_load", "--model", str(tmp_path / "absent.keras"), "--dataset-dir", str(dataset_dir))


ROW = re.compile(
    r"^(in request|\d worker\(s\)) +(.+?) +(\d+) +\d+ +\d+ +\d+ +[\d.]+ +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)$"
)


def test_a_tiny_run_against_real_processes_has_no_error_and_loses_nothing(tiny_model_path, dataset_dir):
    runs = "1" if shutil.which("redis-server") else "0"  # one run (each costs three Django starts); a worker's
    # run takes every path: singles classified in the request, batches queued and polled until classified, and a
    # backlog queued with the worker paused (Celery remote control), then drained
    out = StringIO()
    call_command(
        "benchmark_load",
        "--model",
        str(tiny_model_path),
        "--dataset-dir",
        str(dataset_dir),
        "--clients",
        "2",
        "--singles",
        "2",
        "--batch-clients",
        "2",
        "--batches",
        "1",
        "--batch-size",
        "3",
        "--workers",
        runs,
        "--model-calls",
        "3",
        stdout=out,
    )
    rows = [match.groups() for line in out.getvalue().splitlines() if (match := ROW.match(line))]
    assert len(rows) == (3 if runs == "1" else 2)  # a worker run adds the drained backlog
    floors = re.findall(
        r"CPU per request ([\d.]+) ms in gunicorn \+ ([\d.]+) ms in the clients; 2 clients on \d+ "
        r"cores cannot wait less than (\d+) ms",
        out.getvalue(),
    )
    assert len(floors) == len(runs.split(","))
    assert all(float(web) > 0 for web, _, _ in floors)  # the clients' share may be under psutil's 10 ms tick
    splits = re.findall(
        r"gunicorn's ([\d.]+) ms: network \(batch-1 forward\) ([\d.]+) ms, everything else (-?[\d.]+) ms; "
        r"([\d.]+)x the batch-1 service call's ([\d.]+) ms of CPU",
        out.getvalue(),
    )
    assert len(splits) == len(floors)
    for (web, network, other, ratio, service), (floor_web, _, _) in zip(splits, floors, strict=True):
        assert web == floor_web and float(network) > 0 and float(service) > 0
        assert float(other) == pytest.approx(float(web) - float(network), abs=0.11)
        assert float(ratio) == pytest.approx(float(web) / float(service), rel=0.05, abs=0.01)
    floor_ratios = re.findall(r"p50 \d+ ms, p95 \d+ ms against the floor \d+ ms: p50 [\d.]+x the floor", out.getvalue())
    assert len(floor_ratios) == len(floors)
    for run, scenario, requests, errors, sent, stored, lost, extra in rows:
        assert (errors, lost, extra) == ("0", "0", "0"), (run, scenario)
        assert sent == stored == ("4" if "single" in scenario else "6")
        assert requests == ("4" if "single" in scenario else "2")


def test_a_workers_cpu_per_image_is_read_against_the_same_batches_classified_in_the_request():
    in_request = Summary(4, 10, 20, 30, images_per_s=8, errors=0, sent=400, stored=400, web_cpu_s=4.0)
    worker = Summary(4, 10, 20, 30, images_per_s=9, errors=0, sent=400, stored=400, worker_cpu_s=(4.4,))
    assert worker_over_request(worker, in_request) == pytest.approx(1.1)
    line = format_worker_cost(worker, in_request)
    assert "(1 worker) 11.0 ms against" in line and "in the request 10.0 ms: 1.10x (target <= 1.2x: met)" in line
    slower = Summary(4, 10, 20, 30, images_per_s=9, errors=0, sent=400, stored=400, worker_cpu_s=(5.2,))
    assert "1.30x (target <= 1.2x: not met)" in format_worker_cost(slower, in_request)
