"""Gunicorn settings read from the working directory: load the model before a worker takes requests."""

import os

# What `make run` and `make bench` serve: one process holding one model, four request threads; a 600-image ZIP
# classified in the request must not be cut off. WEB_CONCURRENCY (gunicorn's own variable) sets more processes,
# each with its own copy of the model (docs/deployment.md).
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = 4
timeout = 300


def post_worker_init(worker):
    """Each worker loads and warms up the classifier now, so the first upload does not wait for TensorFlow."""
    from classifier import model_gateway  # imported here: Django is set up only once the app is loaded

    try:
        model_gateway.get_classifier()
    except model_gateway.ModelUnavailable as error:
        worker.log.warning("No model loaded at start-up (uploads will answer 503 until one exists): %s", error.detail)
