"""Builds one uncompressed, deterministic image layer (a tar).

Subcommands:
  debs OUT.tar PKG.deb... [options] the distroless-style base from Debian packages,
                                    optionally with precompiled stdlib bytecode
  files OUT.tar MANIFEST [options]  files at chosen paths, optionally pruned,
                                    with stripped shared libraries and with
                                    precompiled bytecode

Standard library only, plus Debian's `strip` (binutils) for `files --strip`;
see tarutil.py for what makes the bytes reproducible.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fnmatch
import io
import multiprocessing
import os
import posixpath
import py_compile
import struct
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from third_party.oci import tarutil
from third_party.oci.tarutil import Entry

# --- debs ---------------------------------------------------------------------

# Debian's usr-merge: these top-level directories are links into usr/.
MERGED = ("bin", "sbin", "lib", "lib64")

# Nobody reads manuals inside the image; copyright files stay (licences).
DOC_DROP = ("usr/share/man/", "usr/share/info/", "usr/share/lintian/", "usr/share/doc/")

NONROOT_UID = 1000
PASSWD = (
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    f"nonroot:x:{NONROOT_UID}:{NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin\n"
)
GROUP = f"root:x:0:\nnobody:x:65534:\nnonroot:x:{NONROOT_UID}:\n"
CA_BUNDLE = "etc/ssl/certs/ca-certificates.crt"


def ar_members(data: bytes) -> dict[str, bytes]:
    """Splits a Unix ar archive (the .deb container) into its members."""
    if not data.startswith(b"!<arch>\n"):
        raise SystemExit("not a Debian package: missing the ar magic")
    members, offset = {}, 8
    while offset + 60 <= len(data):
        header = data[offset : offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        members[name] = data[offset + 60 : offset + 60 + size]
        offset += 60 + size + (size % 2)
    return members


def _member(members: dict[str, bytes], stem: str, deb: Path) -> tarfile.TarFile:
    name = next((n for n in members if n.startswith(stem + ".tar")), None)
    if name is None:
        raise SystemExit(f"{deb}: no {stem}.tar member")
    return tarfile.open(fileobj=io.BytesIO(members[name]), mode="r:*")


def merged_path(name: str) -> str:
    """Applies the usr-merge: `lib/x` → `usr/lib/x`."""
    head = name.split("/", 1)[0]
    return f"usr/{name}" if head in MERGED else name


def _keep(name: str) -> bool:
    if name.startswith("usr/share/doc/") and name.endswith("/copyright"):
        return True
    return not name.startswith(DOC_DROP)


def _add(entries: dict[str, Entry], entry: Entry, origin: str) -> None:
    name = entry.info.name
    old = entries.get(name)
    if old is None:
        entries[name] = entry
        return
    if old.info.isdir() and entry.info.isdir():
        return  # shared directories: the first package's mode wins
    same = old.info.type == entry.info.type and (
        old.info.linkname == entry.info.linkname and old.content() == entry.content()
    )
    if not same:
        raise SystemExit(f"{name}: provided twice with different content (second by {origin})")


def deb_entries(deb: Path, entries: dict[str, Entry]) -> str:
    """Adds a package's files and its dpkg status record; returns its name."""
    members = ar_members(deb.read_bytes())
    control = md5sums = b""
    with _member(members, "control", deb) as tar:
        for info in tar.getmembers():
            base = tarutil.clean_path(info.name)
            if base in ("control", "md5sums"):
                content = tar.extractfile(info).read()
                control, md5sums = (content, md5sums) if base == "control" else (control, content)
    package = next(
        line.split(":", 1)[1].strip()
        for line in control.decode().splitlines()
        if line.startswith("Package:")
    )
    with _member(members, "data", deb) as tar:
        for info in tar.getmembers():
            original = tarutil.clean_path(info.name)
            name = merged_path(original)
            if not name or not _keep(name):
                continue
            info.name = name
            data = None
            if info.issym():
                if name != original and not info.linkname.startswith("/"):
                    # A relative link moved by the usr-merge would point
                    # elsewhere: make it absolute from where the package put it.
                    target = posixpath.join("/" + posixpath.dirname(original), info.linkname)
                    info.linkname = posixpath.normpath(target)
            elif info.islnk():
                info.linkname = merged_path(tarutil.clean_path(info.linkname))
            elif info.isreg():
                data = tar.extractfile(info).read()
            elif not info.isdir():
                raise SystemExit(f"{deb}: unsupported member type for {name}")
            _add(entries, Entry(info, data=data), package)
    # Where scanners (Trivy, grype, syft) look for packages in distroless images.
    entries[f"var/lib/dpkg/status.d/{package}"] = tarutil.regular(
        f"var/lib/dpkg/status.d/{package}", control.rstrip(b"\n") + b"\n"
    )
    if md5sums:
        entries[f"var/lib/dpkg/status.d/{package}.md5sums"] = tarutil.regular(
            f"var/lib/dpkg/status.d/{package}.md5sums", md5sums
        )
    return package


def prune(entries: dict[str, Entry], excludes: list[str]) -> dict[str, list[int]]:
    """Removes the entries whose path matches an fnmatch pattern of `excludes`.

    Returns:
      For each pattern (in order), [entries removed, bytes of file content
      removed]; an entry counts for the first pattern it matches.
    """
    pruned: dict[str, list[int]] = {p: [0, 0] for p in excludes}
    for name in sorted(entries):
        hit = next((p for p in excludes if fnmatch.fnmatchcase(name, p)), None)
        if hit is not None:
            entry = entries.pop(name)
            pruned[hit][0] += 1
            if entry.info.isreg():
                # A file on disk is measured, not read (the site layer prunes ~150 MB).
                size = entry.source.stat().st_size if entry.data is None and entry.source else None
                pruned[hit][1] += size if size is not None else len(entry.content())
    return pruned


def _md5sums_path(line: str) -> str:
    """The (usr-merged) path of one ``md5sums`` line (``<md5>  <path>``)."""
    return merged_path(line.split("  ", 1)[-1].strip())


def _prune_status(entries: dict[str, Entry], packages: list[str]) -> None:
    """Keeps the dpkg status records true to the layer after pruning.

    Scanners (Trivy, grype, syft) list a package from its status record, so a
    package whose files were all pruned would still be reported, with its CVEs,
    for libraries the image does not contain. When nothing but its documentation
    (the copyright file, kept for the packages that ship) is left, the package
    goes with its record and documentation; a package that keeps some files
    keeps its record, with the pruned files taken out of its md5sums.
    """
    for package in packages:
        status = f"var/lib/dpkg/status.d/{package}"
        sums = entries.get(f"{status}.md5sums")
        if sums is None:
            continue
        lines = sums.content().decode().splitlines()
        kept = [ln for ln in lines if _md5sums_path(ln) in entries]
        if not any(not _md5sums_path(ln).startswith("usr/share/doc/") for ln in kept):
            for name in [status, f"{status}.md5sums", *map(_md5sums_path, kept)]:
                entries.pop(name, None)
            entries.pop(f"usr/share/doc/{package}", None)  # its folder, now empty
        elif len(kept) < len(lines):
            entries[f"{status}.md5sums"] = tarutil.regular(
                f"{status}.md5sums", ("\n".join(kept) + "\n").encode()
            )


def _report_lines(pruned: dict[str, list[int]]) -> list[str]:
    return [f"pruned {p}: {n} files, {b} bytes" for p, (n, b) in pruned.items()]


def base_layer(
    out: Path,
    debs: list[Path],
    excludes: list[str] | None = None,
    report: Path | None = None,
    compile_only: tuple[str, set[str]] | None = None,
) -> None:
    """Writes the base layer: the packages plus what their scripts would create.

    Args:
      out: the tar to write.
      debs: the Debian packages to unpack.
      excludes: fnmatch patterns on the (usr-merged) paths of the packages'
        files to leave out; applied before the generated files are added.
      report: optional text file listing what each pattern removed.
      compile_only: (import root in the image, module names): precompile these
        modules (see precompile), as the packages' postinst would have
        (py3compile), but deterministically and for these modules only. Each
        must be left in the layer by `excludes`.
    """
    entries: dict[str, Entry] = {}
    packages = [deb_entries(deb, entries) for deb in sorted(debs)]
    pruned = prune(entries, excludes or [])
    _prune_status(entries, packages)
    compiled = precompile(entries, compile_only) if compile_only is not None else None
    for name in MERGED:
        if name in entries:
            raise SystemExit(f"{name} is a directory in some package; usr-merge failed")
        entries[name] = tarutil.symlink(name, f"usr/{name}")
    # ca-certificates' postinst (update-ca-certificates) concatenates the
    # certificates into one bundle; openssl (excluded) would add the links.
    certs = sorted(
        n for n in entries if n.startswith("usr/share/ca-certificates/") and n.endswith(".crt")
    )
    if not certs:
        raise SystemExit("no CA certificates found (is ca-certificates in the lock?)")
    bundle = b"".join(entries[n].content().rstrip(b"\n") + b"\n" for n in certs)
    entries[CA_BUNDLE] = tarutil.regular(CA_BUNDLE, bundle)
    entries["usr/lib/ssl/cert.pem"] = tarutil.symlink("usr/lib/ssl/cert.pem", "/" + CA_BUNDLE)
    entries["usr/lib/ssl/certs"] = tarutil.symlink("usr/lib/ssl/certs", "/etc/ssl/certs")
    # python3-minimal (which would pull in the python3 package set) makes this link.
    entries["usr/bin/python3"] = tarutil.symlink("usr/bin/python3", "python3.11")
    # base-passwd's job, with the non-root user the image runs as.
    entries["etc/passwd"] = tarutil.regular("etc/passwd", PASSWD.encode())
    entries["etc/group"] = tarutil.regular("etc/group", GROUP.encode())
    entries["tmp"] = tarutil.directory("tmp", 0o1777)
    entries["root"] = tarutil.directory("root", 0o700)
    entries["home"] = tarutil.directory("home", 0o755)
    entries["home/nonroot"] = tarutil.directory("home/nonroot", 0o700, NONROOT_UID, NONROOT_UID)
    size = tarutil.write_tar(out, entries)
    if report:
        lines = [f"kept: {len(entries)} entries, {size} bytes of files"]
        if compiled is not None:
            count, skipped, failed = compiled
            lines.append(f"precompiled: {count} listed modules ({skipped} other .py files not)")
            lines += [f"not compiled: {f}" for f in sorted(failed)]
        lines += _report_lines(pruned)
        report.write_text("\n".join(lines) + "\n")


# --- files --------------------------------------------------------------------


def _compile(job: tuple[str, str]) -> tuple[str, bytes | None, str]:
    source, dest = job
    with tempfile.TemporaryDirectory() as tmp:
        cfile = Path(tmp, "out.pyc")
        try:
            py_compile.compile(
                source,
                cfile=str(cfile),
                dfile="/" + dest,
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
        except py_compile.PyCompileError as err:
            return dest, None, str(err).splitlines()[-1]
        return dest, cfile.read_bytes(), ""


def _compile_batch(batch: list[tuple[str, str]]) -> list[tuple[str, bytes | None, str]]:
    return [_compile(job) for job in batch]


# marshal's output can depend on interpreter state (reference counts of shared
# constants, hash order), so each fixed batch of files is compiled in a fresh
# interpreter with a fixed hash seed: the bytes then depend only on the inputs,
# not on the machine's core count or on which worker finished first.
_BATCHES = 16


def compile_all(jobs: list[tuple[str, str]]) -> list[tuple[str, bytes | None, str]]:
    """Compiles (source, image path) pairs deterministically; see _BATCHES."""
    size = -(-len(jobs) // _BATCHES) or 1
    batches = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    os.environ["PYTHONHASHSEED"] = "0"  # inherited by the spawned workers
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(mp_context=context, max_tasks_per_child=1) as pool:
        return [r for batch in pool.map(_compile_batch, batches) for r in batch]


def _pyc_name(dest: str) -> str:
    tag = sys.implementation.cache_tag
    head, base = posixpath.split(dest)
    return posixpath.join(head, "__pycache__", f"{base[:-3]}.{tag}.pyc")


# --- strip -------------------------------------------------------------------

# Debian's binutils (./bazelw installs it). Its output depends only on the input
# bytes and the binutils version, so the layer digest is the same on every
# machine with the same Debian release; the version goes into the report. Bazel
# does not track this host tool: after a binutils upgrade, `bazel clean` to
# strip again with the new one.
STRIP = "/usr/bin/strip"

_ELF_MAGIC = b"\x7fELF"
_ET_EXEC, _ET_DYN = 2, 3


def is_elf_binary(path: Path) -> bool:
    """Whether `path` is an ELF executable or shared object (not an object or archive)."""
    with path.open("rb") as f:
        head = f.read(18)
    if len(head) < 18 or not head.startswith(_ELF_MAGIC):
        return False
    order = "little" if head[5] == 1 else "big"  # EI_DATA: 1 = little-endian
    return int.from_bytes(head[16:18], order) in (_ET_EXEC, _ET_DYN)


_PT_LOAD = 1


def load_segments(path: Path) -> list[tuple[int, ...]]:
    """The PT_LOAD program headers of a 64-bit ELF file.

    Returns:
      (offset, vaddr, filesz, memsz, flags, align) per loadable segment, in
      table order: what the dynamic loader maps.

    Raises:
      SystemExit: the file is not a 64-bit ELF file (the wheels are x86_64).
    """
    with path.open("rb") as f:
        head = f.read(64)
        if len(head) < 64 or not head.startswith(_ELF_MAGIC) or head[4] != 2:
            raise SystemExit(f"{path}: not a 64-bit ELF file; only x86_64 wheels are supported")
        order = "<" if head[5] == 1 else ">"
        phoff = struct.unpack_from(order + "Q", head, 0x20)[0]
        entsize, count = struct.unpack_from(order + "HH", head, 0x36)
        f.seek(phoff)
        table = f.read(entsize * count)
    segments = []
    for i in range(count):
        kind, flags, offset, vaddr, _, filesz, memsz, align = struct.unpack_from(
            order + "IIQQQQQQ", table, i * entsize
        )
        if kind == _PT_LOAD:
            segments.append((offset, vaddr, filesz, memsz, flags, align))
    return segments


def strip_binaries(entries: dict[str, Entry], workdir: Path) -> tuple[int, int, str, list[str]]:
    """Replaces each ELF binary among `entries` by a copy without unneeded symbols.

    `strip --strip-unneeded` drops the static symbol table and debug sections
    (wheels ship them: 19 MB of libllvmlite.so, 10 MB of libarrow.so); the
    dynamic symbols the loader, `dlsym` and ctypes resolve stay.

    Libraries that auditwheel edited with patchelf (the manylinux wheels'
    bundled libraries: numpy's OpenBLAS and gfortran, numba's tbb/omp pools,
    Pillow's codecs) carry segments that binutils cannot keep in place: strip
    moves or empties them and the loader then rejects the file ("ELF load
    command address/offset not page-aligned"). A stripped copy is therefore
    used only if its loadable segments are exactly the original's; otherwise
    the original is kept and named in the returned list (and the report).

    Args:
      entries: the layer's members; those read from an ELF file get a stripped
        copy as their new source (header and mode unchanged).
      workdir: where the stripped copies are written; must outlive the tar.

    Returns:
      (files stripped, bytes saved, the strip version line, the paths left
      unstripped because strip would have changed their segments).
    """
    if not os.access(STRIP, os.X_OK):
        raise SystemExit(
            f"{STRIP} is missing: install Debian's binutils (./bazelw does), it strips "
            "the shared libraries of the layer"
        )
    version = subprocess.run(
        [STRIP, "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    names = sorted(n for n, e in entries.items() if e.source and is_elf_binary(e.source))

    def strip_one(job: tuple[int, str]) -> int:
        index, name = job
        src = entries[name].source
        dst = workdir / f"{index}.bin"
        res = subprocess.run(
            [STRIP, "--strip-unneeded", "-o", str(dst), str(src)],
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0:
            raise SystemExit(f"strip failed on {name} ({src}): {res.stderr.strip()}")
        if load_segments(dst) != load_segments(src):
            dst.unlink()
            return -1
        entries[name].source = dst
        return src.stat().st_size - dst.stat().st_size

    # Threads only wait on strip processes; results do not depend on their order.
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(strip_one, enumerate(names)))
    unchanged = [name for name, saved in zip(names, results, strict=True) if saved < 0]
    saved = sum(r for r in results if r >= 0)
    return len(names) - len(unchanged), saved, version, unchanged


def module_name(dest: str, root: str) -> str | None:
    """The module a `.py` file at image path `dest` is imported as from `root`.

    `root/a/b/__init__.py` → `a.b`, `root/a/b/c.py` → `a.b.c`; None for files
    outside `root` or not ending in `.py`.
    """
    prefix = root.strip("/") + "/"
    if not dest.startswith(prefix) or not dest.endswith(".py"):
        return None
    parts = dest[len(prefix) : -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or None


def _module_files(entries: dict[str, Entry], root: str) -> dict[str, list[str]]:
    """Module name → image paths that provide it (source or extension module)."""
    found: dict[str, list[str]] = {}
    prefix = root.strip("/") + "/"
    for dest in entries:
        name = module_name(dest, root)
        if name is None and dest.startswith(prefix) and dest.endswith(".so"):
            # a/b/c.cpython-311-x86_64-linux-gnu.so or c.abi3.so → a.b.c
            head, _, base = dest[len(prefix) :].rpartition("/")
            stem = base.split(".", 1)[0]
            name = ".".join([*head.split("/"), stem]) if head else stem
        if name is not None:
            found.setdefault(name, []).append(dest)
    return found


def read_module_list(path: Path) -> set[str]:
    """Module names of a list file: one per line, `#` comments and blank lines skipped."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def precompile(
    entries: dict[str, Entry], compile_only: tuple[str, set[str]] | None
) -> tuple[int, int, list[str]]:
    """Adds an unchecked-hash `.pyc` next to each `.py` entry (or the listed ones).

    The bytecode is compiled for the file's image path (tracebacks name it)
    and is never checked against the source, so the image needs no writable
    __pycache__ and the bytes hold no timestamps; see compile_all for why they
    are the same on every machine.

    Args:
      entries: the layer's members; regular `.py` files are compiled from
        their `source` path, or from their in-memory `data` (written to a
        temporary file first: py_compile reads files).
      compile_only: (import root in the image, module names): only these
        modules are compiled. Every name must be provided by a file of the
        layer (a `.py` or an extension module), so an exclude pattern that
        removes a listed module fails the build.

    Returns:
      (.pyc files added, .py files skipped as not listed, "path: error" for
      each file that did not compile).

    Raises:
      SystemExit: a listed module is not in the layer.
    """
    names = [n for n, e in entries.items() if n.endswith(".py") and e.info.isreg()]
    if compile_only is not None:
        root, wanted = compile_only
        missing = sorted(wanted - set(_module_files(entries, root)))
        if missing:
            raise SystemExit(
                f"{len(missing)} listed modules are not in the layer (first: "
                f"{', '.join(missing[:5])}): an exclude pattern removed them or the "
                "dependencies changed; fix the pattern or regenerate the module list"
            )
        kept = [n for n in names if module_name(n, root) in wanted]
        skipped, names = len(names) - len(kept), kept
    else:
        skipped = 0
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="layer-compile-") as tmp:
        jobs = []
        for name in names:
            source = entries[name].source
            if source is None:
                source = Path(tmp, name)
                source.parent.mkdir(parents=True, exist_ok=True)
                source.write_bytes(entries[name].content())
            jobs.append((str(source), name))
        # Sorted by source: compile_all's batches, and so the bytes, depend on it.
        results = compile_all(sorted(jobs))
    for dest, pyc, error in results:
        if pyc is None:
            failed.append(f"{dest}: {error}")
        else:
            pyc_path = _pyc_name(dest)
            entries[pyc_path] = tarutil.regular(pyc_path, pyc)
    return len(names) - len(failed), skipped, failed


def files_layer(
    out: Path,
    manifest: Path,
    excludes: list[str],
    compile_py: bool,
    report: Path | None,
    strip: bool = False,
    compile_only: tuple[str, set[str]] | None = None,
) -> None:
    """Writes a layer of the files listed in `manifest` (`src<TAB>dest` lines).

    Args:
      out: the tar to write.
      manifest: lines of source path and destination path inside the image.
      excludes: fnmatch patterns on the destination path; matching files are
        left out (the report lists how much each pattern removed).
      compile_py: replace any shipped bytecode with `.pyc` files compiled for
        their image path (unchecked-hash: no timestamps, never re-validated).
      report: optional text file with the pruning and size summary.
      strip: strip the ELF executables and shared libraries (see
        strip_binaries).
      compile_only: (import root in the image, module names): with
        compile_py, only these modules get a `.pyc`; the others are compiled
        in memory if ever imported. Every name must be provided by a file of
        the layer (a `.py` or an extension module), so an exclude pattern that
        removes a listed module fails the build.
    """
    entries: dict[str, Entry] = {}
    for line in manifest.read_text().splitlines():
        src, dest = line.split("\t")
        dest = tarutil.clean_path(dest)
        if compile_py and ("/__pycache__/" in dest or dest.endswith(".pyc")):
            continue  # compiled again below, for the image's paths
        mode = 0o755 if os.access(src, os.X_OK) else 0o644
        entries[dest] = Entry(tarutil.make_info(dest, mode=mode), source=Path(src))
    pruned = prune(entries, excludes)
    failed: list[str] = []
    skipped = 0
    if compile_py:
        _, skipped, failed = precompile(entries, compile_only)
    with tempfile.TemporaryDirectory(prefix="layer-strip-") as workdir:
        stripped = strip_binaries(entries, Path(workdir)) if strip else None
        size = tarutil.write_tar(out, entries)
    if report:
        lines = [f"kept: {len(entries)} entries, {size} bytes of files"]
        if stripped:
            count, saved, version, unchanged = stripped
            lines.append(f"stripped: {count} ELF files, {saved} bytes saved ({version})")
            lines += [f"not stripped (strip would move its segments): {n}" for n in unchanged]
        if compile_only is not None:
            lines.append(f"not precompiled (not in the module list): {skipped} .py files")
        lines += _report_lines(pruned)
        lines += [f"not compiled: {f}" for f in sorted(failed)]
        report.write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    debs = sub.add_parser("debs")
    debs.add_argument("out", type=Path)
    debs.add_argument("debs", type=Path, nargs="+")
    debs.add_argument("--exclude", action="append", default=[])
    debs.add_argument("--report", type=Path)
    debs.add_argument("--compile-only", type=Path, help="file of module names to precompile")
    debs.add_argument("--module-root", help="image directory the module names are relative to")
    files = sub.add_parser("files")
    files.add_argument("out", type=Path)
    files.add_argument("manifest", type=Path)
    files.add_argument("--exclude", action="append", default=[])
    files.add_argument("--compile", action="store_true")
    files.add_argument("--strip", action="store_true")
    files.add_argument("--compile-only", type=Path, help="file of module names to precompile")
    files.add_argument("--module-root", help="image directory the module names are relative to")
    files.add_argument("--report", type=Path)
    args = parser.parse_args(argv)
    if (args.compile_only is None) != (args.module_root is None):
        parser.error("--compile-only and --module-root go together")
    only = None
    if args.compile_only is not None:
        only = (args.module_root, read_module_list(args.compile_only))
    if args.cmd == "debs":
        base_layer(args.out, args.debs, args.exclude, args.report, only)
    else:
        files_layer(
            args.out, args.manifest, args.exclude, args.compile, args.report, args.strip, only
        )


if __name__ == "__main__":
    main(sys.argv[1:])
