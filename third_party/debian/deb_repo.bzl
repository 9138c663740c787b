"""Repository rule: the Debian packages of debian_lock.json, fetched by sha256.

Each .deb goes through Bazel's downloader (so it lands in the repository cache
and a `--distdir` can serve it offline) and must match the sha256 that
resolve.py took from Debian's signed indexes. The archive drops superseded
versions, so a 404 here means: re-run resolve.py and commit the new lock, or
list a mirror that still has the files in `mirrors`.
"""

def _deb_repo_impl(rctx):
    lock = json.decode(rctx.read(rctx.attr.lock))
    names = []
    for pkg in lock["packages"]:
        url = pkg["url"]
        path = url.split("/pool/", 1)[1] if "/pool/" in url else None

        # https first; plain http is as safe here (sha256-pinned) and gets
        # through proxies that break TLS.
        urls = [url, url.replace("https://", "http://", 1)]
        if path:
            urls += [m.rstrip("/") + "/pool/" + path for m in rctx.attr.mirrors]
        rctx.report_progress("fetching %s %s" % (pkg["name"], pkg["version"]))
        rctx.download(url = urls, output = "debs/%s.deb" % pkg["name"], sha256 = pkg["sha256"])
        names.append(pkg["name"])
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

# Every package of the lock, for deb_layer (//third_party/oci:defs.bzl).
filegroup(
    name = "debs",
    srcs = [%s],
)
""" % ", ".join(['"debs/%s.deb"' % n for n in sorted(names)]))

deb_repo = repository_rule(
    implementation = _deb_repo_impl,
    attrs = {
        "lock": attr.label(mandatory = True, allow_single_file = [".json"], doc = "resolve.py's output"),
        "mirrors": attr.string_list(doc = "extra archive roots (the part before /pool/), tried last"),
    },
    doc = "Fetches the .deb files pinned in a debian_lock.json.",
)
