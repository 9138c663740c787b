"""What the ggrs images share: //docker:image and its GPU variant //docker/gpu:image.

`ggrs_image` is `oci_image` with the runtime config both images must agree on
(entrypoint, user, paths, environment, OCI labels); a variant passes only its
title, description, layers, tag and the environment it adds.
"""

load("//third_party/oci:defs.bzl", "oci_image")

# Where the runtime wheels (and the fonts package) and the ggrs package live.
SITE = "/opt/ggrs/site-packages"

APP = "/opt/ggrs/app"

ENTRYPOINT = [
    "/usr/bin/python3.11",
    "-m",
    "ggrs.operator",
]

ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/home/nonroot",
    "PYTHONPATH": APP + ":" + SITE,
    # The layers carry precompiled bytecode (the site-packages and app layers
    # for their modules, the base layer for the standard-library modules ggrs
    # loads); the code is read-only anyway.
    "PYTHONDONTWRITEBYTECODE": "1",
    # Log lines reach Tercen as they happen, also when the process is killed.
    "PYTHONUNBUFFERED": "1",
    # jemalloc returns the big numpy/arrow buffers of a render to the
    # system without the fragmentation glibc malloc shows with many threads.
    "LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    # Tuned for a process that renders one task and exits: no background
    # purging thread (it would only add a thread to a short process);
    # freed pages are kept 10 s for reuse by the next panel's temporaries
    # rather than returned and faulted in again; muzzy decay 0 skips the
    # second (MADV_FREE) purge stage.
    "MALLOC_CONF": "background_thread:false,dirty_decay_ms:10000,muzzy_decay_ms:0",
    # OpenSSL also finds it through /usr/lib/ssl/cert.pem; set explicitly
    # so no library falls back to an empty store.
    "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
    # The code's own __pycache__ is read-only: numba caches kernels here.
    # No cache is baked into the image: datashader's kernels are built
    # per call and cannot be cached (datashader issue #1318), and numba
    # keys a cache entry by the CPU model and features it compiled for
    # (and by the source file's mtime and size), so a cache compiled on
    # the build machine would make the layer's bytes depend on that
    # machine's CPU (no more same digest everywhere) and be used only on an
    # identical CPU, unless NUMBA_CPU_NAME=generic were forced at build and
    # run time, which gives up AVX in every kernel. ggrs's own kernel
    # (ggrs/aggregate/numba_backend.py) is compiled once per container,
    # ~1 s per column-dtype combination, and then reused from here.
    "NUMBA_CACHE_DIR": "/tmp/numba-cache",
}

SOURCE = "https://github.com/tercen/ggrs"

def ggrs_image(name, title, description, layers, tag, extra_env = {}, **kwargs):
    """An image of ggrs's operator: `oci_image` with the shared runtime config.

    Args:
      name: the target name (outputs `<name>_layout/`, `<name>.oci.tar`,
        `<name>.digest`).
      title: the org.opencontainers.image.title label.
      description: the org.opencontainers.image.description label.
      layers: the layer targets, bottom first.
      tag: org.opencontainers.image.ref.name; `{version}` is ggrs's version.
      extra_env: variables added after ENV (a name already in ENV fails:
        every image must run ggrs the same way).
      **kwargs: passed on to oci_image (tags, visibility, ...).
    """
    env = dict(ENV)
    for key, value in extra_env.items():
        if key in env:
            fail("%s: extra_env must not override %s (shared by every ggrs image)" % (name, key))
        env[key] = value
    oci_image(
        name = name,
        entrypoint = ENTRYPOINT,
        env = env,
        labels = {
            "org.opencontainers.image.title": title,
            "org.opencontainers.image.description": description,
            "org.opencontainers.image.version": "{version}",
            "org.opencontainers.image.source": SOURCE,
        },
        layers = layers,
        tag = tag,
        user = "1000:1000",
        # The single place the version lives.
        version_file = "//ggrs:__init__.py",
        workdir = "/opt/ggrs",
        **kwargs
    )
