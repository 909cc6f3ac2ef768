"""Python job queues on Keel: Debian's rq and Celery (kombu's Redis transport
and Celery's Redis result backend), run as their users run them.

rq: jobs enqueued and run by a worker in this process (SimpleWorker, burst)
and by a worker process that waits in BLPOP; results, failures in the
FailedJobRegistry, dependencies, scheduled jobs moved by the scheduler, a
job's meta, cancellation. Celery: a real `celery worker` process (solo pool)
on Keel as broker (db 0) and result backend (db 1): results, a failing task,
group and chord (the backend's chord counter), retries, revocation. The job
functions and the Celery app are tests/integration/jobq/tasks.py.
"""

import gc
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

rq = pytest.importorskip("rq", reason="python3-rq is not installed (scripts/lib.sh TEST_PKGS)")
celery = pytest.importorskip("celery", reason="python3-celery is not installed")

from rq import Queue, SimpleWorker, Worker  # noqa: E402
from rq.job import Job, JobStatus  # noqa: E402
from rq.registry import FailedJobRegistry, ScheduledJobRegistry  # noqa: E402

from jobq import tasks  # noqa: E402


@pytest.fixture
def conn(keel):
    c = redis.Redis(port=keel.port, socket_timeout=20)
    c.flushall()
    yield c
    c.close()


# ----------------------------------------------------------------------- rq

def test_rq_results_failures_and_meta(conn):
    q = Queue("default", connection=conn)
    ok = q.enqueue(tasks.add, 2, 3)
    bad = q.enqueue(tasks.fail, "boom")
    cat = q.enqueue(tasks.concat, "a", "b", "c", meta={"owner": "tests"})
    assert q.count == 3
    SimpleWorker([q], connection=conn).work(burst=True)
    assert ok.get_status(refresh=True) == JobStatus.FINISHED
    assert Job.fetch(ok.id, connection=conn).result == 5
    assert Job.fetch(cat.id, connection=conn).return_value() == "abc"
    assert Job.fetch(cat.id, connection=conn).meta == {"owner": "tests"}
    assert bad.get_status(refresh=True) == JobStatus.FAILED
    failed = FailedJobRegistry(queue=q)
    assert failed.get_job_ids() == [bad.id]
    assert "ValueError: boom" in Job.fetch(bad.id, connection=conn).exc_info
    failed.requeue(bad.id)
    assert q.count == 1
    assert q.count == len(q.get_job_ids())


def test_rq_dependencies_and_cancel(conn):
    q = Queue("deps", connection=conn)
    first = q.enqueue(tasks.add, 1, 1)
    second = q.enqueue(tasks.add, 2, 2, depends_on=first)
    doomed = q.enqueue(tasks.add, 9, 9)
    assert second.get_status(refresh=True) == JobStatus.DEFERRED
    doomed.cancel()
    assert doomed.get_status(refresh=True) == JobStatus.CANCELED
    SimpleWorker([q], connection=conn).work(burst=True)
    assert first.get_status(refresh=True) == JobStatus.FINISHED
    assert second.get_status(refresh=True) == JobStatus.FINISHED
    assert Job.fetch(second.id, connection=conn).result == 4
    assert doomed.get_status(refresh=True) == JobStatus.CANCELED


def test_rq_scheduled_job_moved_by_the_scheduler(conn):
    q = Queue("sched", connection=conn)
    due = q.enqueue_at(datetime.now(timezone.utc) - timedelta(seconds=1), tasks.add, 20, 22)
    later = q.enqueue_in(timedelta(hours=1), tasks.add, 0, 0)
    reg = ScheduledJobRegistry(queue=q)
    assert set(reg.get_job_ids()) == {due.id, later.id}
    SimpleWorker([q], connection=conn).work(burst=True, with_scheduler=True)
    assert Job.fetch(due.id, connection=conn).result == 42
    assert reg.get_job_ids() == [later.id]
    assert later.get_status(refresh=True) == JobStatus.SCHEDULED


def test_rq_worker_process_waits_in_blpop(keel, conn):
    """A worker process with no job waits in BLPOP on its queues and is woken
    by each enqueue from this process."""
    code = ("import sys; sys.path.insert(0, %r)\n"
            "import redis\nfrom rq import Queue, Worker\n"
            "c = redis.Redis(port=%d)\n"
            "Worker([Queue('live', connection=c)], connection=c).work(max_jobs=2)\n"
            % (HERE, keel.port))
    proc = subprocess.Popen(["/usr/bin/python3", "-c", code], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and b"cmd=blpop" not in conn.execute_command(
                "CLIENT", "LIST"):
            time.sleep(0.1)
        assert b"cmd=blpop" in conn.execute_command("CLIENT", "LIST")
        q = Queue("live", connection=conn)
        jobs = [q.enqueue(tasks.add, i, 100) for i in range(2)]
        assert proc.wait(timeout=30) == 0, proc.stderr.read().decode()
        assert [Job.fetch(j.id, connection=conn).result for j in jobs] == [100, 101]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------- Celery

@pytest.fixture
def celery_worker(keel, conn, tmp_path):
    env = dict(os.environ, KEEL_CELERY_PORT=str(keel.port), PYTHONPATH=HERE)
    proc = subprocess.Popen(
        ["/usr/bin/python3", "-m", "celery", "-A", "jobq.tasks", "worker", "--pool=solo",
         "--concurrency=1", "--without-heartbeat", "--without-gossip", "--without-mingle",
         "--loglevel=WARNING", "--hostname", "keeltest@%h"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "w.log", "wb"))
    tasks.app.conf.broker_url = "redis://127.0.0.1:%d/0" % keel.port
    tasks.app.conf.result_backend = "redis://127.0.0.1:%d/1" % keel.port
    yield proc
    # Results left for the collector unsubscribe as they go: while the
    # server is still there (not at exit, when the session server is gone).
    gc.collect()
    proc.send_signal(signal.SIGTERM)  # warm shutdown
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log = (tmp_path / "w.log").read_text(errors="replace")
    # the worker logs the failing task's ValueError; nothing from the server
    for bad in ("ResponseError", "ConnectionError", "unknown command", "WRONGTYPE",
                "consumer: Cannot connect"):
        assert bad not in log, log[-3000:]


def test_celery_results_failure_group_chord(celery_worker):
    from celery import chord, group
    assert tasks.c_add.delay(2, 3).get(timeout=30) == 5
    res = tasks.c_fail.delay("boom")
    with pytest.raises(ValueError, match="boom"):
        res.get(timeout=30)
    assert res.state == "FAILURE"
    g = group(tasks.c_add.s(i, i) for i in range(10))().get(timeout=30)
    assert g == [2 * i for i in range(10)]
    total = chord((tasks.c_add.s(i, 1) for i in range(5)), tasks.c_total.s())().get(timeout=30)
    assert total == sum(i + 1 for i in range(5))


def test_celery_retry_and_revoke(celery_worker, keel):
    side = redis.Redis(port=keel.port, db=2)
    side.delete("tries")
    assert tasks.c_retry.delay("tries").get(timeout=30) == "done after 3 tries"
    eta = datetime.now(timezone.utc) + timedelta(seconds=3)
    doomed = tasks.c_add.apply_async((1, 1), eta=eta)
    doomed.revoke()
    assert tasks.c_add.delay(5, 5).get(timeout=30) == 10
    time.sleep(3.5)
    assert doomed.state in ("REVOKED", "PENDING")
    assert doomed.state != "SUCCESS"
