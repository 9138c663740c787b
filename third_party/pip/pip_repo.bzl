"""Repository rule: a hash-pinned pip lock file → one Bazel Python library.

Runs `pip install --require-hashes --no-deps --only-binary=:all:` with the
pinned interpreter into `site/`, precompiles bytecode deterministically, and
exposes `@<name>//:site` (a py_library adding `site/` to sys.path) and
`@<name>//:site_files` (every installed file, for image layers).

pip runs with `--isolated`, so a developer's pip.conf, PIP_* variables and
extra indexes cannot change what is installed: only PyPI and the sha256 pins.
"""

_BUILD = """\
package(default_visibility = ["//visibility:public"])

_EXCLUDE = ["site/**/* *", "site/**/*.dist-info/RECORD", "site/**/*.dist-info/INSTALLER"]

py_library(
    name = "site",
    srcs = glob(["site/**/*.py"], exclude = _EXCLUDE),
    data = glob(["site/**"], exclude = _EXCLUDE + ["site/**/*.py"]),
    imports = ["site"],
)

filegroup(
    name = "site_files",
    srcs = glob(["site/**"], exclude = _EXCLUDE),
)
"""

def _pip_repo_impl(rctx):
    python = rctx.attr.python
    lock = rctx.path(rctx.attr.lock)
    site = rctx.path("site")
    rctx.report_progress("pip install from %s" % rctx.attr.lock.name)
    res = rctx.execute(
        [
            python,
            "-m",
            "pip",
            "install",
            "--isolated",
            "--no-input",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            "--require-hashes",
            "--no-deps",
            "--only-binary=:all:",
            "--no-compile",
            "--index-url",
            rctx.attr.index_url,
            "--target",
            str(site),
            "-r",
            str(lock),
        ],
        timeout = 1800,
        quiet = True,
    )
    if res.return_code != 0:
        fail("pip install of %s failed (exit %d). Is PyPI reachable and %s able to run pip " %
             (rctx.attr.lock, res.return_code, python) +
             "(apt-get install python3-pip)?\n%s\n%s" % (res.stdout, res.stderr))

    # A BUILD or WORKSPACE file inside a wheel would split the glob into a
    # package of its own; no wheel needs them at run time.
    found = rctx.execute(["find", str(site), "-name", "BUILD", "-o", "-name", "BUILD.bazel", "-o", "-name", "WORKSPACE"])
    for path in found.stdout.splitlines():
        if path:
            rctx.execute(["mv", path, path + ".from_wheel"])

    # Bytecode compiled once here (deterministic: hash-based, no timestamps)
    # saves every test and binary from compiling numpy/pandas at each start.
    res = rctx.execute(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(site)],
        timeout = 900,
        quiet = True,
    )
    if res.return_code != 0:
        fail("compileall in %s failed:\n%s%s" % (site, res.stdout, res.stderr))
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD.bazel", _BUILD)

pip_repo = repository_rule(
    implementation = _pip_repo_impl,
    attrs = {
        "lock": attr.label(mandatory = True, allow_single_file = True, doc = "pip-compile output with --generate-hashes"),
        "python": attr.string(default = "/usr/bin/python3", doc = "the interpreter the wheels are for"),
        "index_url": attr.string(default = "https://pypi.org/simple"),
    },
    doc = "Installs a hash-pinned lock of wheels into a Bazel repository.",
)
