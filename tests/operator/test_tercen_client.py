"""Channel, client and retry against the fake Tercen server (real gRPC on 127.0.0.1)."""

from __future__ import annotations

import grpc
import pyarrow as pa
import pytest

from ggrs import tson
from ggrs.errors import (
    RemoteAuthError,
    RemoteDeadlineExceeded,
    RemoteNotFound,
    RemoteUnavailable,
    UsageError,
)
from ggrs.tercen import channel, client, retry
from tests import fake_tercen_helpers as fake_tercen


@pytest.fixture(scope="module")
def crabs():
    return fake_tercen.crabs()


def make_client(fake, token=fake_tercen.TOKEN, timeout=5.0):
    return client.TercenClient(
        channel.create_channel(fake.uri, token), timeout=timeout, secrets=[token]
    )


@pytest.mark.parametrize(
    ("uri", "target", "secure"),
    [
        ("http://127.0.0.1:50051", "127.0.0.1:50051", False),
        ("https://tercen.com:5400", "tercen.com:5400", True),
        ("https://tercen.com", "tercen.com:443", True),
        ("http://[::1]:5000/", "[::1]:5000", False),
    ],
)
def test_parse_uri(uri, target, secure):
    assert channel.parse_uri(uri) == (target, secure)


@pytest.mark.parametrize("uri", ["ftp://host:1", "127.0.0.1:50051", "http://", "http://h:x"])
def test_parse_uri_refuses(uri):
    with pytest.raises(UsageError, match="service URI"):
        channel.parse_uri(uri)


def test_channel_needs_a_token():
    with pytest.raises(UsageError, match="no token"):
        channel.create_channel("http://127.0.0.1:1", "")


def test_ssl_cert_file_is_used(tmp_path, monkeypatch):
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(b"-----BEGIN CERTIFICATE-----\nxx\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    assert channel.root_certificates() == bundle.read_bytes()
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(UsageError, match="SSL_CERT_FILE"):
        channel.root_certificates()


def test_token_is_sent_on_every_kind_of_call(crabs):
    with fake_tercen.FakeTercen(crabs) as fake:
        tercen = make_client(fake)
        task = tercen.get_task(fake_tercen.TASK_ID)  # unary
        assert task.runcomputationtask.query.qtHash == "qt-hash"
        assert tercen.stream_table("col-hash", [], 0, 5)  # server streaming
        document = tercen.get_file(fake_tercen.RESULT_FILE_ID)
        tercen.upload_file(document, b"x" * 10)  # client streaming
        assert fake.refused_tokens == 0
        assert fake.uploads[0].payload == b"x" * 10


def test_wrong_token_is_refused_without_showing_it(crabs):
    with fake_tercen.FakeTercen(crabs, token="the-real-one") as fake:
        tercen = make_client(fake, token="a-wrong-token")
        with pytest.raises(RemoteAuthError) as caught:
            tercen.get_task(fake_tercen.TASK_ID)
    message = str(caught.value)
    assert "TaskService.get(id='task-1')" in message
    assert "refused the token" in message
    assert "a-wrong-token" not in message


def test_not_found_names_the_call_and_id(crabs):
    with (
        fake_tercen.FakeTercen(crabs) as fake,
        pytest.raises(RemoteNotFound, match=r"TableSchemaService\.get\(id='nope'\)"),
    ):
        make_client(fake).get_schema("nope")


def test_slow_server_hits_the_deadline(crabs):
    faults = fake_tercen.Faults(slow_seconds=1.0)
    with (
        fake_tercen.FakeTercen(crabs, faults=faults) as fake,
        pytest.raises(RemoteDeadlineExceeded, match=r"within the 0\.2s deadline"),
    ):
        make_client(fake, timeout=0.2).get_schema("qt-hash")


def test_stream_fragments_are_joined(crabs):
    with fake_tercen.FakeTercen(crabs, fragment=7) as fake:
        payload = make_client(fake).stream_table("qt-hash", [".ys", ".ci"], 10, 100)
    expected = crabs.tables["qt-hash"].table.select([".ys", ".ci"]).slice(10, 100)
    assert tson.table_from_tson(payload).equals(expected)
    assert len(payload) > 100 * 7  # it really came in many pieces


def test_cut_stream_is_transient(crabs):
    faults = fake_tercen.Faults(cut_stream_after=100)
    with fake_tercen.FakeTercen(crabs, faults=faults, fragment=50) as fake:
        tercen = make_client(fake)
        with pytest.raises(RemoteUnavailable, match="cut after 100 bytes"):
            tercen.stream_table("qt-hash", [], 0, 1000)
        assert retry.is_transient(RemoteUnavailable("x"))
        # The second attempt is not cut.
        assert tson.table_from_tson(tercen.stream_table("qt-hash", [], 0, 1000)).num_rows == 1000


def test_unavailable_server():
    # Nothing listens on port 1: the channel reports UNAVAILABLE, a transient error.
    tercen = client.TercenClient(channel.create_channel("http://127.0.0.1:1", "t"), timeout=2.0)
    with pytest.raises(RemoteUnavailable, match=r"TaskService\.get"):
        tercen.get_task("t1")


def test_progress_event_is_best_effort(crabs):
    with fake_tercen.FakeTercen(crabs) as fake:
        assert make_client(fake).send_progress("task-1", "half", 5, 10)
        assert fake.events[0].taskprogressevent.actual == 5
    unreachable = client.TercenClient(channel.create_channel("http://127.0.0.1:1", "t"), timeout=1)
    assert not unreachable.send_log("task-1", "failed")


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def flaky(failures, error=RemoteUnavailable):
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= failures:
            raise error(f"attempt {len(calls)}")
        return "ok"

    return call, calls


def test_retry_backs_off_exponentially_until_success():
    clock = FakeClock()
    policy = retry.Retry(initial=1.0, multiplier=2.0, maximum=100.0, timeout=100.0,
                         sleep=clock.sleep, clock=clock.time)  # fmt: skip
    call, calls = flaky(3)
    assert policy(call) == "ok"
    assert len(calls) == 4
    # Jitter keeps each pause within [delay/2, delay] of 1, 2, 4 seconds.
    for pause, delay in zip(clock.sleeps, [1.0, 2.0, 4.0], strict=True):
        assert delay / 2 <= pause <= delay


def test_retry_is_bounded_by_total_time():
    clock = FakeClock()
    policy = retry.Retry(initial=1.0, multiplier=2.0, maximum=4.0, timeout=10.0,
                         sleep=clock.sleep, clock=clock.time)  # fmt: skip
    call, calls = flaky(1000)
    with pytest.raises(RemoteUnavailable):
        policy(call)
    assert clock.now <= 10.0
    assert 3 <= len(calls) < 20


def test_retry_does_not_retry_permanent_errors():
    clock = FakeClock()
    policy = retry.Retry(sleep=clock.sleep, clock=clock.time)
    call, calls = flaky(1, error=RemoteAuthError)
    with pytest.raises(RemoteAuthError):
        policy(call)
    assert len(calls) == 1
    assert clock.sleeps == []


def test_rpc_error_translation_keeps_codes_apart():
    tercen = client.TercenClient(grpc.insecure_channel("localhost:0"), secrets=["s3cret"])

    class Error(grpc.RpcError):
        def __init__(self, code, details):
            self._code, self._details = code, details

        def code(self):
            return self._code

        def details(self):
            return self._details

    exhausted = tercen._error("X.y", {"id": "1"}, Error(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                                        "busy"), 0)  # fmt: skip
    assert isinstance(exhausted, RemoteUnavailable)
    echoed = tercen._error("X.y", {}, Error(grpc.StatusCode.INVALID_ARGUMENT, "bad s3cret"), 0)
    assert "s3cret" not in str(echoed)
    assert not retry.is_transient(echoed)
    cut = tercen._error("X.y", {}, Error(grpc.StatusCode.INTERNAL, "reset"), 10)
    assert isinstance(cut, RemoteUnavailable)
    assert not isinstance(tercen._error("X.y", {}, Error(grpc.StatusCode.INTERNAL, "bug"), 0),
                          RemoteUnavailable)  # fmt: skip


def test_table_from_real_projection_round_trips():
    projection = fake_tercen.projection_sample()
    main = projection.tables["qt-hash"].table
    with fake_tercen.FakeTercen(projection, fragment=1000) as fake:
        payload = make_client(fake).stream_table("qt-hash", [], 0, main.num_rows)
    table = tson.table_from_tson(payload)
    assert table.num_rows == 4772
    assert table.schema.field(".ys").type == pa.uint16()
    assert table.equals(main)
