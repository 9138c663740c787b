"""Pushes an OCI image (layout directory or its tarball) to a registry.

    bazel run //docker:push -- --repository ghcr.io/OWNER/NAME --tag 1.2.3

Speaks the OCI distribution API with the standard library only: `HEAD` each
blob (skipped when the registry has it), `POST` + `PUT` to upload the missing
ones, then `PUT` the manifest under the tag. Registries that answer 401 get
what they ask for in `WWW-Authenticate`: a bearer token from their token
endpoint (ghcr.io, Docker Hub, ...) or basic credentials.

Credentials never come from flags (they would land in shell history and CI
logs): `REGISTRY_USERNAME` and `REGISTRY_PASSWORD`, else the `auths` entry for
the host in `$DOCKER_CONFIG/config.json` or `~/.docker/config.json` (what
`docker login` writes). Plain http is used only for loopback registries.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
ACCEPT = "application/vnd.oci.image.manifest.v1+json"


class PushError(Exception):
    """A push that cannot go on, with a message for the user."""


class ImageSource:
    """Reads index.json and blobs from an OCI layout directory or tarball."""

    def __init__(self, path: Path):
        self.path = path
        self._tar = None if path.is_dir() else tarfile.open(path)  # noqa: SIM115

    def close(self) -> None:
        """Closes the tarball, if any."""
        if self._tar is not None:
            self._tar.close()

    def read(self, name: str) -> bytes:
        """Returns a file of the layout (e.g. `index.json`)."""
        with self.open(name) as f:
            return f.read()

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """Opens a file of the layout for reading."""
        if self._tar is None:
            with (self.path / name).open("rb") as f:
                yield f
        else:
            f = self._tar.extractfile(name)
            if f is None:
                raise PushError(f"{self.path}: no {name}")
            yield f

    def blob_name(self, digest: str) -> str:
        """The layout path of a blob."""
        algorithm, hexdigest = digest.split(":", 1)
        return f"blobs/{algorithm}/{hexdigest}"


def credentials(host: str, environ: dict[str, str] | None = None) -> tuple[str, str] | None:
    """Finds registry credentials for `host` (environment, then Docker config).

    Args:
      host: registry host (and port), e.g. `ghcr.io`.
      environ: the environment to read (defaults to os.environ).

    Returns:
      (username, password), or None when there are none.
    """
    env = os.environ if environ is None else environ
    if env.get("REGISTRY_USERNAME") and env.get("REGISTRY_PASSWORD"):
        return env["REGISTRY_USERNAME"], env["REGISTRY_PASSWORD"]
    folder = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else None
    if folder is None and env.get("HOME"):
        folder = Path(env["HOME"]) / ".docker"
    config = folder / "config.json" if folder else None
    if config is None or not config.is_file():
        return None
    auths = json.loads(config.read_text()).get("auths", {})
    for key, entry in auths.items():
        if urllib.parse.urlsplit(key if "//" in key else "//" + key).netloc != host:
            continue
        if entry.get("auth"):
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            return user, password
        if entry.get("username") and entry.get("password"):
            return entry["username"], entry["password"]
    return None


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """Splits `Bearer realm="...",service="..."` into scheme and parameters."""
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


class Registry:
    """A repository on a registry, with the authentication it asks for."""

    def __init__(self, repository: str, creds: tuple[str, str] | None):
        host, _, self.name = repository.partition("/")
        if not self.name:
            raise PushError(f"--repository {repository!r}: expected HOST/NAME")
        self.host = host
        scheme = "http" if host.split(":")[0] in LOOPBACK or host.startswith("[::1]") else "https"
        self.base = f"{scheme}://{host}"
        self.creds = creds
        self.auth: str | None = None
        # A loopback registry is never behind the proxy the environment names.
        handlers = [urllib.request.ProxyHandler({})] if scheme == "http" else []
        self.opener = urllib.request.build_opener(*handlers)

    def _authenticate(self, challenge: str) -> None:
        scheme, params = parse_challenge(challenge)
        if scheme == "basic":
            if not self.creds:
                raise PushError(f"{self.host} wants credentials: set REGISTRY_USERNAME/PASSWORD")
            token = base64.b64encode(":".join(self.creds).encode()).decode()
            self.auth = f"Basic {token}"
            return
        if scheme != "bearer" or "realm" not in params:
            raise PushError(f"{self.host}: unsupported authentication {challenge!r}")
        query = {"service": params.get("service", self.host)}
        # Ask for push rights on our repository whatever the challenge named.
        query["scope"] = f"repository:{self.name}:pull,push"
        request = urllib.request.Request(f"{params['realm']}?{urllib.parse.urlencode(query)}")
        if self.creds:
            basic = base64.b64encode(":".join(self.creds).encode()).decode()
            request.add_header("Authorization", f"Basic {basic}")
        try:
            with self.opener.open(request, timeout=60) as response:
                body = json.load(response)
        except urllib.error.HTTPError as err:
            raise PushError(f"token request to {params['realm']} failed: HTTP {err.code}") from err
        token = body.get("token") or body.get("access_token")
        if not token:
            raise PushError(f"{params['realm']} returned no token")
        self.auth = f"Bearer {token}"

    def request(
        self,
        method: str,
        url: str,
        body: bytes | IO[bytes] | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202),
    ) -> tuple[int, dict[str, str], bytes]:
        """Sends a request, authenticating once on 401; returns status, headers, body."""
        url = urllib.parse.urljoin(self.base, url)
        for attempt in range(2):
            request = urllib.request.Request(url, data=body, method=method)
            for key, value in (headers or {}).items():
                request.add_header(key, value)
            if self.auth:
                request.add_header("Authorization", self.auth)
            try:
                with self.opener.open(request, timeout=600) as response:
                    return response.status, dict(response.headers), response.read()
            except urllib.error.HTTPError as err:
                challenge = err.headers.get("WWW-Authenticate")
                if err.code == 401 and challenge and attempt == 0:
                    self._authenticate(challenge)
                    if hasattr(body, "seek"):
                        body.seek(0)
                    continue
                if err.code in ok or (method == "HEAD" and err.code == 404):
                    return err.code, dict(err.headers), b""
                detail = err.read().decode(errors="replace")[:500]
                raise PushError(f"{method} {url}: HTTP {err.code} {detail}") from err
        raise PushError(f"{method} {url}: still unauthorised after authenticating")

    def has_blob(self, digest: str) -> bool:
        """Whether the repository already holds the blob."""
        status, _, _ = self.request("HEAD", f"/v2/{self.name}/blobs/{digest}")
        return status == 200

    def upload_blob(self, digest: str, size: int, data: IO[bytes]) -> None:
        """Uploads one blob in a single PUT (monolithic upload)."""
        _, headers, _ = self.request("POST", f"/v2/{self.name}/blobs/uploads/", body=b"")
        location = headers.get("Location")
        if not location:
            raise PushError("registry gave no upload location")
        sep = "&" if "?" in location else "?"
        self.request(
            "PUT",
            f"{location}{sep}digest={urllib.parse.quote(digest)}",
            body=data,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )

    def put_manifest(self, tag: str, manifest: bytes, media_type: str) -> str:
        """Uploads the manifest under `tag`; returns the digest the registry reports."""
        _, headers, _ = self.request(
            "PUT",
            f"/v2/{self.name}/manifests/{tag}",
            body=manifest,
            headers={"Content-Type": media_type},
        )
        return headers.get("Docker-Content-Digest", "")


def push(image: Path, repository: str, tags: list[str], creds: tuple[str, str] | None) -> dict:
    """Pushes the image's single manifest under each tag.

    Args:
      image: OCI layout directory or its tarball.
      repository: `HOST/NAME`.
      tags: tags to set (the blobs are uploaded once).
      creds: registry credentials, if any.

    Returns:
      {"digest": manifest digest, "uploaded": n, "skipped": n}.
    """
    source = ImageSource(image)
    try:
        return _push(source, image, repository, tags, creds)
    finally:
        source.close()


def _push(
    source: ImageSource,
    image: Path,
    repository: str,
    tags: list[str],
    creds: tuple[str, str] | None,
) -> dict:
    index = json.loads(source.read("index.json"))
    if len(index.get("manifests", [])) != 1:
        raise PushError(f"{image}: expected exactly one manifest in index.json")
    desc = index["manifests"][0]
    manifest = source.read(source.blob_name(desc["digest"]))
    if f"sha256:{hashlib.sha256(manifest).hexdigest()}" != desc["digest"]:
        raise PushError(f"{image}: manifest does not match its digest")
    parsed = json.loads(manifest)
    registry = Registry(repository, creds)
    stats = {"digest": desc["digest"], "uploaded": 0, "skipped": 0}
    for blob in [parsed["config"], *parsed["layers"]]:
        digest, size = blob["digest"], blob["size"]
        if registry.has_blob(digest):
            stats["skipped"] += 1
            print(f"exists   {digest} ({size} bytes)")
            continue
        with source.open(source.blob_name(digest)) as data:
            registry.upload_blob(digest, size, data)
        stats["uploaded"] += 1
        print(f"uploaded {digest} ({size} bytes)")
    for tag in tags:
        reported = registry.put_manifest(tag, manifest, desc.get("mediaType", ACCEPT))
        if reported and reported != desc["digest"]:
            raise PushError(f"registry stored {reported}, expected {desc['digest']}")
        print(f"pushed   {repository}:{tag}@{desc['digest']}")
    return stats


def main(argv: list[str]) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, required=True, help="OCI layout dir or tarball")
    parser.add_argument("--repository", required=True, help="HOST/NAME, e.g. ghcr.io/o/ggrs")
    parser.add_argument("--tag", action="append", required=True, help="repeat for several tags")
    args = parser.parse_args(argv)
    host = args.repository.split("/", 1)[0]
    try:
        push(args.image, args.repository, args.tag, credentials(host))
    except PushError as err:
        print(f"push: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
