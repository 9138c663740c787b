"""//docker:push's client against Debian's docker-registry on 127.0.0.1.

The test starts the registry itself (free port, temporary storage), pushes the
built image, pulls it back with skopeo and compares digests, pushes again to
see every blob skipped, and stops the registry by its PID. A small proxy in
front of the registry plays a token-authenticating registry such as ghcr.io.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from image_helpers import LAYOUT, TARBALL, built_digest, image_tag, run, tool

from third_party.oci import push

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_BLOBS = 5  # config + four layers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def registry() -> Iterator[str]:
    """A docker-registry on 127.0.0.1 with temporary storage; yields HOST:PORT."""
    binary = tool("docker-registry")
    with tempfile.TemporaryDirectory(prefix="ggrs-registry-") as tmp:
        port = _free_port()
        config = Path(tmp, "config.yml")
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {tmp}/data\n"
            f"http:\n  addr: 127.0.0.1:{port}\n"
        )
        with Path(tmp, "registry.log").open("wb") as log:
            proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with _DIRECT.open(f"http://127.0.0.1:{port}/v2/", timeout=2):
                        break
                except (urllib.error.URLError, ConnectionError):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(
                            "docker-registry did not start:\n"
                            + Path(tmp, "registry.log").read_text()
                        )
                    time.sleep(0.1)
            yield f"127.0.0.1:{port}"
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


def _skopeo(*args: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp, "policy.json")
        policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
        return run([tool("skopeo"), "--policy", str(policy), *args]).stdout


def test_push_pull_back_and_skip_existing_blobs(registry: str) -> None:
    repo = f"{registry}/ggrs/image"
    tag = image_tag()
    first = push.push(TARBALL, repo, [tag, "main"], None)
    assert first == {"digest": built_digest(), "uploaded": _BLOBS, "skipped": 0}

    remote = json.loads(_skopeo("inspect", "--tls-verify=false", f"docker://{repo}:main"))
    assert remote["Digest"] == built_digest()
    with tempfile.TemporaryDirectory() as tmp:
        _skopeo(
            "copy", "--src-tls-verify=false", f"docker://{repo}:{tag}", f"oci:{tmp}/pulled:{tag}"
        )
        index = json.loads(Path(tmp, "pulled/index.json").read_text())
        assert index["manifests"][0]["digest"] == built_digest()
        pulled = Path(tmp, "pulled/blobs/sha256", built_digest().split(":")[1]).read_bytes()
    local = (LAYOUT / "blobs/sha256" / built_digest().split(":")[1]).read_bytes()
    assert pulled == local

    # From the layout directory this time: same image, nothing to upload.
    second = push.push(LAYOUT, repo, [tag], None)
    assert second == {"digest": built_digest(), "uploaded": 0, "skipped": _BLOBS}


class _TokenProxy(BaseHTTPRequestHandler):
    """Demands a bearer token (from /token, for basic credentials), then forwards."""

    upstream = ""
    user, password, token = "robot", "s3cret", "t0ken"
    scopes: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:  # keep the test log quiet
        pass

    def _reply(self, code: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(code)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        me = f"http://127.0.0.1:{self.server.server_port}"
        if self.path.startswith("/token"):
            basic = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {basic}":
                self._reply(401, {})
                return
            self.scopes.append(urllib.parse.parse_qs(self.path.split("?", 1)[1])["scope"][0])
            self._reply(
                200,
                {"Content-Type": "application/json"},
                json.dumps({"token": self.token}).encode(),
            )
            return
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            challenge = f'Bearer realm="{me}/token",service="test",scope="repository:x:pull"'
            self._reply(401, {"WWW-Authenticate": challenge})
            return
        request = urllib.request.Request(
            self.upstream + self.path, data=body if body else None, method=self.command
        )
        if self.headers.get("Content-Type"):
            request.add_header("Content-Type", self.headers["Content-Type"])
        try:
            with _DIRECT.open(request, timeout=120) as response:
                code, headers, data = response.status, response.headers, response.read()
        except urllib.error.HTTPError as err:
            code, headers, data = err.code, err.headers, err.read()
        keep = {}
        for key in ("Location", "Docker-Content-Digest", "Content-Type"):
            if headers.get(key):
                keep[key] = headers[key].replace(self.upstream, me)
        self._reply(code, keep, data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = _handle


def test_push_gets_a_bearer_token_from_basic_credentials(registry: str) -> None:
    _TokenProxy.upstream = f"http://{registry}"
    _TokenProxy.scopes = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        repo = f"127.0.0.1:{server.server_port}/ggrs/auth"
        with pytest.raises(push.PushError, match="token request"):
            push.push(LAYOUT, repo, ["t"], ("robot", "wrong"))
        stats = push.push(LAYOUT, repo, ["t"], ("robot", "s3cret"))
        assert stats["uploaded"] == _BLOBS
        assert _TokenProxy.scopes == ["repository:ggrs/auth:pull,push"]
    finally:
        server.shutdown()
        server.server_close()
    remote = json.loads(
        _skopeo("inspect", "--tls-verify=false", f"docker://{registry}/ggrs/auth:t")
    )
    assert remote["Digest"] == built_digest()


def test_credentials_come_from_env_or_docker_config(tmp_path: Path) -> None:
    auth = base64.b64encode(b"cfg-user:cfg-pass").decode()
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {"https://ghcr.io": {"auth": auth}}})
    )
    env = {"DOCKER_CONFIG": str(tmp_path)}
    assert push.credentials("ghcr.io", env) == ("cfg-user", "cfg-pass")
    assert push.credentials("other.example", env) is None
    env |= {"REGISTRY_USERNAME": "env-user", "REGISTRY_PASSWORD": "env-pass"}
    assert push.credentials("ghcr.io", env) == ("env-user", "env-pass")
    assert push.credentials("ghcr.io", {}) is None


def test_repository_must_name_host_and_image() -> None:
    assert push.main(["--image", str(LAYOUT), "--repository", "justaname", "--tag", "t"]) == 1
