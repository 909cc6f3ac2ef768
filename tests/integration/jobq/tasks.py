"""Job functions and a Celery app for test_job_queues.py: rq imports the
functions by name in its worker, and the Celery worker (a separate process)
imports this module with the broker's address in KEEL_CELERY_PORT."""

import os
import time

from celery import Celery


def add(a, b):
    return a + b


def fail(msg):
    raise ValueError(msg)


def slow(seconds):
    time.sleep(seconds)
    return "slept"


def concat(*parts):
    return "".join(parts)


_port = os.environ.get("KEEL_CELERY_PORT", "6399")
app = Celery("keeltests", broker="redis://127.0.0.1:%s/0" % _port,
             backend="redis://127.0.0.1:%s/1" % _port)
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
                result_expires=600)


@app.task(name="keeltests.add")
def c_add(a, b):
    return a + b


@app.task(name="keeltests.fail")
def c_fail(msg):
    raise ValueError(msg)


@app.task(name="keeltests.total")
def c_total(values):
    return sum(values)


@app.task(name="keeltests.retry", bind=True, max_retries=2, default_retry_delay=0)
def c_retry(self, key):
    import redis
    r = redis.Redis(port=int(_port), db=2)
    if r.incr(key) < 3:
        raise self.retry(countdown=0)
    return "done after %d tries" % int(r.get(key))
